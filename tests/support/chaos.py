"""A platform under fire: ``oaken up`` as a user runs it, sales applications sending
through the API, and ``kill -9`` at random moments. Shared by the chaos tests and
``bench/chaos.py``.

The clients behave as a sales application must: a chunk of sales is sent until it is
answered ``202``; a ``503`` (honouring ``Retry-After``), a refused connection or a
timeout means "send it again". Only chunks answered ``202`` count as accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import httpx
import orjson
import psutil
from sqlalchemy import Engine, create_engine, text

from tests.support.factory import dollars, sale
from tests.support.pipeline import free_port

PROCESSES = ("broker", "orders", "shipping", "accounting", "api")


class Platform:
    """``oaken up`` in a home of its own, on free ports, against ``database_url``."""

    def __init__(self, home: Path, database_url: str, **settings: str) -> None:
        self.home = home
        self.database_url = database_url
        self.api_port = free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("OAKEN_")}
        self.env.update({
            "OAKEN_HOME": str(home), "OAKEN_DATABASE_URL": database_url,
            "OAKEN_BROKER_PORT": str(free_port()), "OAKEN_API_PORT": str(self.api_port),
            "OAKEN_REPAIR_GRACE_SECONDS": "3", "OAKEN_REPAIR_INTERVAL_SECONDS": "1",
            "OAKEN_RESTART_BACKOFF_MAX_SECONDS": "4", "OAKEN_BATCH_SIZE": "1000",
            "OAKEN_ANALYTICS_INTERVAL_SECONDS": "0",  # live analytics only where a test asks
            **settings,
        })
        self.url = f"http://127.0.0.1:{self.api_port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.engine: Engine = create_engine(database_url, pool_pre_ping=True)

    def start(self, timeout: float = 90.0) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.home / "up.out", "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "oaken", "up"], env=self.env, cwd=self.home,
                stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log()
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        raise AssertionError(f"oaken up was not healthy in {timeout:.0f}s\n{self.log()}")

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is not None:  # killed by the test
            self.engine.dispose()
            return self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.engine.dispose()
        return self.process.returncode

    def log(self) -> str:
        path = self.home / "up.out"
        return path.read_text()[-4000:] if path.exists() else ""

    def supervisor(self) -> dict:
        return json.loads((self.home / "supervisor.json").read_text())

    def pid(self, name: str) -> int | None:
        return self.supervisor()["processes"][name]["pid"]

    def kill(self, name: str, timeout: float = 30.0, *, signum: int = signal.SIGKILL) -> int:
        """``kill -9`` (or send ``signum`` to) the running ``name``, waiting until the
        supervisor has one; returns its pid."""
        deadline = time.monotonic() + timeout
        while (pid := self.pid(name)) is None or not psutil.pid_exists(pid):
            assert time.monotonic() < deadline, f"no {name} process to kill"
            time.sleep(0.1)
        os.kill(pid, signum)
        return pid

    def children(self) -> dict[str, psutil.Process]:
        """The processes ``oaken up`` runs now, by name."""
        found = {}
        for name, entry in self.supervisor()["processes"].items():
            try:
                found[name] = psutil.Process(entry["pid"])
            except (psutil.Error, TypeError):
                continue
        return found

    def extra(self, *args: str) -> subprocess.Popen[bytes]:
        """Another ``oaken`` process beside the supervised ones (e.g. a second worker of
        a stage), with the platform's settings; the caller stops it."""
        with open(self.home / f"extra-{'-'.join(args)}.log", "ab") as out:
            return subprocess.Popen([sys.executable, "-m", "oaken", *args], env={
                **self.env, "OAKEN_KAFKA_BOOTSTRAP": f"127.0.0.1:{self.env['OAKEN_BROKER_PORT']}",
                "OAKEN_JOURNAL": "on"}, cwd=self.home, stdout=out, stderr=subprocess.STDOUT)

    def all_alive(self) -> dict[str, bool]:
        return {name: bool((pid := self.pid(name)) and psutil.pid_exists(pid))
                for name in (*PROCESSES, "repair")}

    def rss_mb(self, name: str) -> float | None:
        pid = self.pid(name)
        try:
            return psutil.Process(pid).memory_info().rss / 2**20 if pid else None
        except psutil.Error:
            return None

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as connection:
            return {table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                    for table in ("sales", "shipments", "journal_entries")}

    def status(self) -> dict:
        result = subprocess.run([sys.executable, "-m", "oaken", "status", "--json"],
                                env=self.env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


class CannotMount(Exception):
    pass


@contextlib.contextmanager
def tmpfs(mount: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` (e.g. "160m") mounted at ``mount`` (root only), unmounted
    afterwards; :class:`CannotMount` with the reason when it cannot be mounted."""
    mount.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise CannotMount(f"cannot mount a tmpfs (root needed): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        if subprocess.run(["umount", str(mount)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mount)], check=True)  # a process lingers


def fill(disk: Path) -> Path:
    """Write a file until the disk has no room left; returns it."""
    filler = disk / "filler"
    chunk = b"\0" * 2**20
    with open(filler, "wb", buffering=0) as out:
        while True:
            try:
                out.write(chunk)
            except OSError as problem:
                assert problem.errno == errno.ENOSPC, problem
                break
    with contextlib.suppress(OSError), open(filler, "ab", buffering=0) as out:
        while out.write(b"\0" * 4096):  # the last few pages
            pass
    return filler


def freeze_when_busy(pid: int, *, timeout: float = 30.0) -> bool:
    """SIGSTOP process ``pid`` at a moment its main thread is at work (running or in a
    disk wait, in two samples in a row, 2 ms apart; a worker waiting for messages
    sleeps): for a worker, in the middle of a batch, between consuming it and committing
    its offsets. Returns whether such a moment came (it is frozen either way)."""
    stat = Path(f"/proc/{pid}/task/{pid}/stat")
    deadline = time.monotonic() + timeout
    busy = 0
    while time.monotonic() < deadline:
        state = stat.read_text().rsplit(")", 1)[1].split()[0]
        busy = busy + 1 if state in ("R", "D") else 0
        if busy >= 2:
            os.kill(pid, signal.SIGSTOP)
            return True
        time.sleep(0.002)
    os.kill(pid, signal.SIGSTOP)
    return False


@dataclass
class Clients:
    """Sales applications: ``threads`` of them share ``rate`` sales a second, in chunks."""

    url: str
    sales: int
    rate: float
    chunk: int = 50
    threads: int = 4
    first: int = 0
    accepted: dict[str, Decimal] = field(default_factory=dict)
    answers: dict[int, int] = field(default_factory=dict)  # HTTP status → count
    refused: int = 0  # connection refused / reset / timed out
    no_retry_after: int = 0  # 503 answers without a Retry-After header
    latencies: list[float] = field(default_factory=list)  # seconds to a 202
    accepted_at: list[tuple[float, int]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self) -> None:
        chunks = [list(range(start, min(start + self.chunk, self.first + self.sales)))
                  for start in range(self.first, self.first + self.sales, self.chunk)]
        started = time.monotonic()
        interval = self.chunk / self.rate  # seconds between chunks, all clients together
        workers = [threading.Thread(target=self._send, args=(chunks[i::self.threads], i,
                                                               started, interval))
                   for i in range(self.threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    def _send(self, chunks: list[list[int]], lane: int, started: float, interval: float):
        with httpx.Client(base_url=self.url, timeout=10) as client:
            for number, numbers in enumerate(chunks):
                due = started + (number * self.threads + lane) * interval
                time.sleep(max(0.0, due - time.monotonic()))
                records = [sale(n) for n in numbers]
                body = b"\n".join(orjson.dumps(record) for record in records)
                sent = time.monotonic()
                while True:
                    status, wait = self._post(client, body)
                    if status == 202:
                        break
                    time.sleep(wait)
                now = time.monotonic()
                with self._lock:
                    self.latencies.append(now - sent)
                    self.accepted_at.append((now, len(records)))
                    for record in records:
                        self.accepted[str(record["Invoice"])] = dollars(record)

    def _post(self, client: httpx.Client, body: bytes) -> tuple[int, float]:
        try:
            response = client.post("/v1/sales", content=body,
                                   headers={"content-type": "application/x-ndjson"})
        except httpx.TransportError:
            with self._lock:
                self.refused += 1
            return 0, 0.2
        with self._lock:
            self.answers[response.status_code] = self.answers.get(response.status_code, 0) + 1
            if response.status_code == 503 and "retry-after" not in response.headers:
                self.no_retry_after += 1
        retry_after = float(response.headers.get("retry-after", "0.2"))
        return response.status_code, min(retry_after, 2.0)

    def unexpected(self) -> dict[int, int]:
        """Answers other than 202 and 503."""
        return {code: n for code, n in self.answers.items() if code not in (202, 503)}


@dataclass
class Fault:
    kind: str  # a process name, or "database"
    at: float  # time.monotonic() of the kill
    seconds_down: float = 0.0


def run_faults(platform: Platform, plan: list[str], *, seed: int, spacing: tuple[float, float],
               database: tuple[Callable[[], None], Callable[[], None]] | None = None,
               database_down: float = 10.0, stop: threading.Event | None = None
               ) -> list[Fault]:
    """``kill -9`` each entry of ``plan`` (shuffled) at random moments; a "database"
    entry kills the database server with ``database[0]`` and, ``database_down`` seconds
    later, starts it with ``database[1]``."""
    rng = random.Random(seed)
    order = plan[:]
    rng.shuffle(order)
    done = []
    for kind in order:
        if stop is not None and stop.is_set():
            break
        time.sleep(rng.uniform(*spacing))
        at = time.monotonic()
        if kind == "database":
            assert database is not None
            database[0]()
            time.sleep(database_down)
            database[1]()
            done.append(Fault(kind, at, time.monotonic() - at))
        else:
            platform.kill(kind)
            done.append(Fault(kind, at))
    return done


def wait_until_settled(platform: Platform, expected: int, *, timeout: float = 240.0) -> dict:
    """Wait until every accepted sale is in the ledger and nothing waits anywhere;
    returns the final ``oaken status``."""
    deadline = time.monotonic() + timeout
    last: dict = {}
    while time.monotonic() < deadline:
        counts = platform.counts()
        if counts == {"sales": expected, "shipments": expected,
                      "journal_entries": 2 * expected}:
            last = platform.status()
            if (not any(gap["rows"] for gap in last["waiting"].values())
                    and not last["journal"] and not any(last["lag"].values())):
                return last
        time.sleep(1.0)
    raise AssertionError(f"not settled in {timeout:.0f}s: {platform.counts()} of {expected}; "
                         f"status {last}\n{platform.log()}")


async def swamp_api(url: str, clients: int, seconds: float, *, first: int = 0,
                    chunk: int = 200) -> dict:
    """``clients`` concurrent clients post ``chunk`` sales a request, as fast as they are
    answered, for ``seconds``; a 503 waits its ``Retry-After``. Returns the answers
    (0: no connection), the sales answered 202, and 503s that lacked ``Retry-After``."""
    answers: Counter[int] = Counter()
    accepted: dict[str, Decimal] = {}
    no_retry_after = 0
    counter = iter(range(first, 10**9, chunk))
    deadline = time.monotonic() + seconds

    async def client() -> None:
        nonlocal no_retry_after
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            while time.monotonic() < deadline:
                start = next(counter)
                records = [sale(n) for n in range(start, start + chunk)]
                body = b"\n".join(orjson.dumps(record) for record in records)
                try:
                    response = await http.post("/v1/sales", content=body, headers={
                        "content-type": "application/x-ndjson"})
                except httpx.TransportError:
                    answers[0] += 1
                    await asyncio.sleep(0.2)
                    continue
                answers[response.status_code] += 1
                if response.status_code == 202:
                    accepted.update((str(r["Invoice"]), dollars(r)) for r in records)
                elif response.status_code == 503:
                    if "retry-after" not in response.headers:
                        no_retry_after += 1
                    await asyncio.sleep(float(response.headers.get("retry-after", "1")))

    await asyncio.gather(*(client() for _ in range(clients)))
    return {"answers": dict(answers), "accepted": accepted, "no_retry_after": no_retry_after}
