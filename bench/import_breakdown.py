"""Bulk import: where the time goes, per sale, and what the obvious fixes would buy.

    .venv/bin/python bench/import_breakdown.py [--rows 100000] [--no-write] [--against REV]

One run, side by side, on fresh SQLite files (and MariaDB and PostgreSQL when they
answer):

* the cost per sale of making the records (the benchmark's generator), of
  validating them (``parse_sale``) and of handing parsed sales to another process
  (a pickle round trip: what parsing in a second process would add back);
* ``import_records`` with each stage timed (orders, shipping, accounting) and the
  time inside the driver's ``executemany`` separated from the Python around it;
* the same import with SQLite's bulk-load settings (no foreign-key checks, a 256 MB
  page cache, no fsync), to show what the database's own settings are worth;
* with ``--against REV``, the same import by the code of git revision ``REV`` (in a
  child process, on a fresh database of each kind, just before the current code's).

The result replaces the "Import: where the time goes" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import write_section

import oaken.ingest as ingest
from oaken.contract import parse_sale
from oaken.db.engine import make_engine
from oaken.db.migrate import migrate
from oaken.sources.generator import iter_sales

BULK_PRAGMAS = ("PRAGMA foreign_keys=OFF", "PRAGMA cache_size=-262144", "PRAGMA synchronous=OFF")
MARIADB = "mysql+pymysql://root@127.0.0.1:3306/oaken_bench_import"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/oaken_bench_import"
ROOT = Path(__file__).resolve().parent.parent
#: the import as any revision runs it: the same generated records, batches of 10,000
BASELINE = """
import sys, time
from oaken.db.engine import make_engine
from oaken.db.migrate import migrate
from oaken.ingest import import_records
from oaken.sources.generator import iter_sales
url, rows = sys.argv[1], int(sys.argv[2])
records = list(iter_sales(rows, seed=42, style="compact"))
migrate(url)
begun = time.perf_counter()
report = import_records(make_engine(url), records, batch_size=10_000)
assert report.imported == rows, report
print(time.perf_counter() - begun)
"""


def per_sale(seconds: float, rows: int) -> float:
    return seconds / rows * 1e6


def timed_import(url: str, records: list[dict], pragmas: tuple[str, ...] = ()) -> dict:
    """Import ``records`` into a migrated database; seconds per stage and in the driver."""
    migrate(url)
    engine = make_engine(url)
    if pragmas:
        @event.listens_for(engine, "connect")
        def _bulk(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            for pragma in pragmas:
                cursor.execute(pragma)
            cursor.close()

    spent: dict[str, float] = defaultdict(float)
    started_at: dict[int, float] = {}

    @event.listens_for(engine, "before_cursor_execute")
    def _before(_conn, cursor, *_args) -> None:
        started_at[id(cursor)] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(_conn, cursor, _statement, _params, _context, executemany) -> None:
        if executemany:
            spent["driver executemany"] += time.perf_counter() - started_at.pop(id(cursor))
        else:
            spent["driver queries"] += time.perf_counter() - started_at.pop(id(cursor))

    def stage(name: str, function: Callable) -> Callable:
        def wrapper(*args, **kwargs):
            begun = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - begun
        return wrapper

    stages = {"record_sales": "orders", "insert_shipments": "shipping",
              "schedule_shipments": "shipping", "post_entries": "accounting"}
    originals = {name: getattr(ingest, name) for name in stages}
    for name, function in originals.items():
        setattr(ingest, name, stage(stages[name], function))
    try:
        begun = time.perf_counter()
        report = ingest.import_records(engine, records, batch_size=10_000)
        total = time.perf_counter() - begun
    finally:
        for name, function in originals.items():
            setattr(ingest, name, function)
        engine.dispose()
    assert report.imported == len(records), report
    return {"total": total, **spent}


def mariadb_url() -> str | None:
    """A fresh, empty MariaDB database, or None when the server does not answer."""
    import pymysql

    try:
        connection = pymysql.connect(host="127.0.0.1", port=3306, user="root", connect_timeout=3)
    except pymysql.Error:
        return None
    with connection.cursor() as cursor:
        cursor.execute("DROP DATABASE IF EXISTS oaken_bench_import")
        cursor.execute("CREATE DATABASE oaken_bench_import CHARACTER SET utf8mb4")
    connection.close()
    return MARIADB


def postgres_url() -> str | None:
    """A fresh, empty PostgreSQL database, or None when the server does not answer."""
    import psycopg

    try:
        connection = psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres",
                                     autocommit=True, connect_timeout=3)
    except psycopg.Error:
        return None
    with connection:
        connection.execute("DROP DATABASE IF EXISTS oaken_bench_import")
        connection.execute("CREATE DATABASE oaken_bench_import")
    return POSTGRES


def baseline_import(tree: Path, url: str, rows: int) -> float:
    """Seconds the import of ``rows`` generated sales takes with the code in ``tree``."""
    done = subprocess.run([sys.executable, "-c", BASELINE, url, str(rows)], check=True,
                          capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(tree / "src")})
    return float(done.stdout.split()[-1])


def checkout(revision: str, folder: Path) -> Path:
    """The ``src`` of git ``revision`` unpacked into ``folder``."""
    archive = subprocess.run(["git", "archive", revision, "src"], cwd=ROOT, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    parser.add_argument("--against", metavar="REV",
                        help="also time the import of this git revision, side by side")
    args = parser.parse_args()
    rows = args.rows

    begun = time.perf_counter()
    records = list(iter_sales(rows, seed=42, style="compact"))
    generate = time.perf_counter() - begun
    begun = time.perf_counter()
    sales = [parse_sale(record) for record in records]
    parse = time.perf_counter() - begun
    begun = time.perf_counter()
    pickle.loads(pickle.dumps(sales, protocol=pickle.HIGHEST_PROTOCOL))
    round_trip = time.perf_counter() - begun
    del sales

    runs: dict[str, dict] = {}
    before: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        tree = checkout(args.against, Path(folder)) if args.against else None
        if tree:
            before["SQLite"] = baseline_import(tree, f"sqlite:///{folder}/old.db", rows)
        runs["SQLite"] = timed_import(f"sqlite:///{folder}/a.db", records)
        runs["SQLite, bulk-load pragmas"] = timed_import(f"sqlite:///{folder}/b.db", records,
                                                         BULK_PRAGMAS)
        for name, fresh in (("MariaDB", mariadb_url), ("PostgreSQL", postgres_url)):
            url = fresh()
            if url and tree:
                before[name] = baseline_import(tree, url, rows)
                url = fresh()
            if url:
                runs[name] = timed_import(url, records)

    lines = [
        "## Import: where the time goes (`bench/import_breakdown.py`)",
        "",
        f"{rows:,} generated sales, one process, batches of 10,000, each run on a fresh "
        "database, one after the other in one run. Microseconds per sale:",
        "",
        f"- making the records (the benchmarks' generator): {per_sale(generate, rows):.1f} µs",
        f"- validating them (`parse_sale`): {per_sale(parse, rows):.1f} µs",
        f"- a pickle round trip of the parsed sales: {per_sale(round_trip, rows):.1f} µs "
        "(what handing them from a parsing process to the writing one would add back)",
        "",
        "| database | sales/s | total | orders | shipping | accounting "
        "| in `executemany` | other driver calls |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, spent in runs.items():
        lines.append(
            f"| {name} | {rows / spent['total']:,.0f} | {per_sale(spent['total'], rows):.0f} "
            f"| {per_sale(spent['orders'], rows):.0f} "
            f"| {per_sale(spent['shipping'], rows):.0f} "
            f"| {per_sale(spent['accounting'], rows):.0f} "
            f"| {per_sale(spent['driver executemany'], rows):.0f} "
            f"| {per_sale(spent['driver queries'], rows):.0f} |")
    sqlite, bulk = runs["SQLite"], runs["SQLite, bulk-load pragmas"]
    lines += [
        "",
        "The stages include their own driver time; `total` also holds parsing and the "
        "commits. Each sale writes ten rows (sale, shipment, two journal entries, six "
        "journal lines). PostgreSQL's inserts are a `COPY` each, outside the driver "
        "columns.",
        f"SQLite's bulk-load settings change the import by a factor of "
        f"{sqlite['total'] / bulk['total']:.2f}, so disk writes and fsync are not the limit. "
        f"The driver calls alone (binding every value, then the database) take "
        f"{per_sale(sqlite['driver executemany'], rows):.0f} µs per sale on SQLite: with all "
        "the Python around them gone, this row-at-a-time path would still stop near "
        f"{rows / sqlite['driver executemany']:,.0f} sales/s.",
    ]
    if before:
        lines += [
            "",
            f"The same import by revision `{args.against}`, each run on a fresh database "
            "just before the current code's:",
            "",
            "| database | before (sales/s) | now (sales/s) | speed-up |",
            "|---|---:|---:|---:|",
        ]
        lines += [f"| {name} | {rows / seconds:,.0f} | {rows / runs[name]['total']:,.0f} "
                  f"| {seconds / runs[name]['total']:.2f}x |"
                  for name, seconds in before.items()]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section("bench:import-breakdown", text)


if __name__ == "__main__":
    main()
