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
from oaken.errors import OakenError
from oaken.ops.runtime import Stack
from oaken.settings import Settings
from tests.support.pipeline import free_port, wait_until


def test_a_process_that_keeps_dying_is_restarted_later_and_later(tmp_path, caplog):
    settings = Settings(home=tmp_path, kafka_bootstrap="127.0.0.1:1",
                        restart_backoff_max_seconds=2)
    # a real process that exits at once with status 2 (an unknown stage)
    stack = Stack(settings, services={"crasher": ["worker", "no-such-stage"]})
    stack.logs.mkdir(parents=True)
    caplog.set_level(logging.WARNING, logger="oaken.up")
    stack._spawn("crasher")

    def deaths() -> list[str]:
        return [r.getMessage() for r in caplog.records if "restarting it in" in r.getMessage()]

    try:
        deadline = time.monotonic() + 60  # each start of the crasher takes a second or two
        while len(deaths()) < 4 and time.monotonic() < deadline:
            stack.supervise_once()
            time.sleep(0.05)
    finally:
        stack.stop()
    died = deaths()
    assert died[:4] == [
        "crasher exit status 2; restarting it in 1s (restart 1)",
        "crasher exit status 2; restarting it in 2s (restart 2)",
        "crasher exit status 2; restarting it in 2s (restart 3)",  # capped at 2 s
        "crasher exit status 2; restarting it in 2s (restart 4)",
    ]
    restarted = [r for r in caplog.records if "started again" in r.getMessage()]
    assert len(restarted) == 3


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

    from tests.support.chaos import Clients, Platform, wait_until_settled
    from tests.support.invariants import assert_invariants

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


def test_a_recycle_whose_new_broker_cannot_start_schedules_a_restart(tmp_path, caplog) -> None:
    import socket

    settings = Settings(home=tmp_path, broker_port=free_port(), partitions=2,
                        database_url=f"sqlite:///{tmp_path / 'oaken.db'}",
                        topic_prefix="rec.", broker_recycle_mb=1,
                        restart_backoff_max_seconds=2)
    stack = Stack(settings, services={})
    stack.start()
    squatter = socket.socket()
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    stop_broker = stack.broker.stop

    def stop_and_lose_the_port() -> None:
        # the old broker stops, and something else takes its port before the new one
        # starts: a real refusal by EmbeddedBroker.start
        stop_broker()
        squatter.bind(("127.0.0.1", settings.broker_port))
        squatter.listen()

    caplog.set_level(logging.WARNING, logger="oaken.up")
    try:
        stack.broker.stop = stop_and_lose_the_port  # type: ignore[method-assign]
        stack._next_recycle_check = 0.0
        try:
            stack.recycle_if_due()
        except OakenError:
            pass  # as run_forever does: logged, and supervision goes on
        finally:
            stack.broker.stop = stop_broker  # type: ignore[method-assign]
        squatter.close()  # the port is free again: the supervisor must now start a broker
        wait_until(lambda: "broker" in stack.supervise_once(), timeout=30, interval=0.1)
        admin = AdminClient(admin_config(settings))
        topics = admin.list_topics(timeout=5).topics
    finally:
        squatter.close()
        stack.stop()
    for name in Topics("rec.").all():
        assert len(topics[name].partitions) == 2
    messages = [record.getMessage() for record in caplog.records]
    assert any("recycling the broker" in message for message in messages)
    assert any("broker started again" in message for message in messages), messages
