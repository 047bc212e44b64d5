"""Live analytics benchmark: freshness while sales stream, and a micro-batch at scale.

    .venv/bin/python bench/live.py [--minutes 10] [--rate 200] [--interval 30]
                                   [--big-home DIR]

1. ``oaken up`` (SQLite, embedded broker, live analytics every ``--interval`` s) takes
   ``--rate`` sales/s through the API for ``--minutes``; a headless Chromium opens the
   dashboard every 5 s (a fresh page view each time). About every second the
   freshness (now minus the newest sale's acceptance time in the warehouse, as ``oaken
   status`` reports it) is sampled: its maximum is the longest any sale waited to reach
   the warehouse. Live mode waits for the first sale: 200 warm-up sales go first, and
   the measured stream starts once the first (whole) run has built the warehouse
   from them. Reported: freshness p50/p95/max, micro-batch duration
   p50/p95, page views that said the warehouse is being rebuilt, failed runs.
2. With ``--big-home`` (the home ``bench/analytics.py --keep`` leaves: a 12.5-million-sale
   database and warehouse), one minute of sales at ``--rate`` is imported and one
   micro-batch timed on it.

Goal: p95 freshness ≤ 60 s, 0 busy pages, 0 failed runs, a micro-batch under 15 s
(embedded defaults) and under 30 s on the 12.5-million-sale warehouse. The result
replaces the "Live analytics" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from report import write_section

BUSY = "being rebuilt"
WARM_UP_SALES = 200  # sent before the measured stream, for the first (whole) build


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def stream(minutes: float, rate: float, interval: float) -> dict:
    from playwright.sync_api import sync_playwright

    from oaken.analytics.live import read_state, summary
    from oaken.settings import Settings
    from tests.support.chaos import Clients, Platform
    from tests.support.dashboard import wait_until_idle

    home = Path(tempfile.mkdtemp(prefix="oaken-bench-live-"))
    url = f"sqlite:///{home / 'oaken.db'}"
    # the embedded defaults (the test platform's faster repairer and smaller batches
    # put back): the whole job every 15 minutes, pages that redraw every 15 s
    platform = Platform(home, url, OAKEN_ANALYTICS_INTERVAL_SECONDS=str(interval),
                        OAKEN_REPAIR_GRACE_SECONDS="60", OAKEN_REPAIR_INTERVAL_SECONDS="30",
                        OAKEN_BATCH_SIZE="2000", OAKEN_RESTART_BACKOFF_MAX_SECONDS="30")
    settings = Settings(home=home, database_url=url, warehouse="")
    port = _free_port()
    dashboard: subprocess.Popen[bytes] | None = None
    freshness: list[float] = []
    pages = {"views": 0, "busy": 0, "failed": 0}
    try:
        platform.start()
        with open(home / "dashboard.out", "ab") as out:
            dashboard = subprocess.Popen(
                [sys.executable, "-m", "oaken", "dashboard"], stdout=out,
                stderr=subprocess.STDOUT,
                env={**platform.env, "OAKEN_DASHBOARD_PORT": str(port)})
        # live mode waits for the first sale, then builds the whole warehouse (every
        # model, forecasts): a few sales first, and the steady state measured after it
        Clients(platform.url, sales=WARM_UP_SALES, rate=100, threads=2).run()
        warm = time.monotonic()
        while not ((state := read_state(settings)) and state.runs >= 1):
            assert time.monotonic() - warm < 1800, "live analytics never finished a run"
            time.sleep(2)
        clients = Clients(platform.url, sales=int(minutes * 60 * rate), rate=rate, threads=4,
                          first=WARM_UP_SALES)
        sending = threading.Thread(target=clients.run)
        sending.start()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--headless", "--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            next_view = time.monotonic()
            while sending.is_alive():
                live = summary(settings)
                if live and live["lag_seconds"] is not None:
                    freshness.append(live["lag_seconds"])
                if time.monotonic() >= next_view:
                    next_view += 5
                    pages["views"] += 1
                    try:
                        page.goto(f"http://127.0.0.1:{port}", timeout=60_000)
                        wait_until_idle(page, timeout=60)
                        pages["busy"] += BUSY in page.content()
                    except Exception:  # no warehouse yet, or a slow page: counted
                        pages["failed"] += 1
                time.sleep(1)
            browser.close()
        sending.join()
        # the stream stopped: how long until the warehouse has its last sale
        stopped = time.monotonic()
        caught_up = None
        while time.monotonic() - stopped < 4 * interval + 300:
            live = summary(settings)
            if live and live["lag_seconds"] is not None:
                freshness.append(live["lag_seconds"])
            state = read_state(settings)
            if state and state.runs and _caught_up(platform, settings):
                caught_up = time.monotonic() - stopped
                break
            time.sleep(2)
        state = read_state(settings)
        return {
            "sales": len(clients.accepted), "minutes": minutes, "rate": rate,
            "interval": interval, "freshness": freshness, "pages": pages,
            "durations": state.durations if state else [],
            "runs": state.runs if state else 0,
            "failed_runs": state.failed_runs if state else 0,
            "caught_up": caught_up,
        }
    finally:
        if dashboard is not None:
            dashboard.terminate()
            dashboard.wait(timeout=30)
        platform.stop()


def _caught_up(platform, settings) -> bool:
    import duckdb

    from oaken.warehouse.publish import published_path

    copy = published_path(Path(settings.home) / "warehouse.duckdb")
    if not copy.exists():
        return False
    with duckdb.connect(str(copy), read_only=True) as warehouse:
        row = warehouse.execute("select count(*) from analytics.fct_sales").fetchone()
    return bool(row) and int(row[0]) == platform.counts()["sales"]


def big_micro_batch(home: Path, rate: float) -> list[dict]:
    """Twice: a minute of sales at ``rate`` imported, then one micro-batch timed. The
    first is a process's first (it imports dbt and parses the project, as the live
    loop does once); the second is every later one."""
    from sqlalchemy import text

    from oaken.analytics.live import micro_batch
    from oaken.db.engine import make_engine
    from oaken.ingest import import_records
    from oaken.settings import Settings
    from oaken.sources.generator import iter_sales
    from oaken.sources.sampling import FIRST_INVOICE

    url = f"sqlite:///{home / 'oaken.db'}"
    settings = Settings(home=home, database_url=url, warehouse="")
    today = datetime.now(UTC).date()
    results = []
    for round_ in range(2):
        engine = make_engine(url)
        try:
            # invoices beyond the database's: the generator numbers them from
            # FIRST_INVOICE by default, and the same numbers would be line ids it
            # already holds (an invoice has at least one line, so FIRST_INVOICE + lines
            # is past them all)
            with engine.connect() as connection:
                held = connection.execute(text("select count(*) from sales")).scalar_one()
            imported = import_records(engine, iter_sales(
                int(60 * rate), seed=4242 + round_, start=today, end=today,
                style="compact", first_invoice=FIRST_INVOICE + held + 1)).imported
        finally:
            engine.dispose()
        begun = time.perf_counter()
        timings = micro_batch(settings)
        results.append({"sales": imported, "seconds": round(time.perf_counter() - begun, 1),
                        "timings": timings})
    return results


def fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--interval", type=float, default=30)
    parser.add_argument("--big-home", type=Path, default=None)
    args = parser.parse_args()
    result = stream(args.minutes, args.rate, args.interval)
    durations = result["durations"]
    lines = [
        "## Live analytics (`bench/live.py`)",
        "",
        f"Load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
        "(other jobs share the machine when it is above the core count).",
        "",
        f"{result['sales']:,} sales over {result['minutes']:g} min at {result['rate']:g}/s "
        f"through the API, live analytics every {result['interval']:g} s, a dashboard "
        "page view every 5 s:",
        "",
        "| what | value |",
        "|---|---|",
        f"| freshness p50 / p95 / max | {fmt(percentile(result['freshness'], 0.5))} / "
        f"{fmt(percentile(result['freshness'], 0.95))} / "
        f"{fmt(max(result['freshness']) if result['freshness'] else None)} |",
        f"| micro-batch p50 / p95 | {fmt(percentile(durations, 0.5))} / "
        f"{fmt(percentile(durations, 0.95))} ({len(durations)} micro-batches) |",
        f"| page views / busy / failed | {result['pages']['views']} / "
        f"{result['pages']['busy']} / {result['pages']['failed']} |",
        f"| runs / failed runs | {result['runs']} / {result['failed_runs']} |",
        f"| stream end → last sale in the warehouse | {fmt(result['caught_up'])} |",
    ]
    if args.big_home:
        lines += ["", "Micro-batches on the 12.5-million-sale warehouse, each after a minute "
                  "of sales:"]
        for name, big in zip(("first of its process (imports dbt, parses the project)",
                              "the next"), big_micro_batch(args.big_home, args.rate),
                             strict=True):
            steps = ", ".join(f"{k} {v:.1f} s" for k, v in big["timings"].items())
            lines.append(f"- {name}: {big['sales']:,} new sales, {big['seconds']:.1f} s "
                         f"({steps})")
    if result["freshness"]:
        lines.append("")
        lines.append(f"(median of {len(result['freshness'])} freshness samples: "
                     f"{statistics.median(result['freshness']):.0f} s)")
    body = "\n".join(lines)
    print(body)
    write_section("live", body)


if __name__ == "__main__":
    main()
