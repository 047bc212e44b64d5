"""Overload: 200 concurrent clients for 10 s against ``oaken up``. The API answers 503
with ``Retry-After`` when it is full, never another 5xx; its memory stays bounded; every
sale answered 202 reaches the ledger."""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy import create_engine

from tests.support.chaos import Platform, swamp_api, wait_until_settled
from tests.support.invariants import assert_invariants

CLIENTS = 200
SECONDS = 10
API_MEMORY_BOUND_MB = 400


@pytest.mark.slow
def test_two_hundred_clients_get_202_or_503_and_every_202_is_in_the_ledger(tmp_path):
    home = tmp_path / "home"
    # small limits, so that ten seconds are enough to reach both
    platform = Platform(home, f"sqlite:///{home / 'oaken.db'}",
                        OAKEN_JOURNAL_MAX_RECORDS="20000", OAKEN_API_MAX_INFLIGHT_MB="4")
    platform.start()
    peak, done = [0.0], threading.Event()

    def watch() -> None:
        while not done.wait(0.1):
            peak[0] = max(peak[0], platform.rss_mb("api") or 0.0)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        swamp = asyncio.run(swamp_api(platform.url, CLIENTS, SECONDS))
        done.set()
        final = wait_until_settled(platform, len(swamp["accepted"]))
        alive = platform.all_alive()
    finally:
        done.set()
        platform.stop()
    answers = swamp["answers"]
    print(f"answers {answers}, API peak {peak[0]:.0f} MB")
    assert set(answers) <= {202, 503}, answers  # no other 5xx, no refused connection
    assert answers.get(503, 0) > 0 and answers.get(202, 0) > 0, answers
    assert swamp["no_retry_after"] == 0
    assert peak[0] < API_MEMORY_BOUND_MB, peak
    assert all(alive.values()), alive
    assert all(p["restarts"] == 0 for p in final["supervisor"]["processes"].values())
    assert_invariants(create_engine(platform.database_url), swamp["accepted"])
