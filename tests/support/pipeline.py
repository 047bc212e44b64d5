"""Helpers for tests over real connections: settings on a topic prefix of their own,
workers in threads, reading a topic to its end, waiting for a condition."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from pathlib import Path

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition
from confluent_kafka.admin import AdminClient

from oaken.bus.config import admin_config, consumer_config
from oaken.bus.topics import Topics, ensure_topics
from oaken.db.engine import make_engine
from oaken.settings import Settings
from oaken.workers.loop import Worker


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_settings(database_url: str, bootstrap: str, home: Path, **extra: object) -> Settings:
    settings = Settings(
        home=home, database_url=database_url, kafka_bootstrap=bootstrap,
        topic_prefix=f"t{uuid.uuid4().hex[:8]}.", partitions=4, batch_size=500, **extra,
    )
    ensure_topics(AdminClient(admin_config(settings)), Topics(settings.topic_prefix).all(),
                  partitions=settings.partitions)
    return settings


class Running:
    """Workers running in threads of this process, stopped at the end of the test."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = make_engine(settings.database_url)
        self.workers: list[tuple[Worker, threading.Thread]] = []

    def start(self, *stages: str) -> list[Worker]:
        started = []
        for stage in stages:
            worker = Worker(stage, self.settings, self.engine)
            thread = threading.Thread(target=worker.run, name=f"worker-{stage}", daemon=True)
            thread.start()
            self.workers.append((worker, thread))
            started.append(worker)
        return started

    def stop(self) -> None:
        for worker, _ in self.workers:
            worker.stop()
        for _, thread in self.workers:
            thread.join(timeout=30)
        self.workers.clear()
        self.engine.dispose()


def read_topic(settings: Settings, topic: str, *, timeout: float = 20.0) -> list:
    """Every message of ``topic`` from the beginning (no consumer group commits)."""
    consumer = Consumer(consumer_config(settings, f"reader-{uuid.uuid4().hex[:6]}",
                                        **{"enable.partition.eof": True}))
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics[topic]
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING)
                         for p in metadata.partitions])
        pending, messages = set(metadata.partitions), []
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for message in consumer.consume(1000, timeout=0.5):
                if message.error() is None:
                    messages.append(message)
                elif message.error().code() == KafkaError._PARTITION_EOF:
                    pending.discard(message.partition())
        assert not pending, f"could not read {topic} to its end"
        return messages
    finally:
        consumer.close()


def wait_until(predicate, *, timeout: float = 120.0, interval: float = 0.25) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")
