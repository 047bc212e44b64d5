"""kill -9 the database server mid-stream, keep it down for 10 s, start it again: the
three workers (real processes) wait with back-off, resume, and the result is exact —
every sale once, one shipment each, a ledger balanced to the cent.

The database is a private server (tests/support/db_servers.py), never the shared one.
"""

from __future__ import annotations

import re
import signal
import threading
import time

import pytest

from oaken.db.engine import make_engine
from oaken.sources.replay import publish
from tests.support.factory import dollars, sale
from tests.support.invariants import assert_invariants, counts, drained
from tests.support.pipeline import make_settings, wait_until
from tests.support.workers import spawn_worker

SALES = 6_000
RATE = 150  # sales per second: 40 s of steady publishing
OUTAGE = 10.0  # seconds the database stays down, at least
STAGES = ("orders", "shipping", "accounting")
DOWNSTREAM = ("shipping", "accounting")
RETRY = re.compile(r"(?:write batch|flag published rows) failed \(.*\), retrying in "
                   r"(\d+\.\d)s")


@pytest.mark.slow
def test_workers_wait_out_a_database_crash_and_lose_and_double_nothing(
        private_server, private_database_url, broker, tmp_path):
    settings = make_settings(private_database_url, broker, tmp_path)
    records = [sale(n) for n in range(SALES)]
    engine = make_engine(settings.database_url)
    logs = {stage: tmp_path / f"{stage}.log" for stage in STAGES}
    published: list[int] = []
    publisher = threading.Thread(
        target=lambda: published.append(publish(settings, records, rate=RATE)), daemon=True)

    def tails() -> str:
        return "\n".join(f"--- {stage}.log\n{logs[stage].read_text()[-3000:]}"
                         for stage in STAGES if logs[stage].exists())

    workers = {stage: spawn_worker(settings, stage, logs[stage]) for stage in STAGES}
    try:
        publisher.start()
        wait_until(lambda: counts(engine)["journal_entries"] > 1000, timeout=90)
        # Only orders gets new input while the database is away (shipping and accounting
        # consume what orders publishes after a write), so pause the other two briefly
        # first: they fall behind, and are resumed with work to do into the outage.
        # Paused for ~3 s, under the group session timeout (6 s): they stay members.
        for stage in DOWNSTREAM:
            workers[stage].send_signal(signal.SIGSTOP)
        recorded = counts(engine)["sales"]
        wait_until(lambda: counts(engine)["sales"] >= recorded + 200, timeout=30, interval=0.1)
        private_server.kill()
        down_since = time.monotonic()
        for stage in DOWNSTREAM:
            workers[stage].send_signal(signal.SIGCONT)
        engine.dispose()
        time.sleep(max(0.0, OUTAGE - (time.monotonic() - down_since)))
        alive = {stage: process.poll() is None for stage, process in workers.items()}
        assert all(alive.values()), f"a worker died while the database was away: {alive}\n" \
                                    f"{tails()}"
        private_server.start()
        publisher.join(timeout=120)
        assert not publisher.is_alive() and published == [SALES]
        wait_until(lambda: drained(engine, SALES), timeout=120, interval=1.0)
        exited = {stage: process.poll() for stage, process in workers.items()
                  if process.poll() is not None}
        assert not exited, f"workers exited: {exited}\n{tails()}"  # the same processes
    finally:
        for process in workers.values():
            process.send_signal(signal.SIGCONT)
            process.terminate()
        for process in workers.values():
            process.wait(timeout=30)
    assert_invariants(engine, {str(r["Invoice"]): dollars(r) for r in records})
    engine.dispose()
    for stage in STAGES:
        text = logs[stage].read_text()
        delays = [float(delay) for delay in RETRY.findall(text)]
        # each waited, backing off (0.1 s doubling to 5 s) through the 10 s outage
        assert delays and max(delays) >= 1.6, f"{stage}: no back-off in its log\n{tails()}"
        assert "processed" in text.splitlines()[-1], tails()  # and stopped cleanly
