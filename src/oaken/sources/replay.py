"""Publishing sale messages to ``sales.raw`` (``oaken replay``).

Records are published as they are: validation happens in the orders worker, so a bad
line in a file ends up in the dead-letter topic with its reason instead of stopping
the replay. Messages are keyed by store number, which keeps each store's sales in
order within a partition. Every message carries the ``sent_by`` header
(``replay:<file name>`` or ``replay:synthetic``, :mod:`oaken.provenance`).

``oaken replay`` goes through :func:`replay_durably`: the records are written to a
journal of the replay's own (the API's :class:`~oaken.api.journal.Journal`, in
``OAKEN_HOME/journal``) and forwarded from there by the API's
:class:`~oaken.api.forwarder.Forwarder`, and the command returns only once the orders
worker's group has committed past every one of them. A broker that restarts in
between (``oaken up`` recycles the embedded broker, which keeps messages in memory
only) is a new cluster, and whatever had not been taken is sent to it again: the
orders stage absorbs a record it already has. A broker's acknowledgement alone
(:func:`publish`) says nothing about a record the broker later forgets.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import orjson
from confluent_kafka import Producer

from oaken.api.forwarder import Forwarder
from oaken.api.journal import Journal, Record
from oaken.bus.config import producer_config
from oaken.bus.produce import produce
from oaken.bus.topics import Topics
from oaken.contract.sale import FIELD_ALIASES
from oaken.errors import BrokerError, ReplayInterrupted
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


JOURNAL_CHUNK = 1000  # records written to the replay's journal in one transaction
JOURNAL_EVERY = 0.1  # seconds: a paced replay writes what it has at least this often


@dataclass
class ReplayResult:
    records: int = 0  # read from the source, all in the journal
    consumed: int = 0  # taken by the orders group (recorded or dead-lettered)
    sent_again: int = 0  # forwarded more than once (a broker restarted meanwhile)


def replay_durably(
    settings: Settings,
    records: Iterable[dict[str, object]],
    *,
    rate: float | None = None,
    journaled: Callable[[int], None] | None = None,
    consumed: Callable[[int], None] | None = None,
    sent_by: str | None = None,
) -> ReplayResult:
    """Journal every record with ``sent_by`` as its sender, forward it, and return once
    the orders group has them all.

    ``journaled(n)`` and ``consumed(n)`` report progress. Interrupted (Ctrl-C), it
    raises :class:`ReplayInterrupted` saying how many were not yet taken.
    """
    path = settings.home / "journal" / f"replay-{uuid.uuid4().hex[:12]}.sqlite"
    journal = Journal(path, max_records=settings.journal_max_records)
    forwarder = Forwarder(settings, journal)
    result = ReplayResult()
    forwarder.start()
    try:
        pacer, written_at = Pacer(rate), time.monotonic()
        chunk: list[Record] = []
        for record in records:
            key, value = encode(record)
            chunk.append((key, value, sent_by))
            pacer.tick()
            if len(chunk) >= JOURNAL_CHUNK or time.monotonic() - written_at >= JOURNAL_EVERY:
                _journal(journal, forwarder, chunk, result, journaled, consumed)
                chunk, written_at = [], time.monotonic()
        _journal(journal, forwarder, chunk, result, journaled, consumed)
        while journal.size:
            forwarder.wake.set()
            time.sleep(0.2)
            _report_consumed(journal, result, consumed)
        _report_consumed(journal, result, consumed)
    except KeyboardInterrupt:
        raise ReplayInterrupted(
            f"interrupted: {journal.size:,} of the {result.records:,} records replayed so far "
            "were not yet taken by the orders worker; a broker restart now loses those") from None
    finally:
        forwarder.close()
        result.sent_again = max(0, forwarder.forwarded - result.records)
        journal.close()
        for leftover in (path, path.with_name(path.name + "-wal"),
                         path.with_name(path.name + "-shm")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
    return result


def _journal(journal: Journal, forwarder: Forwarder, chunk: list[Record],
             result: ReplayResult, journaled: Callable[[int], None] | None,
             consumed: Callable[[int], None] | None) -> None:
    """Append ``chunk`` in one transaction, waiting while the journal is full."""
    if not chunk:
        return
    while not journal.append([chunk])[0]:  # full: the orders worker is behind or away
        forwarder.wake.set()
        time.sleep(0.2)
        _report_consumed(journal, result, consumed)
    result.records += len(chunk)
    forwarder.wake.set()
    if journaled:
        journaled(len(chunk))
    _report_consumed(journal, result, consumed)


def _report_consumed(journal: Journal, result: ReplayResult,
                     consumed: Callable[[int], None] | None) -> None:
    now = result.records - journal.size
    if now > result.consumed:
        if consumed:
            consumed(now - result.consumed)
        result.consumed = now
