"""Chaos, overload and soak: what the platform does when its parts die or are swamped.

    .venv/bin/python bench/chaos.py                      # everything, the sizes of issue 9
    .venv/bin/python bench/chaos.py --only soak --soak-minutes 30
    .venv/bin/python bench/chaos.py --quick              # small sizes, to check the harness

Sections of BENCHMARKS.md it rewrites:
- ``chaos``: 100,000 sales at 2,000/s through ``oaken up`` while ``kill -9`` hits the
  broker, every worker and the API twice each (and, on MariaDB, the database server,
  down 10 s): lost / doubled / unbalanced, and the time from each kill until the
  ledger grows at the offered rate again (median and worst per kind of fault);
- ``journal``: the ingest journal on vs off, side by side (throughput with 8 clients
  sending as fast as they can; p50/p99 latency of a 202 at 1,000 sales/s);
- ``overload``: 200 concurrent clients for 60 s: answers, API peak memory, and every
  202 in the ledger afterwards;
- ``soak``: 30 minutes at 1,000 sales/s, the memory of every process sampled;
- ``faults``: the faults beyond one ``kill -9`` (a full disk under ``OAKEN_HOME``,
  ``oaken up`` itself killed, a worker frozen past its session, the broker and the
  orders worker killed together, the database down while a worker is frozen), one run
  each: lost / doubled / unbalanced, the answers, and the time from the end of the
  fault until the ledger grows at the offered rate again.
- ``replay``: ``oaken replay`` of 200,000 sales at 1,000/s through ``oaken up`` with
  ``OAKEN_BROKER_RECYCLE_MB=128``: the broker is recycled during the replay, and every
  replayed sale must be recorded, exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

from report import write_section
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.chaos import (
    PROCESSES,
    Clients,
    Platform,
    fill,
    freeze_when_busy,
    run_faults,
    swamp_api,
    tmpfs,
    wait_until_settled,
)

KILLS = ["broker", "broker", "orders", "orders", "shipping", "shipping",
         "accounting", "accounting", "api", "api"]


def ledger_check(database_url: str, accepted: dict[str, Decimal]) -> dict[str, int]:
    """Lost, doubled and unbalanced, counted in the database."""
    engine = create_engine(database_url)
    with engine.connect() as connection:
        found = Counter(row[0] for row in connection.execute(
            text("SELECT invoice_line_id FROM sales")))
        entries = Counter(row[0] for row in connection.execute(
            text("SELECT invoice_line_id FROM journal_entries WHERE source = 'sale'")))
        unbalanced = connection.execute(text(
            "SELECT count(*) FROM (SELECT entry_id FROM journal_lines GROUP BY entry_id "
            "HAVING sum(debit) <> sum(credit)) t")).scalar_one()
    engine.dispose()
    return {"lost": sum(1 for line in accepted if line not in found or line not in entries),
            "doubled": sum(1 for n in found.values() if n > 1)
            + sum(1 for n in entries.values() if n > 1),
            "unbalanced": unbalanced}


class Sampler(threading.Thread):
    """Samples journal entries written (and, optionally, every process's RSS)."""

    def __init__(self, platform: Platform, every: float, memory: bool = False) -> None:
        super().__init__(daemon=True)
        self.platform, self.every, self.memory = platform, every, memory
        self.samples: list[tuple[float, int, dict[str, float | None]]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        engine = create_engine(self.platform.database_url)
        while not self.stop.wait(self.every):
            try:
                with engine.connect() as connection:
                    entries = connection.execute(
                        text("SELECT count(*) FROM journal_entries")).scalar_one()
                rss = ({name: self.platform.rss_mb(name) for name in (*PROCESSES, "repair")}
                       if self.memory else {})
            except Exception:  # a database server being killed: skip the sample
                continue
            self.samples.append((time.monotonic(), entries, rss))
        engine.dispose()


def recovery_seconds(samples, at: float, rate: float) -> float | None:
    """Seconds from ``at`` until the ledger grows at the offered rate again (two entries
    a sale) over a one-second window."""
    for index, (when, entries, _) in enumerate(samples):
        if when <= at + 0.5:
            continue
        earlier = [s for s in samples[:index] if when - s[0] >= 1.0]
        if not earlier:
            continue
        then, before, _ = earlier[-1]
        if (entries - before) / (when - then) >= 0.9 * 2 * rate:
            return round(when - at, 1)
    return None


def chaos_run(home: Path, database: str, sales: int, rate: float, seed: int) -> dict:
    server = None
    if database == "sqlite":
        url = f"sqlite:///{home / 'oaken.db'}"
        db_fault = None
    else:
        from tests.support.db_servers import PrivateServer

        server = PrivateServer(database)
        server.start()
        server.create_database("oaken")
        url = server.url("oaken")
        db_fault = (server.kill, server.start)
    platform = Platform(home, url)
    platform.start()
    sampler = Sampler(platform, 0.25)
    sampler.start()
    clients = Clients(platform.url, sales=sales, rate=rate, threads=8)
    sending = threading.Thread(target=clients.run)
    sending.start()
    time.sleep(5)
    plan = KILLS + (["database"] if db_fault else [])
    spacing = (2.0, max(2.5, sales / rate / len(plan) - 1.0))
    faults = run_faults(platform, plan, seed=seed, spacing=spacing, database=db_fault)
    sending.join()
    wait_until_settled(platform, sales, timeout=900)
    sampler.stop.set()
    sampler.join()
    platform.stop()
    result = {"database": database, **ledger_check(url, clients.accepted),
              "accepted": len(clients.accepted), "answers": clients.answers,
              "refused": clients.refused, "recovery": {}}
    for fault in faults:
        seconds = recovery_seconds(sampler.samples, fault.at + fault.seconds_down, rate)
        result["recovery"].setdefault(fault.kind, []).append(seconds)
    if server:
        server.remove()
    return result


def render_chaos(results: list[dict], sales: int, rate: float) -> str:
    lines = [
        "## Chaos (`bench/chaos.py`)", "",
        f"{sales:,} sales at {rate:,.0f}/s through `oaken up` (embedded broker, journal on), "
        "sent by 8 clients that retry a 503 or a refused connection, while `kill -9` hits "
        "the broker, each worker and the API twice each at random moments (and the "
        "database server once, down 10 s, where it is a server). Recovery: seconds from the "
        "kill (from the restart, for the database) until the ledger grows at the offered "
        "rate again over one second; `never` means the ledger did not reach the full rate "
        "again before the traffic ended (it caught up afterwards).", "",
        "| database | accepted | lost | doubled | unbalanced | HTTP answers | refused "
        "connections |", "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        answers = ", ".join(f"{code}: {n:,}" for code, n in sorted(r["answers"].items()))
        lines.append(f"| {r['database']} | {r['accepted']:,} | {r['lost']} | {r['doubled']} | "
                     f"{r['unbalanced']} | {answers} | {r['refused']:,} |")
    lines += ["", "| database | fault | kills | recovery median | recovery worst |",
              "|---|---|---|---|---|"]
    for r in results:
        for kind, times in sorted(r["recovery"].items()):
            known = [t for t in times if t is not None]
            median = f"{statistics.median(known):.1f} s" if known else "never"
            worst = "never" if None in times else f"{max(known):.1f} s"
            lines.append(f"| {r['database']} | {kind} | {len(times)} | {median} | {worst} |")
    return "\n".join(lines)


def journal_run(home: Path, journal: str, sales: int, latency_rate: float) -> dict:
    platform = Platform(home, f"sqlite:///{home / 'oaken.db'}", OAKEN_JOURNAL=journal)
    platform.start()
    flat_out = Clients(platform.url, sales=sales, rate=1e9, threads=8, chunk=200)
    started = time.monotonic()
    flat_out.run()
    accepted_rate = sales / (time.monotonic() - started)
    wait_until_settled(platform, sales, timeout=900)
    end_to_end = sales / (time.monotonic() - started)
    paced = Clients(platform.url, sales=int(latency_rate * 20), rate=latency_rate, threads=4,
                    chunk=10, first=sales)
    paced.run()
    wait_until_settled(platform, sales + paced.sales, timeout=900)
    platform.stop()
    latencies = sorted(paced.latencies)
    return {"journal": journal, "accepted_rate": accepted_rate, "end_to_end": end_to_end,
            "p50": latencies[len(latencies) // 2] * 1000,
            "p99": latencies[int(len(latencies) * 0.99)] * 1000}


def render_journal(results: list[dict], sales: int, latency_rate: float) -> str:
    on, off = results
    lines = [
        "## The ingest journal on vs off (`bench/chaos.py`)", "",
        f"Side by side in one run, SQLite, embedded broker. Throughput: {sales:,} sales sent "
        "by 8 clients as fast as they are answered (200 per request). Latency: time to a "
        f"202 for requests of 10 sales at {latency_rate:,.0f} sales/s for 20 s.", "",
        "| journal | accepted by the API | end to end (in the ledger) | p50 / p99 to a 202 |",
        "|---|---|---|---|",
    ]
    for r in results:
        lines.append(f"| {r['journal']} | {r['accepted_rate']:,.0f} sales/s | "
                     f"{r['end_to_end']:,.0f} sales/s | {r['p50']:.0f} / {r['p99']:.0f} ms |")
    lines += ["", f"On ÷ off: accepted {on['accepted_rate'] / off['accepted_rate']:.2f}×, "
              f"end to end {on['end_to_end'] / off['end_to_end']:.2f}×, "
              f"p99 {on['p99'] / off['p99']:.2f}×."]
    return "\n".join(lines)


def overload_run(home: Path, clients: int, seconds: float) -> dict:
    platform = Platform(home, f"sqlite:///{home / 'oaken.db'}",
                        OAKEN_JOURNAL_MAX_RECORDS="50000")
    platform.start()
    peak = {"api": 0.0}
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.2):
            peak["api"] = max(peak["api"], platform.rss_mb("api") or 0.0)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    before = platform.rss_mb("api")
    swamp = asyncio.run(swamp_api(platform.url, clients, seconds))
    done.set()
    wait_until_settled(platform, len(swamp["accepted"]), timeout=900)
    alive = platform.all_alive()
    platform.stop()
    return {**swamp, **ledger_check(platform.database_url, swamp["accepted"]),
            "api_before": before, "api_peak": peak["api"], "alive": all(alive.values())}


def render_overload(r: dict, clients: int, seconds: float) -> str:
    answers = ", ".join(f"{'refused' if code == 0 else code}: {n:,}"
                        for code, n in sorted(r["answers"].items()))
    return "\n".join([
        "## Overload (`bench/chaos.py`)", "",
        f"{clients} concurrent clients sending 200 sales a request, as fast as answered, for "
        f"{seconds:.0f} s (SQLite, journal capped at 50,000 records, "
        "`OAKEN_API_MAX_INFLIGHT_MB` at its default 16). A client answered 503 waits its "
        "`Retry-After`.", "",
        "| answers | accepted sales | lost / doubled / unbalanced | API RSS before → peak | "
        "every process alive |", "|---|---|---|---|---|",
        f"| {answers} | {len(r['accepted']):,} | {r['lost']} / {r['doubled']} / "
        f"{r['unbalanced']} | {r['api_before']:.0f} → {r['api_peak']:.0f} MB | "
        f"{'yes' if r['alive'] else 'no'} |",
    ])


def soak_run(home: Path, minutes: float, rate: float) -> dict:
    platform = Platform(home, f"sqlite:///{home / 'oaken.db'}",
                        OAKEN_REPAIR_GRACE_SECONDS="60", OAKEN_REPAIR_INTERVAL_SECONDS="30")
    platform.start()
    sampler = Sampler(platform, 10.0, memory=True)
    sampler.start()
    sales = int(minutes * 60 * rate)
    clients = Clients(platform.url, sales=sales, rate=rate, threads=4, chunk=50)
    clients.run()
    (home / "soak-samples.json").write_text(json.dumps(sampler.samples))  # kept whatever follows
    wait_until_settled(platform, sales, timeout=900)
    sampler.stop.set()
    sampler.join()
    recycles = platform.supervisor()["broker_recycles"]
    platform.stop()
    return {"samples": sampler.samples, "sales": sales, "recycles": recycles,
            **ledger_check(platform.database_url, clients.accepted)}


def render_soak(r: dict, minutes: float, rate: float, limit: int) -> str:
    samples = r["samples"]
    start = samples[0][0]
    names = (*PROCESSES, "repair")
    lines = [
        "## Soak (`bench/chaos.py`)", "",
        f"{minutes:.0f} minutes at {rate:,.0f} sales/s through `oaken up` on SQLite "
        f"({r['sales']:,} sales), RSS of every process sampled every 10 s. The embedded "
        f"broker keeps every message in memory; the supervisor recycled it {r['recycles']} "
        f"times, each time it held more than `OAKEN_BROKER_RECYCLE_MB` ({limit} MB) and "
        f"every group had caught up. Lost / doubled / unbalanced: {r['lost']} / "
        f"{r['doubled']} / {r['unbalanced']}.", "",
        "| minute | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|",
    ]
    step = max(1, len(samples) // 12)
    for when, _entries, rss in samples[::step]:
        cells = " | ".join("-" if rss.get(n) is None else f"{rss[n]:.0f}" for n in names)
        lines.append(f"| {(when - start) / 60:.1f} | {cells} |")
    lines += ["", "| process | min | max | max after minute 5 |", "|---|---|---|---|"]
    for name in names:
        values = [rss[name] for _, _, rss in samples if rss.get(name) is not None]
        late = [rss[name] for when, _, rss in samples
                if rss.get(name) is not None and when - start >= 300]
        if values:
            lines.append(f"| {name} | {min(values):.0f} MB | {max(values):.0f} MB | "
                         f"{max(late or values):.0f} MB |")
    return "\n".join(lines)


def _full_disk(platform: Platform, disk: Path, _server) -> str:
    orders = platform.pid("orders")  # frozen meanwhile, so that the journal must grow
    assert orders is not None
    os.kill(orders, signal.SIGSTOP)
    filler = fill(disk)
    time.sleep(15)
    filler.unlink()
    os.kill(orders, signal.SIGCONT)
    return "full 15 s (orders worker frozen meanwhile), then the filler file deleted"


def _up_killed(platform: Platform, _disk, _server) -> str:
    children = platform.children()
    children["orders"].suspend()  # cannot act on the parent-death signal
    assert platform.process is not None
    platform.process.kill()
    platform.process.wait()
    time.sleep(3)
    platform.start()
    left = [name for name, p in children.items() if _running(p)]
    return f"started again 3 s later; old processes still running after: {left or 'none'}"


def _running(process) -> bool:
    try:
        return process.is_running() and process.status() != "zombie"
    except Exception:  # psutil.NoSuchProcess: gone
        return False


def _frozen(platform: Platform, _disk, _server) -> str:
    pid = platform.pid("orders")
    assert pid is not None
    busy = freeze_when_busy(pid)
    time.sleep(15)
    os.kill(pid, signal.SIGCONT)
    return f"frozen 15 s ({'with' if busy else 'maybe without'} a batch in hand), a second worker"


def _broker_and_orders(platform: Platform, _disk, _server) -> str:
    children = platform.children()
    for name in ("broker", "orders"):
        os.kill(children[name].pid, signal.SIGKILL)
    return "both kill -9 at once"


def _database_and_frozen(platform: Platform, _disk, server) -> str:
    pid = platform.pid("accounting")
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    server.kill()
    time.sleep(10)
    os.kill(pid, signal.SIGCONT)
    time.sleep(5)
    server.start()
    return "accounting frozen, database down 15 s (worker continued after 10 s)"


FAULTS = {  # name → (database, the fault, a second orders worker)
    "full disk": ("sqlite", _full_disk, False),
    "oaken up killed": ("sqlite", _up_killed, False),
    "worker frozen": ("sqlite", _frozen, True),
    "broker + orders": ("sqlite", _broker_and_orders, False),
    "database + frozen worker": ("mariadb", _database_and_frozen, False),
}


def fault_run(home: Path, name: str, sales: int, rate: float) -> dict:
    database, action, second_worker = FAULTS[name]
    with contextlib.ExitStack() as cleanup:
        disk = cleanup.enter_context(tmpfs(home / "disk", "512m")) if name == "full disk" else None
        platform_home = (disk or home) / "home"
        server = None
        if database == "sqlite":
            url = f"sqlite:///{platform_home / 'oaken.db'}"
        else:
            from tests.support.db_servers import PrivateServer

            server = PrivateServer(database)
            server.start()
            cleanup.callback(server.remove)
            url = server.create_database("oaken")
        platform = Platform(platform_home, url)
        platform.start()
        cleanup.callback(platform.stop)
        if second_worker:
            extra = platform.extra("worker", "orders")
            cleanup.callback(extra.wait)
            cleanup.callback(extra.kill)
        sampler = Sampler(platform, 0.25)
        sampler.start()
        clients = Clients(platform.url, sales=sales, rate=rate, threads=8)
        sending = threading.Thread(target=clients.run)
        sending.start()
        time.sleep(8)
        started = time.monotonic()
        how = action(platform, disk, server)
        ended = time.monotonic()
        sending.join()
        wait_until_settled(platform, sales, timeout=900)
        sampler.stop.set()
        sampler.join()
        alive = all(platform.all_alive().values())
        counted = ledger_check(url, clients.accepted)  # before the tmpfs goes
    return {"fault": name, "database": database, "how": how, **counted,
            "accepted": len(clients.accepted), "answers": clients.answers,
            "refused": clients.refused, "no_retry_after": clients.no_retry_after,
            "fault_seconds": ended - started, "alive": alive,
            "recovery": recovery_seconds(sampler.samples, ended, rate)}


def render_faults(results: list[dict], sales: int, rate: float) -> str:
    lines = [
        "## Faults beyond one kill (`bench/chaos.py`)", "",
        f"{sales:,} sales at {rate:,.0f}/s through `oaken up` (embedded broker, journal on), "
        "sent by 8 clients that retry a 503 or a refused connection; one fault each run, "
        "8 s after the traffic starts. Recovery: seconds from the end of the fault (space "
        "freed, `oaken up` started again, the worker continued, the database started) until "
        "the ledger grows at the offered rate again over one second; `never` means not "
        "before the traffic ended (it caught up afterwards). Every process alive: after "
        "the run, nothing restarted by hand.", "",
        "| fault | database | what | accepted | lost | doubled | unbalanced | HTTP answers | "
        "503 without Retry-After | refused connections | recovery | every process alive |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        answers = ", ".join(f"{code}: {n:,}" for code, n in sorted(r["answers"].items()))
        recovery = "never" if r["recovery"] is None else f"{r['recovery']:.1f} s"
        lines.append(
            f"| {r['fault']} | {r['database']} | {r['how']} | {r['accepted']:,} | {r['lost']} | "
            f"{r['doubled']} | {r['unbalanced']} | {answers} | {r['no_retry_after']} | "
            f"{r['refused']:,} | {recovery} | {'yes' if r['alive'] else 'no'} |")
    return "\n".join(lines)


def replay_run(home: Path, sales: int, rate: float, recycle_mb: int) -> dict:
    """``oaken replay --synthetic`` through ``oaken up``, with recycles meanwhile."""
    import re
    import subprocess

    from oaken.contract import parse_sale
    from oaken.sources.generator import iter_sales

    platform = Platform(home, f"sqlite:///{home / 'oaken.db'}",
                        OAKEN_BROKER_RECYCLE_MB=str(recycle_mb))
    platform.start()
    started = time.monotonic()
    try:
        with open(home / "replay.out", "wb") as out:
            code = subprocess.run(
                [sys.executable, "-m", "oaken", "replay", "--synthetic", str(sales),
                 "--rate", str(rate), "--seed", "2026"],
                env=platform.env, cwd=home, stdout=out, stderr=subprocess.STDOUT).returncode
        replay_seconds = time.monotonic() - started
        settled = code == 0
        if settled:
            wait_until_settled(platform, sales, timeout=900)
    finally:
        platform.stop()
    log = (home / "up.out").read_text()
    unconsumed = [int(n) for n in re.findall(r"unconsumed messages: (\d+)", log)]
    accepted = {}
    for record in iter_sales(sales, seed=2026, style="compact"):
        sale = parse_sale(record)
        accepted[sale.invoice_line_id] = sale.sale_dollars
    return {"sales": sales, "rate": rate, "recycle_mb": recycle_mb, "exit": code,
            "replay_seconds": replay_seconds, "recycles": len(unconsumed),
            "unconsumed": unconsumed, "settled": settled,
            "output": " ".join((home / "replay.out").read_text().split()).rpartition(
                "replayed ")[2],
            **ledger_check(platform.database_url, accepted)}


def render_replay(r: dict) -> str:
    recycles = ", ".join(f"{n:,}" for n in r["unconsumed"]) or "none"
    return "\n".join([
        "## Replay through broker recycles (`bench/chaos.py --only replay`)", "",
        f"`oaken replay --synthetic {r['sales']:,} --rate {r['rate']:,.0f}` through "
        f"`oaken up` on SQLite with `OAKEN_BROKER_RECYCLE_MB={r['recycle_mb']}`. The replay "
        "journals every record and returns once the orders group has taken it, sending "
        "again what a recycled broker lost.", "",
        "| replay exit | replay time | recycles (unconsumed messages at each) | "
        "lost | doubled | unbalanced |", "|---|---|---|---|---|---|",
        f"| {r['exit']} | {r['replay_seconds']:.0f} s | {r['recycles']} ({recycles}) | "
        f"{r['lost']:,} | {r['doubled']:,} | {r['unbalanced']:,} |", "",
        f"The replay's last words: `replayed {r['output']}`",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--only", choices=("chaos", "journal", "overload", "soak", "faults",
                                                "replay"),
                        action="append", help="run only these parts (repeatable)")
    parser.add_argument("--soak-minutes", type=float, default=30.0)
    parser.add_argument("--databases", default="sqlite,mariadb",
                        help="databases of the chaos part")
    parser.add_argument("--faults", default=",".join(FAULTS),
                        help="which faults of the faults part (comma-separated)")
    args = parser.parse_args()
    parts = args.only or ["chaos", "journal", "overload", "soak", "faults", "replay"]
    home = Path(tempfile.mkdtemp(prefix="oaken-chaos-"))
    sales, rate = (10_000, 1000.0) if args.quick else (100_000, 2000.0)
    if "chaos" in parts:
        results = [chaos_run(home / f"chaos-{db}", db, sales, rate, seed=2026)
                   for db in args.databases.split(",")]
        write_section("chaos", render_chaos(results, sales, rate))
    if "journal" in parts:
        count = 10_000 if args.quick else 50_000
        results = [journal_run(home / f"journal-{mode}", mode, count, 1000.0)
                   for mode in ("on", "off")]
        write_section("journal", render_journal(results, count, 1000.0))
    if "overload" in parts:
        seconds = 10.0 if args.quick else 60.0
        write_section("overload", render_overload(overload_run(home / "overload", 200,
                                                               seconds), 200, seconds))
    if "soak" in parts:
        minutes = 2.0 if args.quick else args.soak_minutes
        result = soak_run(home / "soak", minutes, 1000.0)
        write_section("soak", render_soak(result, minutes, 1000.0, 512))
    if "faults" in parts:
        count, pace = (8_000, 500.0) if args.quick else (40_000, 1000.0)
        chosen = args.faults.split(",")
        results = [fault_run(home / f"fault-{n}".replace(" ", "-"), n, count, pace)
                   for n in chosen]
        write_section("faults", render_faults(results, count, pace))
    if "replay" in parts:
        count, limit = (20_000, 30) if args.quick else (200_000, 128)
        write_section("replay", render_replay(replay_run(home / "replay", count, 1000.0,
                                                         limit)))
    print(f"results in BENCHMARKS.md; scratch data in {home}")


if __name__ == "__main__":
    main()
