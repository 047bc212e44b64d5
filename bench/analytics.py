"""Analytics benchmark: bulk import, full `oaken analytics`, incremental after +1 %.

    .venv/bin/python bench/analytics.py [--rows 12500000] [--database-url URL] [--home DIR]

Steps, each timed with rows/s:
  1. bulk import of N synthetic sales through ``oaken.ingest.import_records`` (the
     same rules as the streaming workers: sales, shipments, ledger);
  2. a full ``run_analytics`` (dlt → dbt build → forecasts, the Dagster job in-process);
  3. import of 1 % more sales (later dates), then an incremental ``run_analytics``.
Peak RSS is sampled for this process and its children together. The results
replace the "Analytics" section of BENCHMARKS.md.

Targets (2-core machine): import ≥ 100,000 rows/s, full analytics < 10 min,
incremental < 60 s, peak RSS < 4 GB.

``--warehouse bigquery`` runs steps 2 and 3 twice on the same database, into DuckDB
and into BigQuery, side by side; BigQuery is the emulator of the test tier (bqemulator,
``make bqemulator``), started on a free port and reached through
``OAKEN_BIGQUERY_ENDPOINT``. Those figures show that the path works and what the
loader costs, not BigQuery's speed. They replace the "Analytics on the BigQuery
emulator" section of BENCHMARKS.md (``--rows 200000`` is the size reported there).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

import psutil
from report import machine  # bench/report.py: the same machine line everywhere

SECTION_START = "<!-- bench:analytics:start -->"
SECTION_END = "<!-- bench:analytics:end -->"
BIGQUERY_SECTION = ("<!-- bench:analytics-bigquery:start -->",
                    "<!-- bench:analytics-bigquery:end -->")
ROOT = Path(__file__).resolve().parent.parent
# the import's own timing, kept beside the database it made (--import-only, then
# --reuse-database reports it)
IMPORT_RESULT = "import-result.json"


class PeakRss:
    """Peak resident memory of this process and of all its children together, sampled
    every 0.2 s while a step runs (``ru_maxrss`` cannot tell a child's own peak from the
    parent's memory it inherited when it was forked)."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(0.2):
            total = 0
            for process in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += process.memory_info().rss
            self.peak_mb = max(self.peak_mb, total / 1e6)

    def __enter__(self) -> PeakRss:
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def records(rows: int, *, seed: int, start: date | None = None, end: date | None = None,
            prefix: str = ""):
    from oaken.sources.generator import iter_sales

    kwargs = {k: v for k, v in (("start", start), ("end", end)) if v is not None}
    for record in iter_sales(rows, seed=seed, style="compact", **kwargs):
        if prefix:
            record["Invoice"] = prefix + str(record["Invoice"])
        yield record


def import_step(url: str, rows: int, **kwargs) -> dict:
    from oaken.db.engine import make_engine
    from oaken.ingest import import_records

    engine = make_engine(url)
    with PeakRss() as rss:
        started = time.perf_counter()
        report = import_records(engine, records(rows, **kwargs), batch_size=10_000)
        seconds = time.perf_counter() - started
    engine.dispose()
    return {"rows": report.imported, "seconds": seconds, "rate": report.imported / seconds,
            "rss": rss.peak_mb}


def sales_in(url: str) -> int:
    from sqlalchemy import func, select

    from oaken.db import models
    from oaken.db.engine import make_engine

    engine = make_engine(url)
    with engine.connect() as connection:
        held = connection.execute(select(func.count()).select_from(models.sales)).scalar_one()
    engine.dispose()
    return held


def slowest_dbt_nodes(home: Path, count: int = 6) -> str:
    """The dbt nodes of the newest ``run_results.json`` that took longest, for the report."""
    found = sorted((home / "dbt").rglob("run_results.json"), key=lambda p: p.stat().st_mtime)
    if not found:
        return "no run_results.json"
    results = json.loads(found[-1].read_text())["results"]
    tests = sum(r["execution_time"] for r in results if r["unique_id"].startswith("test."))
    models = sum(r["execution_time"] for r in results if not r["unique_id"].startswith("test."))
    slowest = sorted(results, key=lambda r: r["execution_time"], reverse=True)[:count]
    named = ", ".join(f"{r['unique_id'].split('.')[2]} {r['execution_time']:.1f}"
                      for r in slowest)
    return (f"models {models:.0f} s and tests {tests:.0f} s of node time; "
            f"slowest (s): {named}")


def analytics_step(label: str) -> dict:
    from oaken.analytics.runner import reconcile, run_analytics
    from oaken.settings import get_settings

    get_settings.cache_clear()
    settings = get_settings()
    with PeakRss() as rss:
        started = time.perf_counter()
        report = run_analytics(settings)
        seconds = time.perf_counter() - started
    check = reconcile(settings)
    moved = report.total_rows_moved
    print(f"{label}: {seconds:.1f}s, {moved:,} rows moved, steps {report.timings}, "
          f"dbt {report.dbt}, reconciled={check['matches']}", flush=True)
    return {"seconds": seconds, "moved": moved, "sales_moved": report.rows_moved.get("sales", 0),
            "timings": report.timings, "dbt": report.dbt, "reconciled": check["matches"],
            "forecast_rows": report.forecast_rows, "rss": rss.peak_mb,
            "dbt_nodes": slowest_dbt_nodes(Path(settings.home))}


def write_section(text: str, markers: tuple[str, str] = (SECTION_START, SECTION_END)) -> None:
    start, end = markers
    path = ROOT / "BENCHMARKS.md"
    current = path.read_text() if path.exists() else "# Benchmarks\n"
    block = f"{start}\n{text.rstrip()}\n{end}"
    if start in current and end in current:
        current = re.sub(re.escape(start) + r".*?" + re.escape(end),
                         lambda _: block, current, flags=re.S)
    else:
        current = current.rstrip() + "\n\n" + block + "\n"
    path.write_text(current)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=12_500_000)
    parser.add_argument("--database-url", default=None,
                        help="default: a fresh SQLite file in --home")
    parser.add_argument("--home", default=None, help="OAKEN_HOME (default: a temporary dir)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary home")
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    parser.add_argument("--reuse-database", action="store_true",
                        help="skip the import when the database in --home already holds "
                        "sales (the warehouse and dlt/dbt state are rebuilt from scratch)")
    parser.add_argument("--warehouse", choices=("duckdb", "bigquery"), default="duckdb",
                        help="bigquery: DuckDB and the BigQuery emulator side by side")
    parser.add_argument("--import-only", action="store_true",
                        help="stop after the import; its timing is kept in --home and "
                        "reported by a later --reuse-database run")
    args = parser.parse_args()

    home = Path(args.home or tempfile.mkdtemp(prefix="oaken-bench-analytics-")).absolute()
    home.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{home / 'oaken.db'}"
    os.environ["OAKEN_HOME"] = str(home)
    os.environ["OAKEN_DATABASE_URL"] = url
    os.environ.pop("OAKEN_WAREHOUSE", None)

    from oaken.db.engine import safe_url
    from oaken.db.migrate import migrate
    from oaken.warehouse.config import duckdb_config

    migrate(url)
    print(f"home {home}, database {safe_url(url)}, {args.rows:,} rows", flush=True)
    results: dict[str, dict] = {}
    held = sales_in(url) if args.reuse_database else 0
    if held:
        for left in ("warehouse.duckdb", "warehouse.duckdb.wal", "dlt", "dbt", "logs"):
            path = home / left
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
        imported = {"rows": held, "seconds": None, "rate": None, "rss": 0.0}
        kept = home / IMPORT_RESULT
        timed = json.loads(kept.read_text()) if kept.exists() else {}
        if timed.get("rows") == held:
            imported = timed | {"separate": True}
        print(f"import: reusing the {held:,} sales already in the database", flush=True)
    else:
        imported = import_step(url, args.rows, seed=42)
        (home / IMPORT_RESULT).write_text(json.dumps(imported))
        print(f"import: {imported['rows']:,} rows in {imported['seconds']:.1f}s "
              f"({imported['rate']:,.0f} rows/s)", flush=True)
        if args.import_only:
            return 0
    results["import"] = imported
    if args.warehouse == "bigquery":
        return bigquery_side_by_side(args, url, home, imported, held)
    results["full"] = analytics_step("full analytics")
    extra = max(1, args.rows // 100)
    # a fresh prefix: the +1 % are new sales even in a reused database
    prefix = f"B{int(time.time()) % 100_000:05d}-" if held else "B"
    results["import_extra"] = import_step(url, extra, seed=43, start=date(2026, 11, 1),
                                          end=date(2026, 11, 20), prefix=prefix)
    results["incremental"] = analytics_step("incremental analytics")
    warehouse_mb = (home / "warehouse.duckdb").stat().st_size / 1e6
    database_mb = (home / "oaken.db").stat().st_size / 1e6 if url.startswith("sqlite") else 0

    full, inc = results["full"], results["incremental"]
    lines = [
        "## Analytics (`bench/analytics.py`)",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}; database "
        f"`{safe_url(url).split(':')[0]}`, warehouse DuckDB; "
        f"`python bench/analytics.py {' '.join(sys.argv[1:])}`"
        + (" after an `--import-only` run on the same home." if imported.get("separate")
           else "."),
        "",
        "| step | rows | time | rows/s | target |",
        "|---|---:|---:|---:|---|",
        (f"| bulk import (`import_records`"
         f"{', timed in its own `--import-only` run' if imported.get('separate') else ''})"
         f" | {imported['rows']:,} | {imported['seconds']:.1f} s "
         f"| {imported['rate']:,.0f} sales/s ({imported['rate'] * 10:,.0f} database rows/s) "
         "| ≥ 100,000 rows/s |") if imported["seconds"] else
        (f"| bulk import | {imported['rows']:,} | not timed: the database of an earlier "
         "run was reused (`--reuse-database`) | | ≥ 100,000 rows/s |"),
        f"| full `oaken analytics` | {full['moved']:,} moved | {full['seconds']:.1f} s "
        f"| {full['moved'] / full['seconds']:,.0f} | < 10 min |",
        f"| import +1 % | {results['import_extra']['rows']:,} | "
        f"{results['import_extra']['seconds']:.1f} s | {results['import_extra']['rate']:,.0f} | |",
        f"| incremental `oaken analytics` | {inc['moved']:,} moved | {inc['seconds']:.1f} s "
        f"| {inc['moved'] / inc['seconds']:,.0f} | < 60 s |",
        "",
        f"Steps of the full run (s): {full['timings']}; incremental: {inc['timings']}.",
        f"dbt, full run: {full['dbt_nodes']}.",
        f"dbt, incremental run: {inc['dbt_nodes']}.",
        f"dbt: {full['dbt']} (full), {inc['dbt']} (incremental). Reconciled to the cent: "
        f"{full['reconciled'] and inc['reconciled']}. Forecast rows: {inc['forecast_rows']}.",
        "Peak RSS, this process and its children together (dbt runs as a child), sampled "
        f"every 0.2 s: import {imported['rss']:,.0f} MB, full analytics {full['rss']:,.0f} MB, "
        f"incremental {inc['rss']:,.0f} MB; target < 4 GB. DuckDB is held to "
        f"`OAKEN_DUCKDB_MEMORY_LIMIT` ({duckdb_config()['memory_limit']}).",
        f"Sizes: database {database_mb:,.0f} MB, warehouse {warehouse_mb:,.0f} MB.",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section(text)
    if not args.home and not args.keep:
        shutil.rmtree(home, ignore_errors=True)
    return 0


@contextlib.contextmanager
def warehouse_env(home: Path, warehouse: str, endpoint: str | None) -> object:
    """OAKEN_HOME (dlt and dbt state) and the warehouse of one side of the comparison."""
    saved = {name: os.environ.get(name) for name in
             ("OAKEN_HOME", "OAKEN_WAREHOUSE", "OAKEN_BIGQUERY_ENDPOINT")}
    os.environ.update({"OAKEN_HOME": str(home), "OAKEN_WAREHOUSE": warehouse})
    if endpoint:
        os.environ["OAKEN_BIGQUERY_ENDPOINT"] = endpoint
    else:
        os.environ.pop("OAKEN_BIGQUERY_ENDPOINT", None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def bigquery_side_by_side(args, url: str, home: Path, imported: dict, held: int) -> int:
    """Full and incremental runs into DuckDB and into the BigQuery emulator, same database."""
    sys.path.insert(0, str(ROOT))
    from oaken.db.engine import safe_url
    from tests.bqemulator.emulator import Emulator

    sides = {"duckdb": (home / "side-duckdb", None), "bigquery": (home / "side-bigquery", None)}
    results: dict[str, dict] = {}
    with Emulator(home / "bqemulator.log") as emulator:
        sides["bigquery"] = (home / "side-bigquery", emulator.endpoint)
        warehouses = {"duckdb": f"duckdb:///{home / 'side-duckdb' / 'warehouse.duckdb'}",
                      "bigquery": "bigquery://test-project/oaken"}
        for step in ("full", "incremental"):
            if step == "incremental":
                extra = max(1, args.rows // 100)
                prefix = f"B{int(time.time()) % 100_000:05d}-" if held else "B"
                results["import_extra"] = import_step(
                    url, extra, seed=43, start=date(2026, 11, 1), end=date(2026, 11, 20),
                    prefix=prefix)
            for side, (side_home, endpoint) in sides.items():
                with warehouse_env(side_home, warehouses[side], endpoint):
                    results[f"{side}_{step}"] = analytics_step(f"{step} analytics, {side}")
        emulator_rss = psutil.Process(emulator.process.pid).memory_info().rss / 1e6

    def row(side: str, step: str) -> str:
        run = results[f"{side}_{step}"]
        timings = ", ".join(f"{name.removeprefix('oaken_')} {seconds:.1f}"
                            for name, seconds in run["timings"].items()
                            if not name.startswith("freshness"))
        return (f"| {side} | {step} | {run['moved']:,} | {run['seconds']:.1f} s | {timings} "
                f"| {run['dbt']} | {run['reconciled']} |")

    lines = [
        "## Analytics on the BigQuery emulator (`bench/analytics.py --warehouse bigquery`)",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}; database "
        f"`{safe_url(url).split(':')[0]}` with {imported['rows']:,} sales; "
        f"`python bench/analytics.py {' '.join(sys.argv[1:])}`. Both warehouses built from "
        "the same database in the same run, one after the other; BigQuery is bqemulator "
        "1.4.0 on this machine (BigQuery SQL translated to DuckDB, in memory), reached over "
        "HTTP through `OAKEN_BIGQUERY_ENDPOINT`. These figures show that the path works "
        "and what the loader and the API round trips cost, not BigQuery's speed.",
        "",
        "| warehouse | run | rows moved | time | steps (s) | dbt | reconciled |",
        "|---|---|---:|---:|---|---|---|",
        row("duckdb", "full"), row("bigquery", "full"),
        row("duckdb", "incremental"), row("bigquery", "incremental"),
        "",
        f"The incremental runs follow an import of {results['import_extra']['rows']:,} more "
        "sales (1 %). dbt node times, BigQuery full run: "
        f"{results['bigquery_full']['dbt_nodes']}; DuckDB full run: "
        f"{results['duckdb_full']['dbt_nodes']}.",
        f"Peak RSS of this process and its children: DuckDB full "
        f"{results['duckdb_full']['rss']:,.0f} MB, BigQuery full "
        f"{results['bigquery_full']['rss']:,.0f} MB (the emulator is not a child: "
        f"{emulator_rss:,.0f} MB at the end).",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section(text, BIGQUERY_SECTION)
    if not args.home and not args.keep:
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())


