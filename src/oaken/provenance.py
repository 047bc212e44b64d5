"""How a sale entered the platform: its sender, kept in ``sales.sent_by``.

The sender travels with each message of ``sales.raw`` as the Kafka header
:data:`HEADER` (UTF-8), set by whoever produces the message: the ingest API (the name
of the API key, or :data:`LOCAL` for a keyless request from the API's own host),
``oaken replay`` (``replay:<file name>`` or ``replay:synthetic``); ``oaken import``
writes ``import:<file name>`` straight to the database. A message without the header
(another producer) is recorded with ``sent_by`` NULL, as are sales recorded before
the column existed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

#: Kafka headers as confluent-kafka gives and takes them
Headers = Sequence[tuple[str, str | bytes | None]] | Mapping[str, str | bytes | None]

HEADER = "sent_by"
#: the sender of a request without a key, allowed only while no key is configured and
#: only from the API's own host (oaken.api.auth)
LOCAL = "local"
#: the sender of a request carrying ``OAKEN_API_TOKEN``
TOKEN = "token"
#: the longest sender ``sales.sent_by`` holds; longer file names are cut
MAX_LENGTH = 255


def fit(sender: str) -> str:
    return sender[:MAX_LENGTH]


def replay_sender(path: Path | None) -> str:
    """``replay:<file name>``, or ``replay:synthetic`` for generated sales."""
    return fit(f"replay:{path.name if path is not None else 'synthetic'}")


def import_sender(path: Path) -> str:
    return fit(f"import:{path.name}")


def headers_for(sender: str | None) -> list[tuple[str, str | bytes | None]] | None:
    """The Kafka headers carrying ``sender`` (none when it is unknown)."""
    return None if sender is None else [(HEADER, sender.encode())]


def sender_of(headers: Headers | None) -> str | None:
    """The sender in a message's headers (the last ``sent_by`` wins), or None."""
    found: str | bytes | None = None
    pairs = headers.items() if isinstance(headers, Mapping) else headers or ()
    for name, value in pairs:
        if name == HEADER and value is not None:
            found = value
    if isinstance(found, bytes):
        found = found.decode("utf-8", errors="replace")
    return None if found is None else fit(found)
