"""Publishing sale messages to ``sales.raw`` (``oaken replay``).

Records are published as they are: validation happens in the orders worker, so a bad
line in a file ends up in the dead-letter topic with its reason instead of stopping
the replay. Messages are keyed by store number, which keeps each store's sales in
order within a partition. Every message carries the ``sent_by`` header
(``replay:<file name>`` or ``replay:synthetic``, :mod:`oaken.provenance`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import orjson
from confluent_kafka import Producer

from oaken.bus.config import producer_config
from oaken.bus.produce import produce
from oaken.bus.topics import Topics
from oaken.contract.sale import FIELD_ALIASES
from oaken.errors import BrokerError
from oaken.provenance import headers_for
from oaken.settings import Settings

_STORE_KEYS = FIELD_ALIASES["store_id"]


def store_key(record: dict[str, object]) -> bytes | None:
    for name in _STORE_KEYS:
        value = record.get(name)
        if value not in (None, ""):
            text = str(value).strip()
            return (text[:-2] if text.endswith(".0") else text).encode()[:64]
    return None


def encode(record: dict[str, object]) -> tuple[bytes | None, bytes]:
    raw = record.get("__raw__")
    if isinstance(raw, str) and len(record) == 1:
        return None, raw.encode("utf-8", errors="surrogateescape")
    return store_key(record), orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS)


class Pacer:
    """Keeps a steady rate: sleeps when ahead of ``rate`` messages per second."""

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self.started = time.perf_counter()
        self.sent = 0

    def tick(self) -> None:
        self.sent += 1
        if self.rate:
            ahead = self.sent / self.rate - (time.perf_counter() - self.started)
            if ahead > 0.002:
                time.sleep(ahead)


def publish(
    settings: Settings,
    records: Iterable[dict[str, object]],
    *,
    rate: float | None = None,
    progress: Callable[[int], None] | None = None,
    sent_by: str | None = None,
) -> int:
    """Produce every record to ``sales.raw`` with ``sent_by`` as its sender; returns how
    many the broker acknowledged."""
    topic = Topics(settings.topic_prefix).sales_raw
    producer = Producer(producer_config(settings))
    failures: list[str] = []

    def delivered(error, _message) -> None:
        if error is not None:
            failures.append(error.str())

    headers = headers_for(sent_by)
    pacer = Pacer(rate)
    count = 0
    for record in records:
        key, value = encode(record)
        produce(producer, topic, value, key=key, headers=headers, on_delivery=delivered)
        count += 1
        pacer.tick()
        if count % 1000 == 0:
            producer.poll(0)
            if progress:
                progress(1000)
    if producer.flush(60):
        raise BrokerError("the broker did not acknowledge every message within 60s")
    if progress and count % 1000:
        progress(count % 1000)
    if failures:
        raise BrokerError(f"the broker refused {len(failures)} messages: {failures[0]}")
    return count
