"""The supervisor of ``oaken up``: it restarts what dies with a capped exponential
back-off, says so with the exit status, and restarts the embedded broker with its
topics."""

from __future__ import annotations

import json
import logging
import os
import signal
import time

import pytest
from confluent_kafka.admin import AdminClient

from oaken.bus.broker import cluster_id
from oaken.bus.config import admin_config
from oaken.bus.topics import Topics
from oaken.ops.runtime import Stack
from oaken.settings import Settings
from tests.integration.conftest import free_port, wait_until


def test_a_process_that_keeps_dying_is_restarted_later_and_later(tmp_path, caplog):
    settings = Settings(home=tmp_path, kafka_bootstrap="127.0.0.1:1",
                        restart_backoff_max_seconds=2)
    # a real process that exits at once with status 2 (an unknown stage)
    stack = Stack(settings, services={"crasher": ["worker", "no-such-stage"]})
    stack.logs.mkdir(parents=True)
    caplog.set_level(logging.WARNING, logger="oaken.up")
    stack._spawn("crasher")
    try:
        deadline = time.monotonic() + 9
        while time.monotonic() < deadline:
            stack.supervise_once()
            time.sleep(0.05)
    finally:
        stack.stop()
    died = [r.getMessage() for r in caplog.records if "restarting it in" in r.getMessage()]
    assert died[0] == "crasher exit status 2; restarting it in 1s (restart 1)"
    assert died[1] == "crasher exit status 2; restarting it in 2s (restart 2)"
    assert all("restarting it in 2s" in message for message in died[2:])  # capped
    assert 4 <= len(died) <= 6  # 1 + 2 + 2 + 2 s of waiting in 9 s, plus start-up time
    restarted = [r for r in caplog.records if "started again" in r.getMessage()]
    assert len(restarted) >= 3


def test_the_embedded_broker_is_restarted_with_its_topics(tmp_path) -> None:
    settings = Settings(home=tmp_path, broker_port=free_port(), partitions=3,
                        database_url=f"sqlite:///{tmp_path / 'oaken.db'}",
                        topic_prefix="sup.")
    stack = Stack(settings, services={})
    stack.start()
    try:
        admin = AdminClient(admin_config(settings))
        before = cluster_id(admin)
        os.kill(stack.broker.process.pid, signal.SIGKILL)
        wait_until(lambda: stack.supervise_once() == ["broker"], timeout=30, interval=0.1)
        after = cluster_id(admin)
        topics = admin.list_topics(timeout=5).topics
        state = json.loads((tmp_path / "supervisor.json").read_text())
    finally:
        stack.stop()
    assert after != before  # a new, empty cluster
    for name in Topics("sup.").all():  # created again, with the configured partitions
        assert len(topics[name].partitions) == 3
    assert state["processes"]["broker"]["restarts"] == 1
    assert state["processes"]["broker"]["last_exit"] == "killed by SIGKILL"
    assert not (tmp_path / "supervisor.json").exists()  # a clean stop removes it


@pytest.mark.slow
def test_the_broker_is_recycled_once_it_holds_too_much_and_nothing_is_lost(tmp_path):
    from sqlalchemy import create_engine

    from tests.integration.invariants import assert_invariants
    from tests.support.chaos import Clients, Platform, wait_until_settled

    platform = Platform(tmp_path / "home", f"sqlite:///{tmp_path / 'home' / 'oaken.db'}",
                        OAKEN_BROKER_RECYCLE_MB="30")
    platform.start()
    try:
        clients = Clients(platform.url, sales=30_000, rate=1500)
        clients.run()
        final = wait_until_settled(platform, 30_000)
    finally:
        platform.stop()
    assert final["supervisor"]["broker_recycles"] >= 1
    assert "recycling the broker" in platform.log()
    assert_invariants(create_engine(platform.database_url), clients.accepted)
