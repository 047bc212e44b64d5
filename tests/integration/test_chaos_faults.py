"""Chaos beyond ``kill -9`` of one part: a full disk under ``OAKEN_HOME``, ``oaken up``
itself killed, a worker frozen past its session timeout, and two faults at once.
Each runs sales through ``oaken up`` for about a minute; afterwards every sale answered
``202`` is in the ledger exactly once, balanced to the cent, with nobody's help.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import psutil
import pytest
from confluent_kafka import Consumer, TopicPartition
from sqlalchemy import create_engine

from oaken.bus.topics import Topics
from oaken.workers.stages import group_id
from tests.support.chaos import (
    CannotMount,
    Clients,
    Platform,
    fill,
    freeze_when_busy,
    swamp_api,
    tmpfs,
    wait_until_settled,
)
from tests.support.invariants import assert_invariants
from tests.support.pipeline import wait_until

RATE = 250  # sales a second


def send(platform: Platform, sales: int, *, first: int = 0) -> tuple[Clients, threading.Thread]:
    clients = Clients(platform.url, sales=sales, rate=RATE, first=first)
    # a daemon, so that a failed test does not leave it sending for ever
    sending = threading.Thread(target=clients.run, name="sales-apps", daemon=True)
    sending.start()
    return clients, sending


def finish(platform: Platform, clients: Clients, sending: threading.Thread,
           also: dict[str, Decimal] | None = None) -> dict:
    """Wait for every 202 and for the ledger; check the invariants (the sales of
    ``clients`` and ``also``, accepted otherwise); returns the status."""
    sending.join(timeout=300)
    assert not sending.is_alive(), f"the sales applications never got every 202 {clients}"
    expected = {**clients.accepted, **(also or {})}
    final = wait_until_settled(platform, len(expected))
    assert clients.unexpected() == {}, clients.answers  # no 500, no 4xx
    assert clients.no_retry_after == 0
    assert len(clients.accepted) == clients.sales
    assert final["ledger_imbalance"] == "0.00" and final["receivable_gap"] == "0.00"
    assert_invariants(create_engine(platform.database_url), expected)
    return final


def on_disk(database_url: str, home: Path) -> str:
    """SQLite in ``home`` (so on the disk under test); a server database as it is."""
    return f"sqlite:///{home / 'oaken.db'}" if database_url.startswith("sqlite") else database_url


# -- a full disk -------------------------------------------------------------------------
@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 160 MB tmpfs of the test's own, unmounted afterwards."""
    try:
        with tmpfs(tmp_path / "disk", "160m") as mount:
            yield mount
    except CannotMount as problem:
        if os.environ.get("CI"):
            pytest.fail(str(problem))
        pytest.skip(str(problem))


@pytest.mark.slow
def test_a_full_disk_is_answered_503_and_everything_resumes_when_space_returns(
        small_disk, database_url, tmp_path) -> None:
    home = small_disk / "home"
    platform = Platform(home, on_disk(database_url, home))
    platform.start()
    try:
        clients, sending = send(platform, 8_000)
        time.sleep(6)
        # the journal must grow while the disk is full: the orders worker is frozen (no
        # record leaves the journal) and a burst of requests arrives (else, with a server
        # database, SQLite would reuse the pages of its WAL file and need no new space)
        orders = platform.kill("orders", signum=signal.SIGSTOP)
        try:
            filler = fill(small_disk)
            full_since = time.monotonic()
            before = dict(clients.answers)
            burst = asyncio.run(swamp_api(platform.url, 4, 12, first=1_000_000))
            time.sleep(3)  # the sales applications keep sending
            assert platform.process is not None and platform.process.poll() is None, (
                platform.log())
            refused = clients.answers.get(503, 0) - before.get(503, 0)
            assert refused + burst["answers"].get(503, 0) > 0, (clients.answers, burst)
            assert set(burst["answers"]) <= {202, 503}, burst["answers"]
            assert burst["no_retry_after"] == 0
            health = httpx.get(f"{platform.url}/healthz", timeout=10)
            assert health.status_code == 503, health.text
            assert health.json()["journal"].startswith("unwritable: "), health.text
            alive_while_full = platform.all_alive()
            filler.unlink()  # space returns; nobody touches the platform
        finally:
            os.kill(orders, signal.SIGCONT)
        final = finish(platform, clients, sending, also=burst["accepted"])
        assert httpx.get(f"{platform.url}/healthz", timeout=10).status_code == 200
        print(f"answers {clients.answers}, burst {burst['answers']}; 503 while full {refused} in "
              f"{time.monotonic() - full_since:.0f}s; restarts "
              f"{ {n: p['restarts'] for n, p in final['supervisor']['processes'].items()} }")
        assert all(alive_while_full.values()), alive_while_full
        assert all(platform.all_alive().values()), platform.all_alive()
    finally:
        code = platform.stop()
        # the logs outlive the tmpfs, for a failure's post-mortem
        shutil.copytree(home, tmp_path / "logs", ignore=shutil.ignore_patterns("*.db*", "journal"))
    assert code == 0, platform.log()


# -- oaken up killed ---------------------------------------------------------------------
@pytest.mark.slow
def test_oaken_up_killed_leaves_no_orphans_and_loses_nothing(tmp_path, database_url) -> None:
    """``kill -9`` of ``oaken up`` under load: its children die with it (parent-death
    signal); one of them, frozen at that moment so that it cannot act on the signal, is
    found by the next ``oaken up`` and stopped before it starts anything."""
    platform = Platform(tmp_path / "home", database_url)
    platform.start()
    old: dict[str, psutil.Process] = {}
    try:
        clients, sending = send(platform, 8_000)
        time.sleep(6)
        old = platform.children()
        assert set(old) == {"broker", "orders", "shipping", "accounting", "api", "repair"}
        old["orders"].suspend()  # SIGSTOP: the parent-death SIGTERM waits
        assert platform.process is not None
        platform.process.kill()
        platform.process.wait()
        # the others end by themselves, the broker's port is free
        wait_until(lambda: not any(_running(p) for n, p in old.items() if n != "orders"),
                   timeout=30)
        assert _running(old["orders"])
        time.sleep(2)
        platform.start()  # a person starts it again, and looks for nothing
        assert not any(_running(p) for p in old.values())
        assert "stopping orders" in platform.log()
        finish(platform, clients, sending)
        assert all(platform.all_alive().values()), platform.all_alive()
    finally:
        code = platform.stop()
        for process in old.values():  # whatever the test left, by pid and create time
            with contextlib.suppress(psutil.Error):
                process.kill()
    assert code == 0, platform.log()


def _running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


# -- a frozen worker ---------------------------------------------------------------------
class CommittedOffsets(threading.Thread):
    """Samples the orders group's committed offsets; notes every step backwards."""

    def __init__(self, platform: Platform) -> None:
        super().__init__(daemon=True)
        topic = Topics("").sales_raw
        self.partitions = [TopicPartition(topic, p) for p in range(3)]
        self.consumer = Consumer({
            "bootstrap.servers": f"127.0.0.1:{platform.env['OAKEN_BROKER_PORT']}",
            "group.id": group_id("", "orders"), "enable.auto.commit": False})
        self.backwards: list[tuple[int, int, int]] = []
        self.samples = 0
        self.done = threading.Event()

    def run(self) -> None:
        last: dict[int, int] = {}
        while not self.done.wait(0.2):
            try:
                committed = self.consumer.committed(self.partitions, timeout=2)
            except Exception:  # the broker is busy or restarting: next sample
                continue
            self.samples += 1
            for tp in committed:
                if tp.offset < 0:
                    continue
                if tp.offset < last.get(tp.partition, -1):
                    self.backwards.append((tp.partition, last[tp.partition], tp.offset))
                last[tp.partition] = tp.offset
        self.consumer.close()


@pytest.mark.slow
def test_a_worker_frozen_past_its_session_is_neither_committed_over_nor_doubled(
        tmp_path, database_url) -> None:
    """Two orders workers (the supervised one and a second). The supervised one is made
    to fall behind (frozen 3 s, a backlog builds), then frozen with SIGSTOP while busy
    with a batch, for 15 s: its session times out after 6 s and the second worker takes
    its partitions. Continued with SIGCONT, it finishes its stale batch; its offset commit
    must not land over the new owner's progress, and nothing is written twice."""
    platform = Platform(tmp_path / "home", database_url, OAKEN_PARTITIONS="3")
    platform.start()
    second: subprocess.Popen[bytes] | None = None
    offsets = CommittedOffsets(platform)
    try:
        second = platform.extra("worker", "orders")
        clients, sending = send(platform, 10_000)
        offsets.start()
        time.sleep(6)
        frozen = platform.kill("orders", signum=signal.SIGSTOP)
        time.sleep(3)  # a backlog builds on its partitions
        os.kill(frozen, signal.SIGCONT)
        try:
            assert freeze_when_busy(frozen), "the orders worker was never busy"
            time.sleep(15)
        finally:
            os.kill(frozen, signal.SIGCONT)
        finish(platform, clients, sending)
        time.sleep(2)
        offsets.done.set()
        offsets.join()
        log = (platform.home / "logs" / "orders.log").read_text()
        print(f"{offsets.samples} samples of the committed offsets; frozen worker's log: "
              f"{[line for line in log.splitlines() if 'commit' in line or 'session' in line]}")
        # it was frozen past its session: either its stale commit was refused, or librdkafka
        # found the session gone first and revoked the partitions before the commit (both
        # seen here); the offsets below show that no stale commit landed either way
        assert "offset commit failed" in log or "Consumer group session timed out" in log
        assert offsets.samples > 50
        assert offsets.backwards == []  # no stale commit over the new owner's progress
        assert platform.pid("orders") == frozen  # it lived on: nothing needed a restart
    finally:
        offsets.done.set()
        if second is not None:
            second.kill()
            second.wait()
        code = platform.stop()
    assert code == 0, platform.log()


# -- two faults at once ------------------------------------------------------------------
@pytest.mark.slow
def test_the_broker_and_the_orders_worker_killed_together(tmp_path, database_url) -> None:
    platform = Platform(tmp_path / "home", database_url)
    platform.start()
    try:
        clients, sending = send(platform, 8_000)
        time.sleep(8)
        old = platform.children()
        for name in ("broker", "orders"):
            os.kill(old[name].pid, signal.SIGKILL)
        final = finish(platform, clients, sending)
        restarts = {n: p["restarts"] for n, p in final["supervisor"]["processes"].items()}
        assert restarts["broker"] >= 1 and restarts["orders"] >= 1, restarts
        assert all(platform.all_alive().values()), platform.all_alive()
    finally:
        code = platform.stop()
    assert code == 0, platform.log()


@pytest.mark.slow
def test_the_database_down_while_a_worker_is_frozen(
        private_server, private_database_url, tmp_path) -> None:
    """The accounting worker is frozen, the database server killed with ``kill -9``;
    the worker is continued while the database is still down (stale batch, dead
    connections), and the database started 5 s later."""
    platform = Platform(tmp_path / "home", private_database_url)
    platform.start()
    try:
        clients, sending = send(platform, 8_000)
        time.sleep(6)
        frozen = platform.kill("accounting", signum=signal.SIGSTOP)
        try:
            time.sleep(2)
            private_server.kill()
            time.sleep(10)
        finally:
            os.kill(frozen, signal.SIGCONT)
        time.sleep(5)
        private_server.start()
        final = finish(platform, clients, sending)
        print(f"answers {clients.answers} restarts "
              f"{ {n: p['restarts'] for n, p in final['supervisor']['processes'].items()} }")
        assert all(platform.all_alive().values()), platform.all_alive()
    finally:
        code = platform.stop()
    assert code == 0, platform.log()
