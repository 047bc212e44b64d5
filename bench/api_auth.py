"""What API keys cost the ingest API's hot path (section ``api-auth`` of BENCHMARKS.md).

Two measurements, side by side in one run:

1. :meth:`oaken.api.auth.KeyRing.sender` alone: the work a request with a key adds
   (one SHA-256 and a dictionary lookup), and a keyless loopback request.
2. A real ``oaken api`` process (journal on, no broker: requests end in the journal,
   so nothing else varies), answering requests of one sale from one client over a
   kept-alive connection: keyless from loopback against a key in every request,
   alternating request by request so the machine's load falls on both alike.

    .venv/bin/python bench/api_auth.py [--requests 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import write_section
from oaken.api.auth import KeyRing
from oaken.db.engine import make_engine
from oaken.db.migrate import migrate
from oaken.keys.store import create_key, revoke
from tests.support.factory import sale
from tests.support.pipeline import free_port


def ring_cost(url: str, calls: int = 200_000) -> tuple[float, float]:
    """µs per call of KeyRing.sender with a key, and keyless from loopback."""
    engine = make_engine(url)
    created = [create_key(engine, f"app-{n}") for n in range(10)]
    keyed = KeyRing(engine, token=None)
    keyed.refresh()
    header = f"Bearer {created[3].key}"
    started = time.perf_counter()
    for _ in range(calls):
        keyed.sender(header, "198.51.100.1")
    with_key = (time.perf_counter() - started) / calls * 1e6
    for key in created:
        revoke(engine, key.info.name)
    keyless = KeyRing(engine, token=None)
    keyless.refresh()
    started = time.perf_counter()
    for _ in range(calls):
        keyless.sender(None, "127.0.0.1")
    without = (time.perf_counter() - started) / calls * 1e6
    engine.dispose()
    return with_key, without


def interleaved(ports: tuple[int, int], key: str, requests: int) -> tuple[float, float]:
    """Median µs to a 202 of one-sale requests, alternating request by request between
    the keyless process (``ports[0]``) and the keyed one (``ports[1]``), so the load of
    the machine falls on both alike."""
    bodies = [orjson.dumps(sale(n)) for n in range(requests)]
    keyless = httpx.Client(base_url=f"http://127.0.0.1:{ports[0]}")
    keyed = httpx.Client(
        base_url=f"http://127.0.0.1:{ports[1]}", headers={"authorization": f"Bearer {key}"}
    )
    times: tuple[list[float], list[float]] = ([], [])
    with keyless, keyed:
        for body in bodies:
            for client, spent in ((keyless, times[0]), (keyed, times[1])):
                started = time.perf_counter()
                response = client.post("/v1/sales", content=body)
                spent.append(time.perf_counter() - started)
                assert response.status_code == 202, response.text
    return statistics.median(times[0]) * 1e6, statistics.median(times[1]) * 1e6


def start_api(home: Path, url: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAKEN_")}
    env.update(
        {
            "OAKEN_HOME": str(home),
            "OAKEN_DATABASE_URL": url,
            "OAKEN_KAFKA_BOOTSTRAP": "127.0.0.1:1",
            "OAKEN_JOURNAL": "on",
            "OAKEN_JOURNAL_MAX_RECORDS": "10000000",
            "OAKEN_API_PORT": str(port),
        }
    )
    log = open(home / f"api-{port}.log", "ab")  # noqa: SIM115 (kept for the process)
    process = subprocess.Popen(
        [sys.executable, "-m", "oaken", "api"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return process, port
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the API did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="oaken-bench-auth-") as directory:
        home = Path(directory)
        ring_url = f"sqlite:///{home / 'ring.db'}"
        migrate(ring_url)
        with_key, without = ring_cost(ring_url)

        keyless_url, keyed_url = (
            f"sqlite:///{home / 'keyless.db'}",
            f"sqlite:///{home / 'keyed.db'}",
        )
        migrate(keyless_url)
        migrate(keyed_url)
        engine = make_engine(keyed_url)
        key = create_key(engine, "bench").key
        engine.dispose()
        (home / "a").mkdir()
        (home / "b").mkdir()
        processes = [start_api(home / "a", keyless_url), start_api(home / "b", keyed_url)]
        try:
            ports = (processes[0][1], processes[1][1])
            interleaved(ports, key, 200)  # warm both
            rounds = [interleaved(ports, key, args.requests) for _ in range(args.rounds)]
        finally:
            for process, _ in processes:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
    p = statistics.median(plain for plain, _ in rounds)
    k = statistics.median(keyed for _, keyed in rounds)
    body = f"""## API keys on the ingest API's hot path (`bench/api_auth.py`)

Side by side in one run, SQLite. `KeyRing.sender` alone over 200,000 calls; then two
`oaken api` processes (journal on, no broker, so each request ends in the journal), one
keyless (loopback client), one with a key in every request; one client sends one-sale
requests to each in turn, {args.requests:,} to each per round, {args.rounds} rounds: the
median time to a `202`, the median over the rounds.

| | keyless (loopback) | with a key | difference |
|---|---|---|---|
| `KeyRing.sender` per call | {without:.2f} µs | {with_key:.2f} µs | {with_key - without:+.2f} µs |
| one-sale request to a 202 | {p:,.0f} µs | {k:,.0f} µs | {k - p:+,.0f} µs ({(k - p) / p:+.1%}) |

The key's check is one SHA-256 and a dictionary lookup, no database round trip: the keys
are read every 2 s by a thread of each API process, and last use is written at most once
a minute per key. The check costs {with_key:.0f} µs of a request's {p / 1000:.1f} ms; on a
machine shared with other work the request row moves by more than that from run to run."""
    print(body)
    write_section("api-auth", body)


if __name__ == "__main__":
    main()
