"""Dead letters from ``dead_letters``: list them, re-submit them after a fix, discard them.

The workers write a letter in the transaction of the batch that refused it
(:mod:`oaken.workers.letters`), so the table survives anything the broker does (the
embedded broker keeps ``sales.dlq`` in memory only; the topic stays as a feed for other
consumers). A letter is ``open`` until it is ``replayed`` (re-submitted to its source
topic and acknowledged by the broker) or ``discarded`` (with a reason); either change
records when and by whom.
"""

from __future__ import annotations

import getpass
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from sqlalchemy import Connection, Engine, Row, func, select, update

from oaken.bus.config import producer_config
from oaken.bus.produce import produce
from oaken.db import models
from oaken.errors import OakenError
from oaken.provenance import headers_for
from oaken.settings import Settings
from oaken.workers.letters import MAX_REASON, MAX_TEXT, clean

Status = Literal["open", "replayed", "discarded", "all"]
letters_table = models.dead_letters
#: seconds the broker has to acknowledge the replayed messages
ACK_TIMEOUT = 30.0


class DeadLetterError(OakenError):
    """A dead letter that does not exist or is not in the state an operation needs."""


@dataclass(frozen=True)
class DeadLetter:
    id: int
    status: str
    reason: str
    source_topic: str
    partition: int
    offset: int
    cluster_id: str
    stage: str
    sent_by: str | None
    payload: bytes
    key: bytes | None
    first_seen: datetime
    status_changed_at: datetime | None
    status_changed_by: str | None
    discard_reason: str | None

    @classmethod
    def of(cls, row: Row) -> DeadLetter:
        return cls(
            id=row.id,
            status=row.status,
            reason=row.reason,
            source_topic=row.source_topic,
            partition=row.source_partition,
            offset=row.source_offset,
            cluster_id=row.cluster_id,
            stage=row.stage,
            sent_by=row.sent_by,
            payload=bytes(row.payload),
            key=None if row.message_key is None else bytes(row.message_key),
            first_seen=row.first_seen,
            status_changed_at=row.status_changed_at,
            status_changed_by=row.status_changed_by,
            discard_reason=row.discard_reason,
        )

    def as_json(self) -> dict[str, object]:
        def when(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "id": self.id,
            "status": self.status,
            "reason": self.reason,
            "source_topic": self.source_topic,
            "partition": self.partition,
            "offset": self.offset,
            "cluster_id": self.cluster_id,
            "stage": self.stage,
            "sent_by": self.sent_by,
            "payload": self.payload.decode("utf-8", errors="replace"),
            "key": None if self.key is None else self.key.decode("utf-8", errors="replace"),
            "first_seen": when(self.first_seen),
            "status_changed_at": when(self.status_changed_at),
            "status_changed_by": self.status_changed_by,
            "discard_reason": self.discard_reason,
        }


def operator() -> str:
    """Who changes a letter's status: the login name and host of this process."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return clean(f"{user}@{socket.gethostname()}", MAX_TEXT)


def list_letters(
    engine: Engine, *, status: Status = "open", ids: Sequence[int] | None = None
) -> list[DeadLetter]:
    """The letters with ``status`` (or every one), oldest first."""
    query = select(letters_table).order_by(letters_table.c.id)
    if status != "all":
        query = query.where(letters_table.c.status == status)
    if ids:
        query = query.where(letters_table.c.id.in_(list(ids)))
    with engine.connect() as connection:
        return [DeadLetter.of(row) for row in connection.execute(query)]


def open_letters(connection: Connection) -> int:
    """How many letters are open (neither replayed nor discarded)."""
    return connection.execute(
        select(func.count()).select_from(letters_table).where(letters_table.c.status == "open")
    ).scalar_one()


def _open_by_id(engine: Engine, ids: Sequence[int]) -> list[DeadLetter]:
    found = {letter.id: letter for letter in list_letters(engine, status="all", ids=ids)}
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise DeadLetterError(f"no dead letter with id {', '.join(missing)}")
    closed = [f"{i} is {found[i].status}" for i in ids if found[i].status != "open"]
    if closed:
        raise DeadLetterError(f"only open dead letters can change: {'; '.join(closed)}")
    return [found[i] for i in ids]


def _close(
    engine: Engine, ids: Sequence[int], status: str, by: str, discard_reason: str | None = None
) -> int:
    """Mark open letters ``status``; returns how many were still open."""
    if not ids:
        return 0
    now = datetime.now(UTC).replace(tzinfo=None)
    with engine.begin() as connection:
        result = connection.execute(
            update(letters_table)
            .where(letters_table.c.id.in_(list(ids)), letters_table.c.status == "open")
            .values(
                status=status,
                status_changed_at=now,
                status_changed_by=by,
                discard_reason=discard_reason,
                updated_at=now,
            )
        )
    return result.rowcount


@dataclass
class Replay:
    """What a replay did: letters the broker acknowledged, and those it refused."""

    replayed: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)


def replay_letters(
    settings: Settings,
    engine: Engine,
    *,
    ids: Sequence[int] | None = None,
    by: str | None = None,
    timeout: float = ACK_TIMEOUT,
) -> Replay:
    """Re-submit open letters (all, or ``ids``) to their source topic with their bytes,
    key and ``sent_by`` header. A letter becomes ``replayed`` only once the broker
    acknowledged it (its delivery report); one it refused, or did not acknowledge within
    ``timeout`` seconds, stays open."""
    letters = _open_by_id(engine, ids) if ids else list_letters(engine, status="open")
    outcome = Replay()
    if not letters:
        return outcome
    reports: dict[int, str | None] = {}

    def delivered(letter_id: int):
        def report(error: KafkaError | None, _message: Message) -> None:
            reports[letter_id] = None if error is None else error.str()

        return report

    # a message not acknowledged by then fails with a delivery report, so none is left
    # queued, to arrive later, once the letter was reported as still open
    producer = Producer(producer_config(settings, **{"message.timeout.ms": int(timeout * 1000)}))
    for letter in letters:
        headers = [("dead_letter_id", str(letter.id).encode()),
                   *(headers_for(letter.sent_by) or ())]
        try:
            produce(
                producer,
                letter.source_topic,
                letter.payload,
                key=letter.key,
                headers=headers,
                on_delivery=delivered(letter.id),
            )
        except KafkaException as problem:
            reports[letter.id] = problem.args[0].str()
    producer.flush(timeout + 10)
    for letter in letters:
        if letter.id not in reports:
            outcome.refused[letter.id] = f"not acknowledged within {timeout:.0f}s"
        elif reports[letter.id] is not None:
            outcome.refused[letter.id] = str(reports[letter.id])
        else:
            outcome.replayed.append(letter.id)
    _close(engine, outcome.replayed, "replayed", by or f"oaken dlq replay by {operator()}")
    return outcome


def discard_letters(
    engine: Engine, ids: Sequence[int], reason: str, *, by: str | None = None
) -> int:
    """Mark open letters discarded, keeping ``reason`` and who did it."""
    if not reason.strip():
        raise DeadLetterError("a discard needs a reason (--reason)")
    _open_by_id(engine, ids)
    return _close(engine, ids, "discarded", by or operator(), clean(reason.strip(), MAX_REASON))
