"""Dashboard first paint: how long until the scorecards are on screen.

Two measurements on one warehouse:

* **queries** — the queries behind the first paint (metadata, filter choices, both
  periods' scorecards, monthly bars, daily sales, forecast, top categories and items,
  shipping), called directly as the app calls them, uncached; plus the same scorecards
  with a county and with a category filter (the line-mart path);
* **browser** — ``oaken dashboard`` served on a free port, headless Debian Chromium
  (Playwright) timing ``page.goto`` → the five scorecards visible, and → all seven
  charts drawn, each visit a new tab of one browser profile (a returning reader): on a
  freshly started server (first visit), with the server warm but its query cache cold
  (the warehouse file's mtime is bumped before each visit, which is what a new
  ``oaken analytics`` run does), and with the cache warm; and, for scale, the same for
  a trivial Streamlit page (the floor Streamlit and Plotly cost on this machine).

Usage::

    python bench/dashboard.py [--warehouse PATH | --rows N] [--repeat 5] [--no-write]
                              [--section NAME] [--note TEXT]

Without ``--warehouse`` a warehouse of ``--rows`` synthetic sales (default 200,000) is
built under ``.oaken/bench/dashboard-<rows>`` the way ``oaken analytics`` builds one
(reused when it exists); ``bench/analytics.py --home DIR --keep`` leaves one to pass
as ``--warehouse DIR``. Results are printed and written to BENCHMARKS.md, one section
per warehouse size (``dashboard-1m``, ``dashboard-12.5m``, …).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import write_section

from oaken.dashboard import sales, shipping
from oaken.dashboard.filters import Filters, filter_options, load_meta, use_store_daily
from oaken.warehouse.adapter import Warehouse, open_warehouse

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
CARDS = ["Invoices", "Customers", "Bottles sold", "Sales", "Gross margin"]


def first_paint_queries(wh: Warehouse) -> tuple[dict[str, float], Filters]:
    """Seconds per query, uncached, in the order the app asks (and the default filter)."""
    timings: dict[str, float] = {}

    def timed(name: str, function, *args, **kwargs):
        started = time.perf_counter()
        result = function(wh, *args, **kwargs)
        timings[name] = time.perf_counter() - started
        return result

    meta = timed("metadata", load_meta)
    timed("filter choices", filter_options)
    f = meta.default_filters()
    fast = use_store_daily(f, meta)
    timed("scorecards", sales.scorecards, f, store_daily=fast)
    timed("scorecards (previous period)", sales.scorecards, f.previous(), store_daily=fast)
    timed("monthly bars", sales.monthly, f, store_daily=fast)
    timed("daily sales", sales.daily_sales, f, store_daily=fast)
    timed("forecast", sales.forecast, f)
    timed("top categories", sales.top_categories, f)
    timed("top items", sales.top_items, f)
    timed("shipping summary", shipping.shipping_summary, f, store_daily=fast)
    timed("shipping per month", shipping.shipping_monthly, f, store_daily=fast)
    timed("days to ship", shipping.days_to_ship, f)
    return timings, f


def filtered_queries(wh: Warehouse, f: Filters) -> dict[str, float]:
    """Scorecards + monthly bars for the busiest county and the busiest category."""
    county, category = wh.rows(
        "select (select county from analytics.mart_dashboard_store_daily group by 1 "
        "order by sum(sale_dollars) desc limit 1), "
        "(select category_id from analytics.mart_top_categories where sales_rank = 1)", {})[0]
    timings = {}
    for name, filters, fast in (
        ("county filter (store × day mart)", Filters(start=f.start, end=f.end,
                                                     counties=(county,)), True),
        ("category filter (line mart)", Filters(start=f.start, end=f.end,
                                                categories=(category,)), False),
    ):
        started = time.perf_counter()
        sales.scorecards(wh, filters, store_daily=fast)
        sales.scorecards(wh, filters.previous(), store_daily=fast)
        sales.monthly(wh, filters, store_daily=fast)
        sales.top_items(wh, filters)
        timings[name] = time.perf_counter() - started
    return timings


def serve(path: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "OAKEN_WAREHOUSE": f"duckdb:///{path}", "OAKEN_HOME": str(path.parent),
           "OAKEN_DASHBOARD_PORT": str(port)}
    process = subprocess.Popen([sys.executable, "-m", "oaken", "dashboard"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    _wait_healthy(url, process)
    return process, url


def visit(context, url: str) -> tuple[float, float]:
    """(seconds to the five scorecards visible, seconds to all seven charts drawn) for a
    new tab in ``context`` (one browser profile: a returning reader's HTTP cache)."""
    page = context.new_page()
    try:
        started = time.perf_counter()
        page.goto(url)
        page.wait_for_function(
            """(labels) => {
                const shown = [...document.querySelectorAll('[data-testid=stMetric]')]
                    .filter(m => m.offsetParent !== null && m.querySelector(
                        '[data-testid=stMetricValue]')?.innerText.trim());
                const names = shown.map(m => m.querySelector(
                    '[data-testid=stMetricLabel]').innerText.trim());
                return labels.every(l => names.includes(l));
            }""", arg=CARDS, timeout=120_000, polling=20)
        cards = time.perf_counter() - started
        page.wait_for_function(
            "document.querySelectorAll('[data-testid=stPlotlyChart] .main-svg').length >= 7",
            timeout=120_000, polling=20)
        charts = time.perf_counter() - started
        return cards, charts
    finally:
        page.close()


FLOOR_APP = """
import plotly.graph_objects as go
import streamlit as st

st.title("floor")
for column, label in zip(st.columns(5), {cards!r}):
    column.metric(label, "1")
for number in range(7):
    st.plotly_chart(go.Figure(go.Bar(x=list(range(12)), y=list(range(12)))), key=str(number))
"""


def floor(browser, repeat: int) -> tuple[float, float]:
    """The same two timings for a trivial page (five metrics, seven small Plotly charts,
    no data): what Streamlit and Plotly cost in this browser on this machine."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "floor.py"
        script.write_text(FLOOR_APP.format(cards=CARDS))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        profile = browser.new_context(viewport={"width": 1400, "height": 1000})
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_healthy(url, process)
            visit(profile, url)
            return _median([visit(profile, url) for _ in range(repeat)])
        finally:
            profile.close()
            process.terminate()
            process.wait(timeout=15)


def _wait_healthy(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=1).text == "ok":
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"{url} did not start")


def browser_timings(path: Path, repeat: int) -> dict[str, tuple[float, float]]:
    from playwright.sync_api import sync_playwright

    process, url = serve(path)
    results: dict[str, tuple[float, float]] = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            profile = browser.new_context(viewport={"width": 1400, "height": 1000})
            results["first visit, fresh server"] = visit(profile, url)
            cold = []
            for _ in range(repeat):
                os.utime(path)  # a new warehouse version: every query misses the cache
                cold.append(visit(profile, url))
            results["warm server, query cache cold"] = _median(cold)
            results["warm server, query cache warm"] = _median(
                [visit(profile, url) for _ in range(repeat)])
            results["floor: a trivial Streamlit page (5 metrics, 7 tiny charts)"] = floor(
                browser, repeat)
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=15)
    return results


def _median(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    return (statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs))


def warehouse_size(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return {table: connection.execute(f"select count(*) from analytics.{table}").fetchone()[0]
                for table in ("fct_sales", "mart_dashboard_sales", "mart_dashboard_store_daily")}


def _size(rows: int) -> str:
    """12_500_449 → "12.5m", 200_000 → "200k"."""
    if rows >= 1_000_000:
        return f"{round(rows / 1e6, 1):g}m"
    return f"{round(rows / 1e3):g}k"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path,
                        help="an existing warehouse.duckdb, or the OAKEN_HOME holding one "
                             "(e.g. from `bench/analytics.py --home DIR --keep`)")
    parser.add_argument("--rows", type=int, default=200_000,
                        help="synthetic sales to build a warehouse from (without --warehouse)")
    parser.add_argument("--repeat", type=int, default=5, help="browser visits per case")
    parser.add_argument("--no-write", action="store_true", help="do not touch BENCHMARKS.md")
    parser.add_argument("--section", default=None,
                        help="BENCHMARKS.md section to (re)write [default: dashboard-<size>, "
                             "e.g. dashboard-1m: one section per warehouse size]")
    parser.add_argument("--note", default="", help="how the warehouse was made, for the report")
    args = parser.parse_args()

    path = args.warehouse
    built = ""
    if path is None:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' helpers
        from tests.support.sample_warehouse import shared_sample_warehouse

        home = Path(".oaken/bench") / f"dashboard-{args.rows}"
        print(f"building (or reusing) a warehouse of {args.rows:,} sales in {home} …",
              flush=True)
        sample = shared_sample_warehouse(home.absolute(), rows=args.rows, seed=42)
        path = sample.path
        built = (f" Built from {sample.rows:,} synthetic sales: import "
                 f"{sample.import_seconds:.0f} s, `oaken analytics` "
                 f"{sample.analytics_seconds:.0f} s.")
    path = path.absolute()
    if path.is_dir():  # an OAKEN_HOME, e.g. `bench/analytics.py --home DIR --keep`
        path = path / "warehouse.duckdb"
    if not path.exists():
        raise SystemExit(f"no warehouse at {path}")
    sizes = warehouse_size(path)
    wh = open_warehouse(f"duckdb:///{path}")
    load_meta(wh)  # warm the OS page cache: we measure queries, not the disk
    timings, f = first_paint_queries(wh)
    filtered = filtered_queries(wh, f)
    browser = browser_timings(path, args.repeat)

    total = sum(timings.values())
    lines = [
        f"## Dashboard first paint, {sizes['fct_sales']:,} sales (`bench/dashboard.py`)",
        "",
        f"Warehouse: {sizes['fct_sales']:,} sale lines (`mart_dashboard_sales` "
        f"{sizes['mart_dashboard_sales']:,} rows, `mart_dashboard_store_daily` "
        f"{sizes['mart_dashboard_store_daily']:,} rows); default view {f.start} – {f.end}."
        f"{built} {args.note} Target: scorecards visible < 2 s at 12.5 million sales.",
        "",
        "| browser (headless Chromium, `page.goto` →) | scorecards visible | all 7 charts drawn |",
        "|---|---|---|",
        *[f"| {name} | **{cards:.2f} s** | {charts:.2f} s |"
          for name, (cards, charts) in browser.items()],
        "",
        f"Queries behind the first paint, uncached, one after the other: **{total:.3f} s**.",
        "",
        "| query | seconds |",
        "|---|---|",
        *[f"| {name} | {seconds:.3f} |" for name, seconds in timings.items()],
        *[f"| {name}: 2 × scorecards + monthly + top items | {seconds:.3f} |"
          for name, seconds in filtered.items()],
        "",
        f"`uname -a`: {os.uname().sysname} {os.uname().nodename} {os.uname().release} "
        f"{os.uname().version} {os.uname().machine}; nproc {os.cpu_count()}.",
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section(args.section or f"dashboard-{_size(sizes['fct_sales'])}", body)
        print("written to BENCHMARKS.md")


if __name__ == "__main__":
    main()
