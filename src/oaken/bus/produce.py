"""Producing one message, whatever the state of the producer's local queue."""

from __future__ import annotations

from collections.abc import Callable

from confluent_kafka import Producer


def produce(producer: Producer, topic: str, value: bytes, *, key: bytes | None = None,
            headers: list | None = None, on_delivery: Callable | None = None) -> None:
    """``producer.produce``; while librdkafka's local queue is full, serve delivery
    reports (which empties it) and try again, instead of failing with ``BufferError``."""
    while True:
        try:
            producer.produce(topic, value=value, key=key, headers=headers,
                             on_delivery=on_delivery)
            return
        except BufferError:
            producer.poll(0.05)
