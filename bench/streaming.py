"""Streaming benchmark: sales through the whole pipeline on SQLite and MariaDB.

For each database, in one run and side by side:

* **bulk insert** (the limit): the same sales imported in one transaction by the
  same stage code, no Kafka (``oaken.ingest.import_records``);
* **raw consumption** (the limit): a bare consumer reading the same messages;
* **pipeline**: N sales published to ``sales.raw``, then the three workers (one
  process each) run until every sale has its shipment and both ledger entries;
  sustained sales/s per stage (first to last row written) and end to end;
* **latency**: API acceptance → ledger at a steady 1,000 sales/s (p50/p99);
* **peak RSS** per worker process (VmHWM).

    .venv/bin/python bench/streaming.py [--sales 200000] [--databases sqlite,mariadb]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import write_section

from oaken.bus.broker import EmbeddedBroker
from oaken.bus.config import admin_config, consumer_config
from oaken.bus.topics import Topics, ensure_topics
from oaken.db.engine import make_engine
from oaken.db.migrate import migrate
from oaken.ingest import import_records
from oaken.settings import Settings
from oaken.sources.generator import iter_sales
from oaken.sources.replay import publish

MARIADB = "mysql+pymysql://root@127.0.0.1:3306"
STAGES = ("orders", "shipping", "accounting")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fresh_database(kind: str, home: Path) -> tuple[str, callable]:
    if kind == "sqlite":
        path = home / f"bench-{uuid.uuid4().hex[:6]}.db"
        return f"sqlite:///{path}", lambda: None
    name = f"oaken_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{MARIADB}/mysql", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))

    return f"{MARIADB}/{name}", drop


def settings_for(url: str, bootstrap: str, home: Path) -> Settings:
    settings = Settings(home=home, database_url=url, kafka_bootstrap=bootstrap,
                        topic_prefix=f"b{uuid.uuid4().hex[:6]}.", partitions=4)
    ensure_topics(AdminClient(admin_config(settings)), Topics(settings.topic_prefix).all(),
                  partitions=settings.partitions)
    migrate(url)
    return settings


def env_for(settings: Settings) -> dict[str, str]:
    return {**os.environ, "OAKEN_HOME": str(settings.home),
            "OAKEN_DATABASE_URL": settings.database_url,
            "OAKEN_KAFKA_BOOTSTRAP": settings.bootstrap_servers,
            "OAKEN_TOPIC_PREFIX": settings.topic_prefix,
            "OAKEN_API_PORT": str(settings.api_port)}


def start(settings: Settings, *args: str) -> subprocess.Popen[bytes]:
    log = open(Path(settings.home) / f"{'-'.join(args)}.log", "ab")  # noqa: SIM115
    return subprocess.Popen([sys.executable, "-m", "oaken", *args], env=env_for(settings),
                            stdout=log, stderr=subprocess.STDOUT)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return float("nan")


def counts(engine) -> tuple[int, int, int]:
    with engine.connect() as connection:
        return tuple(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                     for table in ("sales", "shipments", "journal_entries"))


BULK_TABLES = ("categories", "vendors", "stores", "products", "sales", "shipments",
               "journal_entries", "journal_lines")


def bench_bulk_insert(kind: str, source, home: Path, sales: int) -> float:
    """The limit: the rows the pipeline wrote, inserted again into a fresh database of the
    same kind in one transaction with the same executemany path. Sales per second."""
    from sqlalchemy import select

    from oaken.db import models
    from oaken.db.writes import insert_values

    with source.connect() as connection:
        tables = {}
        for name in BULK_TABLES:
            result = connection.execute(select(getattr(models, name)))
            tables[name] = (tuple(result.keys()), [tuple(row) for row in result])
    url, drop = fresh_database(kind, home)
    try:
        migrate(url)
        engine = make_engine(url)
        started = time.perf_counter()
        with engine.begin() as connection:
            for name in BULK_TABLES:
                columns, rows = tables[name]
                if rows:
                    insert_values(connection, getattr(models, name), columns, rows)
        elapsed = time.perf_counter() - started
        engine.dispose()
        return sales / elapsed
    finally:
        drop()


def bench_import(kind: str, records: list[dict], home: Path) -> float:
    """``oaken import`` of the same sales in one transaction: parse, rules and all rows."""
    url, drop = fresh_database(kind, home)
    try:
        migrate(url)
        engine = make_engine(url)
        started = time.perf_counter()
        report = import_records(engine, records, batch_size=len(records))
        elapsed = time.perf_counter() - started
        assert report.imported == len(records), report
        engine.dispose()
        return len(records) / elapsed
    finally:
        drop()


def bench_raw_consume(settings: Settings, n: int) -> float:
    consumer = Consumer(consumer_config(settings, f"raw-{uuid.uuid4().hex[:6]}"))
    consumer.subscribe([Topics(settings.topic_prefix).sales_raw])
    seen, started = 0, None
    deadline = time.monotonic() + 120
    while seen < n and time.monotonic() < deadline:
        batch = consumer.consume(10000, timeout=0.5)
        if batch and started is None:
            started = time.perf_counter()
        seen += sum(1 for m in batch if m.error() is None)
    elapsed = time.perf_counter() - (started or time.perf_counter())
    consumer.close()
    return seen / max(elapsed, 1e-9)


def bench_pipeline(kind: str, settings: Settings, records: list[dict]) -> dict[str, object]:
    n = len(records)
    started = time.perf_counter()
    publish(settings, records)
    produce_rate = n / (time.perf_counter() - started)
    raw_rate = bench_raw_consume(settings, n)
    engine = make_engine(settings.database_url)
    workers = {stage: start(settings, "worker", stage) for stage in STAGES}
    first: dict[int, float] = {}
    last: dict[int, float] = {}
    rss = {stage: 0.0 for stage in STAGES}
    t0 = time.perf_counter()
    while True:
        now_counts = counts(engine)
        now = time.perf_counter()
        for index, value in enumerate(now_counts):
            if value and index not in first:
                first[index] = now
            if value < (n if index < 2 else 2 * n):
                last[index] = now
        for stage, process in workers.items():
            rss[stage] = max(rss[stage], peak_rss_mb(process.pid))
        if now_counts == (n, n, 2 * n):
            break
        if now - t0 > 1800:
            raise SystemExit(f"pipeline did not drain: {now_counts}")
        time.sleep(0.2)
    for process in workers.values():
        process.terminate()
    for process in workers.values():
        process.wait(timeout=60)
    bulk = bench_bulk_insert(kind, engine, Path(settings.home), n)
    end_to_end = n / (max(last.values()) - first[0])
    stage_rates = {
        stage: n / max(last[i] - first[i], 1e-9) for i, stage in enumerate(STAGES)
    }
    return {"produce": produce_rate, "raw_consume": raw_rate, "stages": stage_rates,
            "end_to_end": end_to_end, "rss_mb": rss, "bulk": bulk, "engine": engine}


def bench_latency(settings: Settings, seconds: float, rate: int = 1000) -> dict[str, float]:
    settings = settings.model_copy(update={"api_port": free_port()})
    processes = [start(settings, "worker", stage) for stage in STAGES]
    processes.append(start(settings, "api"))
    base = f"http://127.0.0.1:{settings.api_port}"
    accepted_at: dict[str, datetime] = {}
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            time.sleep(8)  # let the consumer groups settle before measuring
            total = int(seconds * rate)
            records = iter_sales(total, seed=99, style="compact")
            chunk = 10  # 100 requests a second of 10 sales each
            started = time.perf_counter()
            for i in range(0, total, chunk):
                batch = [dict(next(records), Invoice=f"LAT-{i + k:09d}00001")
                         for k in range(chunk)]
                response = client.post("/v1/sales", content=b"\n".join(map(orjson.dumps, batch)),
                                       headers={"content-type": "application/x-ndjson"})
                assert response.status_code == 202, response.text
                now = datetime.now(UTC).replace(tzinfo=None)
                for record in batch:
                    accepted_at[record["Invoice"]] = now
                ahead = (i + chunk) / rate - (time.perf_counter() - started)
                if ahead > 0:
                    time.sleep(ahead)
        engine = make_engine(settings.database_url)
        deadline = time.monotonic() + 120
        posted: dict[str, datetime] = {}
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                rows = connection.execute(text(
                    "SELECT invoice_line_id, max(updated_at) FROM journal_entries "
                    "WHERE invoice_line_id LIKE 'LAT-%' GROUP BY invoice_line_id "
                    "HAVING count(*) = 2")).all()
            posted = {line: (at if isinstance(at, datetime) else datetime.fromisoformat(at))
                      for line, at in rows}
            if len(posted) == len(accepted_at):
                break
            time.sleep(0.5)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
    latencies = sorted((posted[k] - accepted_at[k]).total_seconds() * 1000
                       for k in accepted_at if k in posted)
    return {"count": len(latencies), "missing": len(accepted_at) - len(latencies),
            "p50": statistics.median(latencies),
            "p99": latencies[int(len(latencies) * 0.99) - 1], "max": latencies[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sales", type=int, default=200_000)
    parser.add_argument("--databases", default="sqlite,mariadb")
    parser.add_argument("--latency-seconds", type=float, default=30)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="oaken-bench-"))
    records = list(iter_sales(args.sales, style="compact"))
    port = free_port()
    broker = EmbeddedBroker(Settings(home=home, broker_port=port))
    broker.start()
    results: dict[str, dict] = {}
    try:
        for kind in args.databases.split(","):
            print(f"[{kind}] import in one transaction …", flush=True)
            imported = bench_import(kind, records, home)
            url, drop = fresh_database(kind, home)
            try:
                settings = settings_for(url, f"127.0.0.1:{port}", home)
                print(f"[{kind}] pipeline with {args.sales:,} sales …", flush=True)
                pipeline = bench_pipeline(kind, settings, records)
                pipeline.pop("engine").dispose()
                print(f"[{kind}] latency at 1,000 sales/s …", flush=True)
                latency = bench_latency(settings, args.latency_seconds)
            finally:
                drop()
            results[kind] = {"import": imported, **pipeline, "latency": latency}
            print(json.dumps(results[kind], indent=2, default=str), flush=True)
    finally:
        broker.stop()
    write_section("streaming", render(results, args.sales))


def render(results: dict[str, dict], sales: int) -> str:
    lines = [
        "## Streaming (`bench/streaming.py`)", "",
        f"{sales:,} synthetic sales through the whole pipeline (embedded broker, 4 "
        "partitions, one process per worker). Targets: end to end ≥ 20,000 sales/s on "
        "SQLite and ≥ 10,000 on MariaDB, at least half the bulk-insert rate; p99 < 500 ms "
        "at 1,000 sales/s; < 300 MB RSS per worker.", "",
        "| database | produce | raw consume | orders | shipping | accounting | **end to end** "
        "| bulk insert (1 tx) | end to end ÷ bulk | `oaken import` (1 tx) "
        "| p50 / p99 latency | peak RSS (MB) o/s/a |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for kind, r in results.items():
        s, lat, rss = r["stages"], r["latency"], r["rss_mb"]
        lines.append(
            f"| {kind} | {r['produce']:,.0f}/s | {r['raw_consume']:,.0f}/s "
            f"| {s['orders']:,.0f}/s | {s['shipping']:,.0f}/s | {s['accounting']:,.0f}/s "
            f"| **{r['end_to_end']:,.0f}/s** | {r['bulk']:,.0f}/s "
            f"| {r['end_to_end'] / r['bulk']:.2f} | {r['import']:,.0f}/s "
            f"| {lat['p50']:.0f} / {lat['p99']:.0f} ms "
            f"| {rss['orders']:.0f} / {rss['shipping']:.0f} / {rss['accounting']:.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
