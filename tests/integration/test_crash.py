"""kill -9 every worker at random moments while 20,000 sales flow; nothing is lost,
nothing is doubled, the ledger balances to the cent."""

from __future__ import annotations

import random
import signal
import threading
import time

import pytest

from oaken.db.engine import make_engine
from oaken.sources.replay import publish
from tests.support.factory import dollars, sale
from tests.support.invariants import assert_invariants, counts, drained
from tests.support.pipeline import wait_until
from tests.support.workers import spawn_worker

SALES = 20_000
STAGES = ("orders", "shipping", "accounting")


@pytest.mark.slow
def test_kill_minus_nine_during_the_stream_loses_and_doubles_nothing(settings, tmp_path):
    records = [sale(n) for n in range(SALES)]
    engine = make_engine(settings.database_url)
    logs = {stage: tmp_path / f"{stage}.log" for stage in STAGES}
    workers = {stage: spawn_worker(settings, stage, logs[stage]) for stage in STAGES}
    publisher = threading.Thread(
        target=publish, args=(settings, records), kwargs={"rate": 1500}, daemon=True
    )
    publisher.start()
    rng = random.Random(20261125)
    kills = {stage: 0 for stage in STAGES}
    try:
        wait_until(lambda: counts(engine)["sales"] > 500, timeout=60)
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline and (publisher.is_alive() or min(kills.values()) < 3):
            time.sleep(rng.uniform(0.5, 2.5))
            stage = rng.choice(STAGES)
            workers[stage].send_signal(signal.SIGKILL)
            workers[stage].wait()
            kills[stage] += 1
            time.sleep(rng.uniform(0.0, 1.0))
            workers[stage] = spawn_worker(settings, stage, logs[stage])
        publisher.join(timeout=120)
        assert not publisher.is_alive()
        wait_until(lambda: drained(engine, SALES), timeout=300, interval=1.0)
    finally:
        for process in workers.values():
            process.terminate()
        for process in workers.values():
            process.wait(timeout=30)
    assert min(kills.values()) >= 3, kills
    assert_invariants(engine, {str(r["Invoice"]): dollars(r) for r in records})
    for stage in STAGES:  # a clean SIGTERM stop reports what it did
        assert "processed" in logs[stage].read_text().splitlines()[-1]
