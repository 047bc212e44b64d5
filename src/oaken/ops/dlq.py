"""Dead letters: read ``sales.dlq`` with reasons, and re-submit them after a fix.

Each dead letter is the original message bytes with the reason, the source topic,
partition and offset in headers. A crash between publishing a dead letter and
committing the batch can publish it twice; reading dedupes on the source position.
Replaying remembers how far it got in its own consumer group, so a dead letter is
re-submitted once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition

from oaken.bus.config import consumer_config, producer_config
from oaken.bus.topics import Topics
from oaken.errors import BrokerError
from oaken.settings import Settings


@dataclass(frozen=True)
class DeadLetter:
    reason: str
    source_topic: str
    partition: int
    offset: int
    payload: bytes
    key: bytes | None
    stage: str
    failed_at: str
    dlq_partition: int
    dlq_offset: int

    def as_json(self) -> dict[str, object]:
        return {
            "reason": self.reason,
            "source_topic": self.source_topic,
            "partition": self.partition,
            "offset": self.offset,
            "payload": self.payload.decode("utf-8", errors="replace"),
            "key": None if self.key is None else self.key.decode("utf-8", errors="replace"),
            "stage": self.stage,
            "failed_at": self.failed_at,
        }


def _dead_letter(message) -> DeadLetter:
    headers = {k: (v or b"").decode("utf-8", errors="replace") for k, v in message.headers() or []}
    return DeadLetter(
        reason=headers.get("reason", ""),
        source_topic=headers.get("source_topic", ""),
        partition=int(headers.get("source_partition", "-1") or -1),
        offset=int(headers.get("source_offset", "-1") or -1),
        payload=message.value() or b"",
        key=message.key(),
        stage=headers.get("stage", ""),
        failed_at=headers.get("failed_at", ""),
        dlq_partition=message.partition(),
        dlq_offset=message.offset(),
    )


def read_dead_letters(
    settings: Settings, *, group: str | None = None, timeout: float = 30.0
) -> list[DeadLetter]:
    """Every dead letter (or, with ``group``, those after the group's committed offsets)."""
    topic = Topics(settings.topic_prefix).sales_dlq
    consumer = Consumer(consumer_config(
        settings, group or "oaken-dlq-reader", **{"enable.partition.eof": True}
    ))
    try:
        metadata = consumer.list_topics(topic, timeout=10)
        if topic not in metadata.topics or metadata.topics[topic].error is not None:
            return []
        partitions = [TopicPartition(topic, p) for p in metadata.topics[topic].partitions]
        if group:
            partitions = consumer.committed(partitions, timeout=10)
            for tp in partitions:
                if tp.offset < 0:
                    tp.offset = OFFSET_BEGINNING
        else:
            for tp in partitions:
                tp.offset = OFFSET_BEGINNING
        consumer.assign(partitions)
        pending = {tp.partition for tp in partitions}
        letters: dict[tuple[str, int, int], DeadLetter] = {}
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for message in consumer.consume(1000, timeout=0.5):
                error = message.error()
                if error is not None:
                    partition = message.partition()
                    if error.code() == KafkaError._PARTITION_EOF and partition is not None:
                        pending.discard(partition)
                    continue
                letter = _dead_letter(message)
                source = (letter.source_topic, letter.partition, letter.offset)
                letters.setdefault(source, letter)
        if pending:
            raise BrokerError(f"could not read {topic} to its end in {timeout:.0f}s")
        return sorted(letters.values(), key=lambda d: (d.dlq_partition, d.dlq_offset))
    finally:
        consumer.close()


def replay_dead_letters(settings: Settings) -> int:
    """Re-submit dead letters not replayed before to their source topic."""
    group = f"{settings.topic_prefix}oaken-dlq-replay"
    letters = read_dead_letters(settings, group=group)
    if not letters:
        return 0
    producer = Producer(producer_config(settings))
    raw = Topics(settings.topic_prefix).sales_raw
    for letter in letters:
        producer.produce(letter.source_topic or raw, value=letter.payload, key=letter.key)
    if producer.flush(30):
        raise BrokerError("the broker did not acknowledge the replayed messages in 30s")
    consumer = Consumer(consumer_config(settings, group))
    try:
        last: dict[int, int] = {}
        for letter in letters:
            last[letter.dlq_partition] = max(last.get(letter.dlq_partition, -1), letter.dlq_offset)
        topic = Topics(settings.topic_prefix).sales_dlq
        consumer.commit(offsets=[TopicPartition(topic, p, o + 1) for p, o in last.items()],
                        asynchronous=False)
    finally:
        consumer.close()
    return len(letters)
