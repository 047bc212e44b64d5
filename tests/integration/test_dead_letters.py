"""Dead letters are rows of the source of truth: they survive kill -9 of the embedded
broker and its recycling, are replayed after a fix (marked replayed only once the broker
acknowledged them) and discarded with a reason that is kept."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import orjson
from confluent_kafka.admin import AdminClient
from sqlalchemy import select

from oaken.bus.config import admin_config
from oaken.bus.topics import Topics, ensure_topics
from oaken.dashboard.live import live_status
from oaken.db import models
from oaken.db.engine import make_engine
from oaken.ops.dlq import list_letters
from oaken.ops.runtime import Stack
from oaken.settings import Settings
from oaken.sources.replay import publish
from tests.support.factory import sale
from tests.support.pipeline import free_port, wait_until
from tests.support.refusals import CLOSED_STORE, drop_rule, refuse_closed_store
from tests.support.workers import worker_env

STAGES = ("orders", "shipping", "accounting")


def oaken(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command, in a process of its own (exit status and stderr as a user sees)."""
    return subprocess.run(
        [sys.executable, "-m", "oaken", *args],
        env=worker_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )


def listed(settings: Settings, status: str = "open") -> list[dict]:
    result = oaken(settings, "dlq", "list", "--json", "--status", status)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_dead_letters_survive_the_broker_and_are_replayed_after_a_fix_or_discarded(
    database_url, tmp_path
) -> None:
    settings = Settings(
        home=tmp_path,
        broker_port=free_port(),
        partitions=2,
        database_url=database_url,
        broker_recycle_mb=1,
    )
    stack = Stack(settings, services={stage: ["worker", stage] for stage in STAGES})
    stack.start()
    engine = make_engine(database_url)
    try:
        refuse_closed_store(engine)
        good = [sale(n) for n in range(40)]
        closed = sale(500, StoreNumber=CLOSED_STORE)  # refused by the database
        invalid = sale(501, BottlesSold=0)  # refused by the contract
        records = [*good[:20], closed, invalid, *good[20:]]
        publish(settings, records)
        wait_until(lambda: len(list_letters(engine)) == 2, timeout=90)
        before = {letter["id"]: letter for letter in listed(settings)}
        assert sorted(letter["stage"] for letter in before.values()) == ["orders", "orders"]

        # kill -9 the broker: the supervisor starts a new, empty one
        os.kill(stack.broker.process.pid, signal.SIGKILL)
        stack.broker.process.wait()
        # the dashboard counts them from the database, broker or not
        assert live_status(settings, probe_timeout=0.5).dlq == 2
        wait_until(lambda: stack.supervise_once() == ["broker"], timeout=30, interval=0.1)
        assert {letter["id"]: letter for letter in listed(settings)} == before
        assert live_status(settings, probe_timeout=5).dlq == 2
        # and recycle it (OAKEN_BROKER_RECYCLE_MB=1: it is always due)
        stack._next_recycle_check = 0
        assert stack.recycle_if_due()
        assert {letter["id"]: letter for letter in listed(settings)} == before

        # the same records sent again to the new cluster land at the same offsets as in
        # the first one: a new delivery, so new letters, none lost to a key collision
        publish(settings, records)
        wait_until(lambda: len(list_letters(engine)) == 4, timeout=90)
        letters = list_letters(engine)
        positions = {(x.source_topic, x.partition, x.offset) for x in letters}
        assert len(positions) == 2 and len({x.cluster_id for x in letters}) == 2

        refused = [x.id for x in letters if x.reason.startswith("database refused")]
        contract = [x.id for x in letters if x.id not in refused]
        assert len(refused) == 2 and len(contract) == 2

        # the fix, then the replay: recorded this time, through to the ledger
        drop_rule(engine)
        replay = oaken(settings, "dlq", "replay", *[f"--id={i}" for i in refused])
        assert replay.returncode == 0, replay.stderr
        assert "replayed 2 dead letters" in replay.stderr
        line = str(closed["Invoice"])

        def in_ledger() -> bool:
            with engine.connect() as connection:
                return (
                    connection.execute(
                        select(models.journal_entries.c.entry_id).where(
                            models.journal_entries.c.entry_id == f"sale:{line}"
                        )
                    ).first()
                    is not None
                )

        wait_until(in_ledger, timeout=90)
        replayed = listed(settings, "replayed")
        assert sorted(x["id"] for x in replayed) == sorted(refused)
        assert all(x["status_changed_by"] and x["status_changed_at"] for x in replayed)
        assert "replay" in replayed[0]["status_changed_by"]

        # a discard needs a reason, and keeps it with who gave up the letter
        assert oaken(settings, "dlq", "discard", f"--id={contract[0]}").returncode != 0
        blank = oaken(settings, "dlq", "discard", f"--id={contract[0]}", "--reason", "  ")
        assert blank.returncode == 1 and "reason" in blank.stderr
        done = oaken(
            settings,
            "dlq",
            "discard",
            f"--id={contract[0]}",
            f"--id={contract[1]}",
            "--reason",
            "test order, never a sale",
        )
        assert done.returncode == 0, done.stderr
        again = oaken(settings, "dlq", "discard", f"--id={contract[0]}", "--reason", "again")
        assert again.returncode == 1 and "discarded" in again.stderr
        discarded = listed(settings, "discarded")
        assert sorted(x["id"] for x in discarded) == sorted(contract)
        assert {x["discard_reason"] for x in discarded} == {"test order, never a sale"}
        assert all(x["status_changed_by"] for x in discarded)
        assert orjson.loads(discarded[0]["payload"])["BottlesSold"] == 0

        # everything is closed, and `oaken status` counts open letters from the table
        assert listed(settings) == []
        assert len(listed(settings, "all")) == 4
        status = oaken(settings, "status", "--json")
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["dlq"] == 0
        assert all(child.poll() is None for child in stack.children.values())
    finally:
        stack.stop()
        engine.dispose()


def test_a_letter_the_broker_does_not_acknowledge_stays_open(settings, running) -> None:
    topics = Topics(settings.topic_prefix)
    publish(settings, [sale(1, BottlesSold=0)])
    running.start("orders")
    wait_until(lambda: len(list_letters(running.engine)) == 1, timeout=30)
    running.stop()
    admin = AdminClient(admin_config(settings))
    # the letter's source topic is gone (this test's own prefix: no one else uses it)
    for future in admin.delete_topics([topics.sales_raw], operation_timeout=10).values():
        future.result()
    result = oaken(settings, "dlq", "replay", "--timeout", "3")
    assert result.returncode == 1
    assert "refused 1 dead letters, which stay open" in result.stderr
    [letter] = list_letters(make_engine(settings.database_url), status="all")
    assert letter.status == "open" and letter.status_changed_by is None
    # once the topic is back, the same letter is replayed and acknowledged
    ensure_topics(admin, [topics.sales_raw], partitions=settings.partitions)
    result = oaken(settings, "dlq", "replay", "--timeout", "10")
    assert result.returncode == 0 and "replayed 1 dead letters" in result.stderr
    [letter] = list_letters(make_engine(settings.database_url), status="all")
    assert letter.status == "replayed"
