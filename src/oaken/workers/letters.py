"""Dead letters as rows of ``dead_letters``, written in the batch's own transaction.

A worker writes the letters of a batch in the transaction that writes the rest of it
(contract errors and conflicts), or, for records the database refused, in a transaction
of their own right after the others committed. Each letter names its delivery (cluster
id, topic, partition, offset, stage) and is inserted only if that delivery has none yet,
so a batch delivered again writes nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from confluent_kafka import Message
from sqlalchemy import Connection

from oaken.db import models
from oaken.db.writes import insert_ignore
from oaken.provenance import sender_of

MAX_REASON = 1000
MAX_TEXT = 255
MAX_KEY = 65535  # BLOB on MariaDB/MySQL


def clean(text: str, limit: int) -> str:
    """Text every database stores: no NUL or other control characters, at most
    ``limit`` characters (a reason may quote the very value a database refused)."""
    printable = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)
    return printable[:limit]



def letter_rows(
    letters: Sequence[tuple[Message, str]], *, stage: str, cluster_id: str
) -> list[dict]:
    """The ``dead_letters`` rows of a batch's ``(message, reason)`` pairs."""
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = []
    for message, reason in letters:
        sent_by = sender_of(message.headers())
        key = message.key()
        rows.append(
            {
                "reason": clean(reason, MAX_REASON),
                "payload": message.value() or b"",
                "message_key": None if key is None else key[:MAX_KEY],
                "source_topic": message.topic() or "",
                "source_partition": message.partition(),
                "source_offset": message.offset(),
                "cluster_id": cluster_id,
                "stage": stage,
                "sent_by": None if sent_by is None else clean(sent_by, MAX_TEXT),
                "first_seen": now,
                "status": "open",
                "updated_at": now,
            }
        )
    return rows


def write_letters(
    connection: Connection,
    letters: Sequence[tuple[Message, str]],
    *,
    stage: str,
    cluster_id: str,
) -> None:
    """Insert the letters whose delivery has none yet (in the caller's transaction)."""
    insert_ignore(
        connection, models.dead_letters, letter_rows(letters, stage=stage, cluster_id=cluster_id)
    )
