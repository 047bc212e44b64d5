"""Extract/load readers side by side: dlt's ``sql_table`` against the ADBC readers.

    .venv/bin/python bench/el_readers.py [--rows 500000] [--database-url URL] [--no-write]

One database of N imported sales (SQLite by default, or ``--database-url``: SQLite or
PostgreSQL, re-used when it already holds sales), then the first full extract/load
into a fresh DuckDB warehouse once per reader, one after the other in the same run,
and a second run with nothing new. The warehouses must agree to the cent. The result
replaces the "Extract/load readers" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import write_section

SUMS = ("select (select sum(sale_dollars) from raw.sales), "
        "(select sum(debit) - sum(credit) from raw.journal_lines), "
        "(select sum(shipping_cost) from raw.shipments)")


@contextmanager
def reader(name: str):
    """``sql_table`` for every database while the block runs, or the default readers."""
    from oaken.el import arrow_tables

    original = arrow_tables.supports
    if name == "sql_table":
        arrow_tables.supports = lambda _url: False
    try:
        yield
    finally:
        arrow_tables.supports = original


def extract_load(url: str, name: str, folder: Path) -> dict:
    import duckdb

    from oaken.el.pipeline import run_el
    from oaken.settings import Settings

    home = folder / name
    settings = Settings(home=home, database_url=url, warehouse="")
    with reader(name):
        begun = time.perf_counter()
        first = run_el(settings)
        seconds = time.perf_counter() - begun
        begun = time.perf_counter()
        again = run_el(settings)
        nothing_new = time.perf_counter() - begun
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as warehouse:
        sums = warehouse.execute(SUMS).fetchone()
    return {"rows": first.total, "seconds": seconds, "again": nothing_new,
            "again_rows": again.total, "sums": sums}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = parser.parse_args()

    from sqlalchemy import func, select

    from oaken.db import models
    from oaken.db.engine import make_engine, safe_url
    from oaken.db.migrate import migrate
    from oaken.ingest import import_records
    from oaken.sources.generator import iter_sales

    folder = Path(tempfile.mkdtemp(prefix="oaken-bench-el-"))
    url = args.database_url or f"sqlite:///{folder / 'oaken.db'}"
    migrate(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        held = connection.execute(select(func.count()).select_from(models.sales)).scalar_one()
    if not held:
        import_records(engine, iter_sales(args.rows, seed=42, style="compact"),
                       batch_size=10_000)
        held = args.rows
    engine.dispose()

    runs = {name: extract_load(url, name, folder) for name in ("sql_table", "ADBC")}
    slow, fast = runs["sql_table"], runs["ADBC"]
    assert slow["sums"] == fast["sums"], (slow["sums"], fast["sums"])
    assert slow["rows"] == fast["rows"] and not slow["again_rows"] and not fast["again_rows"]
    lines = [
        "## Extract/load readers (`bench/el_readers.py`)",
        "",
        f"{held:,} sales in `{safe_url(url).split(':')[0]}` ({fast['rows']:,} rows in 11 "
        "tables), first extract/load into a fresh DuckDB warehouse, then a run with nothing "
        "new; the two readers one after the other in one run.",
        "",
        "| reader | first load | rows/s | nothing new |",
        "|---|---:|---:|---:|",
        *(f"| {name} | {run['seconds']:.1f} s | {run['rows'] / run['seconds']:,.0f} "
          f"| {run['again']:.1f} s |" for name, run in runs.items()),
        "",
        f"ADBC ÷ sql_table: **{slow['seconds'] / fast['seconds']:.1f}×** on the first load. "
        "Both warehouses hold the same sales, ledger and freight sums to the cent "
        f"({fast['sums'][0]:,} sale dollars).",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section("bench:el-readers", text)


if __name__ == "__main__":
    main()
