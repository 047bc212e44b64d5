"""Live mode end to end: sales stream through the API to two orders workers while
``oaken up`` keeps the warehouse current; every micro-batch passes its dbt tests, and
once the stream stops the warehouse equals the database to the cent."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import func, select

from oaken.db import models
from oaken.money import to_cents
from oaken.warehouse.publish import published_path
from tests.support.chaos import Clients, Platform, wait_until_settled
from tests.support.processes import stop

INTERVAL = 10  # seconds between micro-batches


def _live(platform: Platform) -> dict:
    status = platform.status()["analytics"]
    assert status is not None, platform.log()
    return status


def _failures(platform: Platform) -> list[str]:
    """The live loop's own lines about failed runs (its status keeps only the last)."""
    path = platform.home / "logs" / "analytics.log"
    text = path.read_text(errors="replace") if path.exists() else ""
    return [line for line in text.splitlines() if " failed" in line]


def _database_totals(platform: Platform) -> dict[str, object]:
    with platform.engine.connect() as connection:
        lines = models.journal_lines.c
        return {
            "sales": connection.execute(select(func.count()).select_from(models.sales))
            .scalar_one(),
            "sale_dollars": to_cents(connection.execute(
                select(func.coalesce(func.sum(models.sales.c.sale_dollars), 0))).scalar_one()),
            "debits": to_cents(connection.execute(
                select(func.coalesce(func.sum(lines.debit), 0))).scalar_one()),
            "credits": to_cents(connection.execute(
                select(func.coalesce(func.sum(lines.credit), 0))).scalar_one()),
        }


def _warehouse_totals(home: Path) -> dict[str, object]:
    """From the copy the dashboard reads (the live file may be mid-write)."""
    with duckdb.connect(str(published_path(home / "warehouse.duckdb")),
                        read_only=True) as warehouse:
        sales, dollars = warehouse.execute(
            "select count(*), coalesce(sum(sale_dollars), 0) from analytics.fct_sales"
        ).fetchone() or (0, 0)
        debits, credits = warehouse.execute(
            "select coalesce(sum(debits), 0), coalesce(sum(credits), 0) "
            "from analytics.mart_dashboard_ledger").fetchone() or (0, 0)
    return {"sales": int(sales), "sale_dollars": to_cents(Decimal(dollars)),
            "debits": to_cents(Decimal(debits)), "credits": to_cents(Decimal(credits))}


@pytest.mark.slow
def test_live_mode_keeps_the_warehouse_equal_to_the_database(
    database_url: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    platform = Platform(home, database_url, OAKEN_ANALYTICS_INTERVAL_SECONDS=str(INTERVAL),
                        OAKEN_ANALYTICS_HEAVY_INTERVAL_SECONDS="3600")
    second_orders: subprocess.Popen[bytes] | None = None
    try:
        platform.start()
        with open(home / "orders-2.log", "ab") as out:  # a second orders worker
            second_orders = subprocess.Popen(
                [sys.executable, "-m", "oaken", "worker", "orders"], env=platform.env,
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        clients = Clients(platform.url, sales=3000, rate=50, threads=2)
        stream = threading.Thread(target=clients.run)
        stream.start()
        stream.join(timeout=300)
        assert not stream.is_alive()
        assert not clients.unexpected(), clients.answers
        accepted = len(clients.accepted)
        assert accepted > 0, clients.answers
        wait_until_settled(platform, accepted, timeout=300)
        database = _database_totals(platform)
        settled = time.monotonic()
        runs_then = _live(platform)["runs"]
        # the micro-batch under way may have read the database before it settled: the
        # next one began after, and must bring everything
        deadline = settled + 600
        while (live := _live(platform))["runs"] < runs_then + 2:
            assert time.monotonic() < deadline, (live, platform.log())
            time.sleep(1)
        caught_up = time.monotonic() - settled
        live = _live(platform)
        # dbt's tests passed in every run (a string: pytest shortens a dict's repr)
        assert live["failed_runs"] == 0, \
            f"{live['last_failure']}; the loop's log: {_failures(platform)}"
        assert live["runs"] - live["full_runs"] >= 1, live  # micro-batches, not only full
        assert _warehouse_totals(home) == database, (live, database)
        assert live["data_through"] is not None and live["lag_seconds"] is not None
        print(f"caught up {caught_up:.0f}s after the database settled; live: {live}")
    finally:
        if second_orders is not None:
            stop(second_orders)
        platform.stop()


@pytest.mark.slow
def test_live_mode_waits_for_the_first_sale_then_builds_the_whole_warehouse(
    tmp_path: Path,
) -> None:
    """A new platform has no sale yet: live mode waits (no run, so no failed run), and
    its first run once sales arrive is the whole job, which the micro-batches after it
    test against (before, every run failed: the first on missing raw tables, the rest
    on models only the whole job builds)."""
    from oaken.analytics.live import read_state
    from oaken.db.engine import make_engine
    from oaken.db.migrate import migrate
    from oaken.ingest import import_records
    from oaken.settings import Settings
    from oaken.sources.generator import iter_sales

    home = tmp_path / "home"
    home.mkdir()
    url = f"sqlite:///{home / 'oaken.db'}"
    migrate(url)
    engine = make_engine(url)
    settings = Settings(home=home, database_url=url, warehouse="")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("OAKEN_")},
           "OAKEN_HOME": str(home), "OAKEN_DATABASE_URL": url,
           "OAKEN_ANALYTICS_INTERVAL_SECONDS": "2"}
    with open(home / "live.out", "ab") as out:
        loop = subprocess.Popen([sys.executable, "-m", "oaken", "analytics", "--live"],
                                env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while (state := read_state(settings)) is None:  # written when the loop starts
            assert loop.poll() is None and time.monotonic() < deadline, \
                (home / "live.out").read_text()
            time.sleep(0.5)
        time.sleep(12)  # several intervals with no sale
        state = read_state(settings)
        assert state is not None and (state.runs, state.failed_runs) == (0, 0), state
        assert import_records(engine, iter_sales(300, seed=11, style="compact")).imported == 300
        deadline = time.monotonic() + 400
        while (state := read_state(settings)) is None or state.runs - state.heavy_runs < 1:
            assert loop.poll() is None and time.monotonic() < deadline, \
                (state, (home / "live.out").read_text()[-3000:])
            time.sleep(1)
        assert state.failed_runs == 0, f"{state.last_failure}"
        assert state.heavy_runs == 1, state  # the first run built everything
        with duckdb.connect(str(published_path(home / "warehouse.duckdb")),
                            read_only=True) as warehouse:
            row = warehouse.execute("select count(*) from analytics.fct_sales").fetchone()
        assert row is not None and row[0] == 300
    finally:
        engine.dispose()
        stop(loop)
