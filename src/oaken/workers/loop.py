"""The worker loop: consume a batch, write it in one transaction, publish, commit.

    consume ─► handle (one DB transaction) ─► produce events + dead letters ─► flush
            ─► flag rows published ─► commit offsets

A crash at any arrow redelivers the batch, and redelivery changes nothing: writes
are idempotent on natural keys, derived values are deterministic, and a row whose
event was not acknowledged is re-published (downstream dedupes by invoice line).
SIGTERM and SIGINT set a flag; the loop finishes its batch, commits and closes.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from oaken.bus.config import consumer_config, producer_config
from oaken.bus.topics import Topics
from oaken.db.writes import mark_published
from oaken.errors import BrokerError
from oaken.settings import Settings
from oaken.workers.stages import STAGES, Output, Stage, group_id

log = logging.getLogger("oaken.worker")
MAX_RETRIES = 20


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
        self.consumer = Consumer(consumer_config(settings, self.group))
        self.producer = Producer(producer_config(settings))
        self._errors: list[str] = []
        self.assignment: set[tuple[str, int]] = set()

    # -- lifecycle -----------------------------------------------------------------
    def install_signal_handlers(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.stop_event.set())

    def stop(self) -> None:
        self.stop_event.set()

    def run(self, *, idle_exit: float | None = None) -> None:
        """Process until stopped (or until idle for ``idle_exit`` seconds)."""
        self.consumer.subscribe(self.stage.topics, on_assign=self._assigned,
                                on_revoke=self._revoked, on_lost=self._revoked)
        wait = 0.05
        idle_since = time.monotonic()
        try:
            while not self.stop_event.is_set():
                messages = self.consumer.consume(self.settings.batch_size, timeout=wait)
                batch = self._triage(messages)
                if not batch:
                    if idle_exit is not None and time.monotonic() - idle_since > idle_exit:
                        return
                    continue
                idle_since = time.monotonic()
                self.process(batch)
        finally:
            self.consumer.close()
            self.producer.flush(10)

    def _assigned(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.assignment |= {(tp.topic, tp.partition) for tp in partitions}
        log.info("%s: assigned %s", self.stage.name, sorted(self.assignment))

    def _revoked(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.assignment -= {(tp.topic, tp.partition) for tp in partitions}

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
            self._with_retries(
                lambda: self._mark(output), what="flag published rows"
            )
        self._commit(batch)
        self.processed += len(batch)
        self.dead += len(output.dead)

    def _write(self, batch: Sequence[Message]) -> Output:
        def attempt() -> Output:
            try:
                with self.engine.begin() as connection:
                    output = self.stage.handle(connection, batch)
            except BaseException:
                self.stage.rolled_back()
                raise
            self.stage.committed()
            return output

        return self._with_retries(attempt, what="write batch")

    def _mark(self, output: Output) -> None:
        with self.engine.begin() as connection:
            mark_published(connection, output.publish_table, "invoice_line_id",
                           output.publish_keys)

    def _with_retries(self, action, *, what: str):
        for attempt in range(1, MAX_RETRIES + 1):
            try:
                return action()
            except (OperationalError, IntegrityError) as problem:
                # the database went away, a deadlock, or a concurrent insert of the same
                # key: nothing was committed, so the batch is simply tried again
                if attempt == MAX_RETRIES:
                    raise
                reason = str(problem.orig or problem).splitlines()[0][:200]
                log.warning("%s: %s failed (%s), retry %d", self.stage.name, what, reason,
                            attempt)
                self.stop_event.wait(min(0.1 * 2**attempt, 5.0))
        raise AssertionError("unreachable")

    def _publish(self, output: Output) -> None:
        for topic, key, value in output.events:
            self._produce(topic, key, value, None)
        failed_at = datetime.now(UTC).isoformat()
        for message, reason in output.dead:
            headers = [
                ("reason", reason.encode()),
                ("source_topic", message.topic().encode()),
                ("source_partition", str(message.partition()).encode()),
                ("source_offset", str(message.offset()).encode()),
                ("stage", self.stage.name.encode()),
                ("failed_at", failed_at.encode()),
            ]
            self._produce(self.topics.sales_dlq, message.key(), message.value() or b"", headers)
        if output.events or output.dead:
            remaining = self.producer.flush(30)
            if remaining:
                raise BrokerError(f"{remaining} messages not acknowledged by the broker in 30s")
        if self._errors:
            errors, self._errors = self._errors, []
            raise BrokerError(f"broker refused {len(errors)} messages: {errors[0]}")

    def _produce(self, topic: str, key: bytes | None, value: bytes, headers) -> None:
        while True:
            try:
                self.producer.produce(topic, value=value, key=key, headers=headers,
                                      on_delivery=self._delivered)
                return
            except BufferError:
                self.producer.poll(0.1)

    def _delivered(self, error: KafkaError | None, _message: Message) -> None:
        if error is not None:
            self._errors = [*self._errors, error.str()]

    def _commit(self, batch: Sequence[Message]) -> None:
        offsets: dict[tuple[str, int], int] = {}
        for message in batch:
            key = (message.topic(), message.partition())
            offsets[key] = max(offsets.get(key, -1), message.offset())
        partitions = [TopicPartition(t, p, o + 1) for (t, p), o in offsets.items()]
        try:
            self.consumer.commit(offsets=partitions, asynchronous=False)
        except KafkaException as problem:
            # typically a rebalance took the partition away: its new owner will be
            # redelivered this batch, and redelivery is harmless
            log.warning("%s: offset commit failed: %s", self.stage.name, problem.args[0].str())
