"""The ingest journal: durable before 202, forwarded, kept until the orders worker has
each record, sent again after a crash or a broker restart, bounded."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap

import orjson
from confluent_kafka import Producer
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from oaken.api.app import create_app
from oaken.api.forwarder import Forwarder
from oaken.api.journal import GroupCommit, Journal
from oaken.bus.config import producer_config
from oaken.bus.topics import Topics
from oaken.db import models
from oaken.db.engine import make_engine
from tests.support.factory import sale
from tests.support.pipeline import Running, make_settings, read_topic, wait_until


def records(first: int, count: int) -> list[tuple[bytes, bytes, str | None]]:
    return [(str(sale(n)["StoreNumber"]).encode(), orjson.dumps(sale(n)), "journal-test")
            for n in range(first, first + count)]


def sales_in(settings) -> int:
    with make_engine(settings.database_url).connect() as connection:
        return connection.execute(select(func.count()).select_from(models.sales)).scalar_one()


def test_an_append_survives_kill_minus_nine_right_after_it_returns(tmp_path) -> None:
    path = tmp_path / "journal.sqlite"
    script = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from oaken.api.journal import Journal
        journal = Journal(Path({str(path)!r}), max_records=1000)
        journal.append([[(b"k", b"first", "a")], [(b"k", b"second", "b"), (b"k", b"third", None)]])
        os.kill(os.getpid(), signal.SIGKILL)  # before the 202 could be written
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert result.returncode == -9, result.stderr
    journal = Journal(path, max_records=1000)
    assert journal.size == 3
    assert [(value, sent_by) for _, _, value, sent_by in journal.unsent("any", 10)] == [
        (b"first", "a"), (b"second", "b"), (b"third", None)]


def test_a_journal_of_an_older_version_gets_the_sender_column(tmp_path) -> None:
    """A journal written before ``sent_by`` existed keeps its records, sender unknown."""
    path = tmp_path / "journal.sqlite"
    old = sqlite3.connect(path)
    old.executescript(
        'CREATE TABLE records (seq INTEGER PRIMARY KEY AUTOINCREMENT, key BLOB, value BLOB '
        'NOT NULL, cluster TEXT, partition INTEGER, "offset" INTEGER);'
        "INSERT INTO records (key, value) VALUES (x'6b', x'6f6c64');")
    old.close()
    journal = Journal(path, max_records=10)
    journal.append([[(b"k", b"new", "shop")]])
    assert [(value, sent_by) for _, _, value, sent_by in journal.unsent("any", 10)] == [
        (b"old", None), (b"new", "shop")]


def test_a_full_journal_refuses_whole_requests_and_takes_those_that_fit(tmp_path) -> None:
    journal = Journal(tmp_path / "journal.sqlite", max_records=5)
    taken = journal.append([records(0, 3), records(3, 3), records(6, 2)])
    assert taken == [True, False, True]
    assert journal.size == 5
    assert journal.append([records(8, 1)]) == [False]


def test_records_leave_only_once_the_orders_group_committed_past_them(
        sqlite_url, broker, tmp_path) -> None:
    settings = make_settings(sqlite_url, broker, tmp_path, journal="on")
    journal = Journal(tmp_path / "journal.sqlite", max_records=10_000)
    journal.append([records(0, 300)])
    forwarder = Forwarder(settings, journal)
    forwarder.start()
    try:
        wait_until(lambda: not journal.unsent(forwarder.cluster or "?", 1), timeout=30)
        assert journal.size == 300  # sent, but no orders worker has taken them yet
        pipeline = Running(settings)
        pipeline.start("orders")
        try:
            wait_until(lambda: journal.size == 0, timeout=60)
        finally:
            pipeline.stop()
    finally:
        forwarder.close()
    assert sales_in(settings) == 300
    messages = read_topic(settings, Topics(settings.topic_prefix).sales_raw)
    assert {tuple(m.headers() or ()) for m in messages} == {(("sent_by", b"journal-test"),)}
    engine = make_engine(settings.database_url)
    with engine.connect() as connection:
        senders = connection.execute(select(models.sales.c.sent_by).distinct()).scalars().all()
    engine.dispose()
    assert senders == ["journal-test"]


def test_a_crash_between_forward_and_mark_sends_again_and_orders_absorbs_it(
        sqlite_url, broker, tmp_path) -> None:
    settings = make_settings(sqlite_url, broker, tmp_path, journal="on")
    topic = Topics(settings.topic_prefix).sales_raw
    journal = Journal(tmp_path / "journal.sqlite", max_records=10_000)
    journal.append([records(0, 200)])
    # what a forwarder that died after the broker's acknowledgement, before noting it,
    # leaves behind: the records on sales.raw, and unmarked in the journal
    producer = Producer(producer_config(settings))
    for key, value, _ in records(0, 200):
        producer.produce(topic, value=value, key=key)
    assert producer.flush(10) == 0
    forwarder = Forwarder(settings, journal)
    pipeline = Running(settings)
    forwarder.start()
    pipeline.start("orders")
    try:
        wait_until(lambda: journal.size == 0, timeout=60)
    finally:
        pipeline.stop()
        forwarder.close()
    assert len(read_topic(settings, topic)) == 400
    assert sales_in(settings) == 200


def test_records_sent_to_an_earlier_broker_are_sent_again(sqlite_url, broker, tmp_path):
    settings = make_settings(sqlite_url, broker, tmp_path, journal="on")
    journal = Journal(tmp_path / "journal.sqlite", max_records=10_000)
    journal.append([records(0, 50)])
    # forwarded to a broker that has since restarted (and lost them): a cluster id
    # that is not the running broker's
    journal.mark_sent("an-earlier-cluster", [(0, n, n + 1) for n in range(50)])
    forwarder = Forwarder(settings, journal)
    forwarder.start()
    try:
        wait_until(lambda: len(read_topic(settings, Topics(settings.topic_prefix).sales_raw))
                   == 50, timeout=30)
    finally:
        forwarder.close()


def test_the_api_accepts_into_the_journal_while_the_broker_is_away(sqlite_url, tmp_path):
    from oaken.settings import Settings

    settings = Settings(home=tmp_path, database_url=sqlite_url, kafka_bootstrap="127.0.0.1:1",
                        journal="on", journal_max_records=4)
    with TestClient(create_app(settings), client=("127.0.0.1", 50000)) as client:
        response = client.post("/v1/sales", json=[sale(1), sale(2), sale(3)])
        assert response.status_code == 202 and response.json()["accepted"] == 3
        health = client.get("/healthz")
        assert health.status_code == 200
        assert health.json()["broker"].startswith("unreachable")
        assert health.json()["journal_records"] == "3"
        full = client.post("/v1/sales", json=[sale(4), sale(5)])
        assert full.status_code == 503
        assert full.headers["retry-after"] == "5"
        assert "OAKEN_JOURNAL_MAX_RECORDS" in full.json()["detail"]
        assert client.post("/v1/sales", json=[sale(4)]).status_code == 202
    assert Journal(settings.journal_path, max_records=10).size == 4


def test_finding_the_unsent_records_reads_an_index_not_the_whole_journal(tmp_path) -> None:
    journal = Journal(tmp_path / "journal.sqlite", max_records=100_000)
    journal.append([records(0, 2000)])
    journal.unsent("cluster-a", 1)  # the journal learns which cluster it forwards to
    journal.mark_sent("cluster-a", [(0, n, n + 1) for n in range(1990)])
    statements: list[str] = []
    journal._db.set_trace_callback(statements.append)
    unsent = journal.unsent("cluster-a", 100)
    journal._db.set_trace_callback(None)
    assert [seq for seq, *_ in unsent] == list(range(1991, 2001))
    reads = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
    assert reads
    for sql in reads:
        plan = [row[3] for row in journal._db.execute(f"EXPLAIN QUERY PLAN {sql}")]
        # a search, or a scan of the partial index that holds only the unsent records;
        # never a scan of every record held ("SCAN records"), nor a sort of them
        assert all(step.startswith("SEARCH") or "ix_records_unsent" in step
                   for step in plan), plan


def test_records_sent_to_another_cluster_are_unsent_again_for_this_one(tmp_path) -> None:
    journal = Journal(tmp_path / "journal.sqlite", max_records=1000)
    journal.append([records(0, 5)])
    journal.unsent("cluster-a", 10)
    journal.mark_sent("cluster-a", [(0, n, n + 1) for n in range(5)])
    assert journal.unsent("cluster-a", 10) == []
    assert [seq for seq, *_ in journal.unsent("cluster-b", 10)] == [1, 2, 3, 4, 5]
    journal.mark_sent("cluster-b", [(1, n, n + 1) for n in range(3)])
    assert [seq for seq, *_ in journal.unsent("cluster-b", 10)] == [4, 5]
    assert journal.confirm("cluster-b", {1: 2}) == 2
    assert journal.size == 3


def test_the_group_commit_survives_an_error_that_is_not_sqlites(tmp_path) -> None:
    import asyncio

    import pytest

    writer = GroupCommit(Journal(tmp_path / "journal.sqlite", max_records=1000))

    async def scenario() -> None:
        # a key SQLite cannot bind: OverflowError, not a sqlite3.Error
        with pytest.raises(OverflowError):
            await asyncio.wait_for(writer.append([(2**70, b"value", None)]), timeout=10)  # type: ignore[list-item]
        await asyncio.wait_for(writer.append(records(0, 3)), timeout=10)

    try:
        asyncio.run(scenario())
    finally:
        writer._queue.put(None)
    assert writer.journal.size == 3
