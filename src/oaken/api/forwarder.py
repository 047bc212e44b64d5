"""Forward the journal to ``sales.raw``, and let records go once the orders worker has them.

One thread per API process. Each round it asks the broker for its cluster id, sends
the records not yet sent to that cluster, and drops the records the orders group has
committed past. Both steps read the cluster id before and after: positions are noted,
and committed offsets believed, only when the broker was the same cluster throughout
(a restarted embedded broker is a new cluster, and its offsets say nothing about the
old one's). While the broker is away the thread waits with back-off; the journal keeps
accepting meanwhile. While the journal cannot be written (a full disk) it waits the
same way, and resumes by itself once there is room again.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from oaken.api.journal import Journal
from oaken.bus.broker import cluster_id
from oaken.bus.config import admin_config, consumer_config, producer_config
from oaken.bus.produce import produce
from oaken.bus.topics import Topics, ensure_topics
from oaken.errors import BrokerError
from oaken.provenance import headers_for
from oaken.settings import Settings
from oaken.workers.stages import group_id

log = logging.getLogger("oaken.journal")
ROUND = 5000  # records sent per round
SEND_TIMEOUT = 15.0  # seconds to wait for the broker's acknowledgements of a round
CONFIRM_EVERY = 0.5
MAX_BACKOFF = 5.0


class Forwarder:
    def __init__(self, settings: Settings, journal: Journal) -> None:
        self.settings = settings
        self.journal = journal
        self.topic = Topics(settings.topic_prefix).sales_raw
        self.wake = threading.Event()
        self.cluster = ""
        self.forwarded = 0
        self.confirmed = 0
        self._stop = threading.Event()
        self._admin = AdminClient(admin_config(settings))
        self._producer = Producer(producer_config(settings, **{"linger.ms": 2}))
        self._offsets = Consumer(consumer_config(settings, group_id(settings.topic_prefix,
                                                                    "orders")))
        self._generation = 0
        self._thread = threading.Thread(target=self._run, name="journal-forwarder", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self.wake.set()
        self._thread.join(timeout=30)
        self._offsets.close()

    def _run(self) -> None:
        delay, confirmed_at = 0.2, 0.0
        while not self._stop.is_set():
            try:
                cluster = self._cluster()
                sent = self._send(cluster)
                if time.monotonic() - confirmed_at >= CONFIRM_EVERY:
                    self._confirm(cluster)
                    confirmed_at = time.monotonic()
                delay = 0.2
            except (BrokerError, KafkaException, sqlite3.Error) as problem:
                # the broker is away, or the journal cannot be written (a full disk: the
                # records sent but not noted as sent are simply sent again later)
                reason = problem.args[0].str() if isinstance(problem, KafkaException) else problem
                log.warning("forwarding paused (%s); %d records wait in the journal",
                            reason, self.journal.size)
                self._stop.wait(delay)
                delay = min(delay * 2, MAX_BACKOFF)
                continue
            if not sent:
                self.wake.wait(0.2)
                self.wake.clear()

    def _cluster(self) -> str:
        cluster = cluster_id(self._admin)
        if cluster != self.cluster:
            ensure_topics(self._admin, Topics(self.settings.topic_prefix).all(),
                          partitions=self.settings.partitions,
                          replication_factor=self.settings.replication_factor)
            if self.cluster:
                log.warning("the broker is a new cluster (%s, was %s): sending the %d "
                            "records of the journal again", cluster, self.cluster,
                            self.journal.size)
            self.cluster = cluster
        return cluster

    def _send(self, cluster: str) -> int:
        """Send one round of records not yet on ``cluster``; returns how many."""
        rows = self.journal.unsent(cluster, ROUND)
        if not rows:
            return 0
        self._generation += 1
        generation = self._generation
        landed: list[tuple[int, int, int]] = []  # (partition, offset, journal seq)
        refused: list[str] = []

        def delivered(seq: int):
            def callback(error: KafkaError | None, message: Message) -> None:
                if generation != self._generation:
                    return  # a round given up on: its records are sent again
                partition, offset = message.partition(), message.offset()
                if error is None and partition is not None and offset is not None:
                    landed.append((partition, offset, seq))
                else:
                    refused.append(error.str() if error else "no offset")
            return callback

        try:
            for seq, key, value, sent_by in rows:
                produce(self._producer, self.topic, value, key=key,
                        headers=headers_for(sent_by), on_delivery=delivered(seq))
        except KafkaException:  # e.g. a restarted broker whose topics are not back yet
            self._abandon_round()
            raise
        deadline = time.monotonic() + SEND_TIMEOUT
        while self._producer.flush(0.5) and time.monotonic() < deadline:
            pass
        if len(landed) + len(refused) < len(rows) or refused:
            self._abandon_round()
            reason = refused[0] if refused else "no acknowledgement"
            raise BrokerError(f"the broker took {len(landed)} of {len(rows)} records: {reason}")
        if cluster_id(self._admin) == cluster:
            self.journal.mark_sent(cluster, landed)
            self.forwarded += len(landed)
        return len(rows)

    def _abandon_round(self) -> None:
        """Forget the round in flight: its records stay unsent and go in a later round."""
        self._generation += 1
        self._producer.purge()
        self._producer.flush(0)

    def _confirm(self, cluster: str) -> None:
        """Drop the records the orders group has committed past, on ``cluster``."""
        if not self.journal.size:
            return
        metadata = self._admin.list_topics(timeout=5).topics.get(self.topic)
        if metadata is None or metadata.error is not None:
            return
        partitions = [TopicPartition(self.topic, p) for p in metadata.partitions]
        committed = {tp.partition: tp.offset
                     for tp in self._offsets.committed(partitions, timeout=5)
                     if tp.error is None and tp.offset >= 0}
        if committed and cluster_id(self._admin) == cluster:
            self.confirmed += self.journal.confirm(cluster, committed)
