"""``oaken demo``: the main job, start to finish, on the embedded defaults.

1. start the whole stack (``oaken up``) in the background and wait for ``/healthz``;
2. send N synthetic sales to the ingest API as NDJSON, in chunks;
3. wait until every new sale has its shipment and both ledger entries;
4. run the analytics (extract/load, dbt, forecasts) when that part is installed;
5. print a summary that reconciles database, ledger and warehouse, then stop.

With the embedded SQLite database the demo starts from a fresh one, so its numbers
are the numbers of this run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from decimal import Decimal
from itertools import islice
from pathlib import Path

import httpx
import orjson
from rich.console import Console
from rich.table import Table

from oaken.db.engine import make_engine
from oaken.errors import OakenError
from oaken.ops.runtime import oaken_command
from oaken.ops.status import database_status
from oaken.settings import Settings

CHUNK = 2000


def _fresh_embedded_files(settings: Settings) -> None:
    default_db = f"sqlite:///{settings.home / 'oaken.db'}"
    if settings.database_url != default_db:
        return
    for name in ("oaken.db", "oaken.db-wal", "oaken.db-shm"):
        (settings.home / name).unlink(missing_ok=True)
    # records the API journaled for the old database belong to it, not to the new one
    shutil.rmtree(settings.home / "journal", ignore_errors=True)


def _start_stack(settings: Settings) -> subprocess.Popen[bytes]:
    logs = Path(settings.home) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / "up.log", "ab") as log:
        return subprocess.Popen([*oaken_command(), "up"], stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL,
                                # the demo runs analytics itself once the stream is in:
                                # no live micro-batches competing for the warehouse
                                env={**os.environ, "OAKEN_ANALYTICS_INTERVAL_SECONDS": "0"})


def _wait_healthy(client: httpx.Client, stack: subprocess.Popen[bytes], timeout: float,
                  logs: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack.poll() is not None:
            raise OakenError(f"`oaken up` exited early; see {logs / 'up.log'}")
        try:
            if client.get("/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise OakenError(f"the API did not become healthy within {timeout:.0f}s")


def run_demo(settings: Settings, *, sales: int, serve: bool, analytics: bool,
             console: Console) -> None:
    from oaken.console import progress_bar
    from oaken.sources.generator import iter_sales

    settings.home.mkdir(parents=True, exist_ok=True)
    _fresh_embedded_files(settings)
    stack = _start_stack(settings)
    base = f"http://{settings.api_host}:{settings.api_port}"
    headers = {"content-type": "application/x-ndjson"}
    if settings.api_token:
        headers["authorization"] = f"Bearer {settings.api_token.get_secret_value()}"
    try:
        with httpx.Client(base_url=base, timeout=60, headers=headers) as client:
            _wait_healthy(client, stack, timeout=90, logs=Path(settings.home) / "logs")
            engine = make_engine(settings.database_url)
            before, _, _ = database_status(engine)
            records = iter_sales(sales, style="compact")
            accepted = rejected = 0
            started = time.perf_counter()
            with progress_bar() as bar:
                task = bar.add_task("send to API", total=sales, rate="")
                while chunk := list(islice(records, CHUNK)):
                    body = b"\n".join(orjson.dumps(r) for r in chunk)
                    response = client.post("/v1/sales", content=body)
                    if response.status_code not in (202, 422):
                        raise OakenError(f"API answered {response.status_code}: "
                                         f"{response.text[:200]}")
                    result = response.json()
                    accepted += result["accepted"]
                    rejected += len(result["rejected"])
                    bar.update(task, advance=len(chunk))
                sent_seconds = time.perf_counter() - started
                counts = _wait_for_ledger(settings, engine, before, accepted, bar)
            drained_seconds = time.perf_counter() - started
        report = None
        if analytics:
            report = _run_analytics(settings, console)
        _summary(settings, engine, console, sales=sales, accepted=accepted, rejected=rejected,
                 sent_seconds=sent_seconds, drained_seconds=drained_seconds, counts=counts,
                 analytics=report)
        if serve:
            _serve(settings, stack, console)
    finally:
        if stack.poll() is None:
            stack.send_signal(signal.SIGTERM)
            try:
                stack.wait(timeout=30)
            except subprocess.TimeoutExpired:
                stack.kill()


def _wait_for_ledger(settings: Settings, engine, before: dict[str, int], accepted: int,
                     bar) -> dict[str, int]:
    """Wait until the stream has drained: sales, shipments and entries stop at target."""
    task = bar.add_task("into the ledger", total=accepted, rate="")
    deadline = time.monotonic() + max(120.0, accepted / 500)
    stable_since, last = None, None
    while time.monotonic() < deadline:
        counts, _, _ = database_status(engine)
        new_sales = counts["sales"] - before["sales"]
        shipped = counts["shipments"] - before["shipments"]
        entries = counts["journal_entries"] - before["journal_entries"]
        bar.update(task, completed=min(new_sales, shipped, entries // 2))
        done = shipped == new_sales and entries == 2 * new_sales
        if done and new_sales >= accepted:
            return counts
        # duplicates among the accepted records are absorbed: settle when counts stop
        if done and (counts == last):
            stable_since = stable_since or time.monotonic()
            if time.monotonic() - stable_since > 3:
                return counts
        else:
            stable_since = None
        last = counts
        time.sleep(0.25)
    raise OakenError("the stream did not drain in time; see `oaken status` and the logs in "
                     "OAKEN_HOME/logs")


def _run_analytics(settings: Settings, console: Console):
    from oaken.analytics.runner import run_analytics

    with console.status("analytics: extract/load, dbt build, forecasts …"):
        return run_analytics(settings)


def _summary(settings: Settings, engine, console: Console, *, sales: int, accepted: int,
             rejected: int, sent_seconds: float, drained_seconds: float,
             counts: dict[str, int], analytics) -> None:
    from oaken.ops.dlq import open_letters

    counts, imbalance, gap = database_status(engine)
    with engine.connect() as connection:
        dead = open_letters(connection)
    table = Table(title="Oaken Spirits demo", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("sales generated", f"{sales:,}")
    table.add_row("accepted by the API / rejected", f"{accepted:,} / {rejected:,}")
    table.add_row("sales · shipments · journal entries",
                  f"{counts['sales']:,} · {counts['shipments']:,} · {counts['journal_entries']:,}")
    table.add_row("API ingest rate", f"{accepted / max(sent_seconds, 1e-9):,.0f} sales/s")
    table.add_row("end to end (API → ledger)",
                  f"{accepted / max(drained_seconds, 1e-9):,.0f} sales/s "
                  f"in {drained_seconds:.1f}s")
    table.add_row("ledger debits − credits", str(imbalance))
    table.add_row("receivables − sales dollars", str(gap))
    table.add_row("dead letters (open)", f"{dead:,}")
    table.add_row("database", settings.database_url)
    if analytics is not None:
        for key, value in _analytics_rows(settings, analytics):
            table.add_row(key, value)
    table.add_row("dashboard", f"oaken dashboard → http://127.0.0.1:{settings.dashboard_port}")
    console.print(table)
    if imbalance != Decimal("0.00") or gap != Decimal("0.00"):
        raise OakenError(f"ledger does not reconcile: imbalance {imbalance}, gap {gap}")


def _analytics_rows(settings: Settings, report) -> list[tuple[str, str]]:
    from oaken.analytics.runner import reconcile

    check = reconcile(settings)
    warehouse, database = check["warehouse"], check["database"]
    dbt = ", ".join(f"{count} {status}" for status, count in sorted(report.dbt.items()))
    rows = [
        ("warehouse", report.warehouse),
        ("analytics", f"{report.total_rows_moved:,} rows loaded · dbt {dbt or 'n/a'} · "
                      f"{report.seconds:.0f}s"),
        ("warehouse sales · dollars",
         f"{warehouse.get('sales', 0):,} · ${warehouse.get('sale_dollars', 0):,}"),
        ("database sales · dollars",
         f"{database.get('sales', 0):,} · ${database.get('sale_dollars', 0):,}"),
        ("database = warehouse", "yes, to the cent" if check["matches"] else
         "NO: " + ", ".join(sorted(check["differences"]))),
        ("forecast rows (30 days)", f"{report.forecast_rows:,}"),
    ]
    if not check["matches"]:
        raise OakenError(f"warehouse does not reconcile: {sorted(check['differences'])}")
    return rows


def _serve(settings: Settings, stack: subprocess.Popen[bytes], console: Console) -> None:
    children = []
    for command in (["dashboard"], ["orchestrator"]):
        children.append(subprocess.Popen([*oaken_command(), *command], env=dict(os.environ)))
    console.print(f"serving: API http://{settings.api_host}:{settings.api_port}, dashboard "
                  f"http://127.0.0.1:{settings.dashboard_port}, orchestrator "
                  f"http://127.0.0.1:{settings.dagster_port} — Ctrl-C to stop")
    try:
        stack.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            child.terminate()
