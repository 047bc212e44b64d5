"""The worker loop: consume a batch, write it in one transaction, publish, commit.

    consume ─► handle (one DB transaction) ─► produce events + dead letters ─► flush
            ─► flag rows published ─► commit offsets

A crash at any arrow redelivers the batch, and redelivery changes nothing: writes
are idempotent on natural keys, derived values are deterministic, and a row whose
event was not acknowledged is re-published (downstream dedupes by invoice line).
SIGTERM and SIGINT set a flag; the loop finishes its batch, commits and closes.

A record the database refuses never stops the loop. When a batch fails with an error
that is neither the database being away nor a conflict a retry or two resolves (see
:mod:`oaken.workers.refusals`), the batch is halved, each half written in its own
transaction, down to single messages (:mod:`oaken.workers.bisect`): every other record is
written, and each offender becomes a dead letter with the database's own reason. Dead
letters are rows of ``dead_letters``, written in the transaction of the batch that
refused them (:mod:`oaken.workers.letters`), and are also published on ``sales.dlq`` as
a feed for other consumers.

The loop outlives the parts around it. While the database is away it retries the
batch with back-off and resumes when it answers; while the broker is away it keeps
the batch's events and retries until they are acknowledged. A broker that comes
back is a new cluster (the embedded broker keeps nothing across a restart, and
gets a new cluster id each start): offsets read from the old one must never be
committed to the new one, where they would skip messages never consumed. So the
loop notes the cluster id before it joins, and commits a batch only if the broker
still has that id (cluster ids are never reused, so nothing it consumed came from
another broker); otherwise it drops the consumer, with whatever it had prefetched,
and joins the new cluster's group afresh. The batch itself is written and its events
published either way: both are idempotent.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from oaken.bus.broker import cluster_id
from oaken.bus.config import admin_config, consumer_config, producer_config
from oaken.bus.produce import produce
from oaken.bus.topics import Topics, ensure_topics
from oaken.db.writes import mark_published
from oaken.errors import BrokerError
from oaken.provenance import headers_for, sender_of
from oaken.settings import Settings
from oaken.workers import presence
from oaken.workers.bisect import Refused, bisect
from oaken.workers.heartbeat import Heartbeat
from oaken.workers.letters import write_letters
from oaken.workers.refusals import database_away, refusal_reason
from oaken.workers.stages import STAGES, Output, Stage, group_id

log = logging.getLogger("oaken.worker")
#: retries of an IntegrityError before it counts as a refusal: a concurrent insert of the
#: same key by another copy of the worker is resolved by the first retry
MAX_CONFLICT_RETRIES = 2
MAX_BACKOFF = 5.0
T = TypeVar("T")
#: a message to produce: topic, key, value, headers
Produced = tuple[str, bytes | None, bytes, Any]


def missing_topic(problem: KafkaException) -> bool:
    """True when a produce failed because the topic is not (yet) on the broker."""
    return problem.args[0].code() in (KafkaError._UNKNOWN_TOPIC, KafkaError._UNKNOWN_PARTITION,
                                      KafkaError.UNKNOWN_TOPIC_OR_PART)


class Stopping(Exception):
    """The worker was asked to stop while it waited for the database or the broker."""


class Worker:
    def __init__(self, stage_name: str, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.topics = Topics(settings.topic_prefix)
        self.stage: Stage = STAGES[stage_name](self.topics, engine)
        self.group = group_id(settings.topic_prefix, stage_name)
        self.stop_event = threading.Event()
        self.processed = 0
        self.dead = 0
        self.rejoins = 0
        self.admin = AdminClient(admin_config(settings))
        # the cluster is noted before joining it, so nothing fetched from an older one
        # can be taken for this one's
        self.cluster = self._current_cluster()
        self.consumer = self._new_consumer()
        self.producer = Producer(producer_config(settings))
        self._failed: list[Produced] = []
        self.assignment: set[tuple[str, int]] = set()
        self.heartbeat = Heartbeat(settings.home, stage_name)  # `oaken healthcheck`

    # -- lifecycle -----------------------------------------------------------------
    def install_signal_handlers(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.stop_event.set())

    def stop(self) -> None:
        self.stop_event.set()

    def _new_consumer(self) -> Consumer:
        consumer = Consumer(consumer_config(self.settings, self.group))
        consumer.subscribe(self.stage.topics, on_assign=self._assigned,
                           on_revoke=self._revoked, on_lost=self._revoked)
        return consumer

    def run(self, *, idle_exit: float | None = None) -> None:
        """Process until stopped (or until idle for ``idle_exit`` seconds)."""
        wait = 0.05
        idle_since = time.monotonic()
        try:
            while not self.stop_event.is_set():
                self.heartbeat.beat()
                messages = self.consumer.consume(self.settings.batch_size, timeout=wait)
                batch = self._triage(messages)
                if not batch:
                    if idle_exit is not None and time.monotonic() - idle_since > idle_exit:
                        return
                    continue
                idle_since = time.monotonic()
                self.process(batch)
        except Stopping:
            log.info("%s: stopped while waiting; the batch will be redelivered", self.stage.name)
        finally:
            self.consumer.close()
            self.producer.flush(10)
            presence.forget(self.settings.home, self.group)
            self.heartbeat.stop()

    def _assigned(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.assignment |= {(tp.topic, tp.partition) for tp in partitions}
        log.info("%s: assigned %s", self.stage.name, sorted(self.assignment))
        presence.note(self.settings.home, self.group, self.assignment)

    def _revoked(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.assignment -= {(tp.topic, tp.partition) for tp in partitions}
        presence.note(self.settings.home, self.group, self.assignment)

    # -- the broker's identity -------------------------------------------------------
    def _current_cluster(self) -> str:
        """The broker's cluster id, waiting (with back-off) while it cannot be reached."""
        delay = 0.2
        while True:
            try:
                return cluster_id(self.admin)
            except BrokerError as problem:
                log.warning("%s: broker unreachable (%s), waiting", self.stage.name, problem)
                self._pause(delay)
                delay = min(delay * 2, MAX_BACKOFF)

    def _same_cluster(self) -> bool:
        """Whether the broker is the one the current consumer joined. If it is a new one,
        drop the consumer (with anything it prefetched from the old one), make sure the
        topics exist, and join afresh."""
        current = self._current_cluster()
        if current == self.cluster:
            return True
        log.warning("%s: the broker is a new cluster (%s, was %s): rejoining its group; "
                    "uncommitted messages of the old one are not committed",
                    self.stage.name, current, self.cluster)
        self.consumer.close()
        self.assignment.clear()
        try:
            ensure_topics(self.admin, self.topics.all(), partitions=self.settings.partitions,
                          replication_factor=self.settings.replication_factor)
        except (BrokerError, KafkaException) as problem:
            log.warning("%s: cannot create the topics yet: %s", self.stage.name, problem)
        self.consumer = self._new_consumer()
        self.cluster = current
        self.rejoins += 1
        return False

    # -- one batch ------------------------------------------------------------------
    def _triage(self, messages: list[Message]) -> list[Message]:
        batch = []
        for message in messages:
            error = message.error()
            if error is None:
                batch.append(message)
            elif error.code() == KafkaError._PARTITION_EOF:
                continue
            elif error.fatal():
                raise KafkaException(error)
            else:
                log.warning("%s: kafka: %s", self.stage.name, error.str())
        return batch

    def process(self, batch: Sequence[Message]) -> None:
        output = self._write(batch)
        self._publish(output)
        if output.publish_table is not None and output.publish_keys:
            self._with_retries(lambda: self._mark(output), what="flag published rows")
        if self._same_cluster():
            self._commit(batch)
        self.processed += len(batch)
        self.dead += len(output.dead)

    def _write(self, batch: Sequence[Message]) -> Output:
        """Write the batch; if the database refuses it, write every record it takes and
        dead-letter the others (see the module docstring)."""
        found = bisect(batch, self._write_part)
        output = Output()
        for part in found.results:
            output.events.extend(part.events)
            output.dead.extend(part.dead)
            if output.publish_table is None:
                output.publish_table = part.publish_table
            output.publish_keys.extend(part.publish_keys)
        if found.offenders:
            for message, reason in found.offenders:
                log.warning("%s: %s[%s]@%s dead-lettered: %s", self.stage.name,
                            message.topic(), message.partition(), message.offset(), reason)
            self._with_retries(lambda: self._write_letters(found.offenders),
                               what="write dead letters")
            output.dead.extend(found.offenders)
        return output

    def _write_part(self, part: Sequence[Message]) -> Output:
        """One transaction: the stage's rows and the dead letters of the part."""
        def attempt() -> Output:
            try:
                with self.engine.begin() as connection:
                    output = self.stage.handle(connection, part)
                    write_letters(connection, output.dead, stage=self.stage.name,
                                  cluster_id=self.cluster)
            except BaseException:
                self.stage.rolled_back()
                raise
            self.stage.committed()
            return output

        return self._with_retries(attempt, what="write batch", refusals=True)

    def _write_letters(self, letters: Sequence[tuple[Message, str]]) -> None:
        with self.engine.begin() as connection:
            write_letters(connection, letters, stage=self.stage.name, cluster_id=self.cluster)

    def _mark(self, output: Output) -> None:
        with self.engine.begin() as connection:
            assert output.publish_table is not None  # only called when there are keys
            mark_published(connection, output.publish_table, "invoice_line_id",
                           output.publish_keys)

    def _with_retries(self, action: Callable[[], T], *, what: str, refusals: bool = False) -> T:
        """Run ``action`` (one transaction) until it commits. Nothing was committed when
        it fails, so it is simply run again: while the database is away, for as long as
        it takes; after a deadlock or a concurrent insert of the same key, a few times.
        With ``refusals``, any other failure (the database refuses the rows) raises
        :class:`Refused` with the database's reason; without, it propagates."""
        conflicts, delay = 0, 0.1
        while True:
            try:
                return action()
            except DBAPIError as problem:
                reason = " ".join(str(problem.orig or problem).split())[:200]
                if not database_away(problem):
                    conflicts += 1
                    if not isinstance(problem, IntegrityError) or (
                            conflicts > MAX_CONFLICT_RETRIES):
                        if refusals:
                            raise Refused(refusal_reason(problem)) from problem
                        raise
                log.warning("%s: %s failed (%s), retrying in %.1fs", self.stage.name, what,
                            reason, delay)
                self._pause(delay)
                delay = min(delay * 2, MAX_BACKOFF)
            except Exception as problem:
                if not refusals:
                    raise
                # the driver refused to bind a value (sqlite3: an integer beyond 64 bits),
                # or a defect: either way one record must not stop the stage
                reason = refusal_reason(problem)
                log.warning("%s: %s failed (%s)", self.stage.name, what, reason,
                            exc_info=not isinstance(problem, OverflowError))
                raise Refused(reason) from problem

    def _pause(self, seconds: float) -> None:
        self.heartbeat.beat()  # waiting for the database or the broker is alive, too
        if self.stop_event.wait(seconds):
            raise Stopping

    def _publish(self, output: Output) -> None:
        """Produce the batch's events and dead letters (``sales.dlq``, a feed for other
        consumers: the letters themselves are already rows of ``dead_letters``) and wait
        until the broker has acknowledged every one; a message it refused or that timed
        out (the broker is away) is produced again, for as long as it takes."""
        pending: list[Produced] = [
            (topic, key, value, None) for topic, key, value in output.events
        ]
        failed_at = datetime.now(UTC).isoformat()
        for message, reason in output.dead:
            headers = [
                ("reason", reason.encode()),
                ("source_topic", (message.topic() or "").encode()),
                ("source_partition", str(message.partition()).encode()),
                ("source_offset", str(message.offset()).encode()),
                ("stage", self.stage.name.encode()),
                ("failed_at", failed_at.encode()),
                ("cluster_id", self.cluster.encode()),
                *(headers_for(sender_of(message.headers())) or ()),
            ]
            pending.append((self.topics.sales_dlq, message.key(), message.value() or b"",
                            headers))
        delay = 0.5
        while pending:
            for item in pending:
                self._produce(*item)
            while self.producer.flush(1.0):
                self._pause(0)
            pending, self._failed = self._failed, []
            if pending:
                log.warning("%s: the broker did not acknowledge %d messages, producing them "
                            "again in %.1fs", self.stage.name, len(pending), delay)
                self._pause(delay)
                delay = min(delay * 2, MAX_BACKOFF)

    def _produce(self, topic: str, key: bytes | None, value: bytes, headers) -> None:
        try:
            produce(self.producer, topic, value, key=key, headers=headers,
                    on_delivery=self._delivered)
        except KafkaException as problem:
            if not missing_topic(problem):
                raise
            # a restarted broker before its topics are created again: try later
            self._failed.append((topic, key, value, headers))

    def _delivered(self, error: KafkaError | None, message: Message) -> None:
        if error is not None:  # produced again by _publish
            self._failed.append((message.topic() or "", message.key(), message.value() or b"",
                                 message.headers()))

    def _commit(self, batch: Sequence[Message]) -> None:
        offsets: dict[tuple[str, int], int] = {}
        for message in batch:
            key = cast(tuple[str, int], (message.topic(), message.partition()))
            offsets[key] = max(offsets.get(key, -1), cast(int, message.offset()))
        partitions = [TopicPartition(t, p, o + 1) for (t, p), o in offsets.items()]
        try:
            self.consumer.commit(offsets=partitions, asynchronous=False)
        except KafkaException as problem:
            # typically a rebalance took the partition away: its new owner will be
            # redelivered this batch, and redelivery is harmless
            log.warning("%s: offset commit failed: %s", self.stage.name, problem.args[0].str())
