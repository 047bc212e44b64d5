"""API keys in the source-of-truth database (table ``api_keys``).

A key is ``oak_`` and 32 random bytes from :func:`secrets.token_urlsafe` (256 bits).
Only its SHA-256 is stored. A slow password hash (bcrypt, scrypt, Argon2) exists to
make guessing a *low-entropy* secret from its hash expensive; nobody can guess 256
random bits, fast hash or not, so a salted slow hash would buy nothing and would cost
the API milliseconds of CPU per request. An unsalted hash also lets the API find a
key by a dictionary lookup on its hash (:mod:`oaken.api.auth`); the timing of that
lookup can tell an attacker only about hashes, which say nothing about keys.

An application (a name) holds at most two active keys at once: the second exists for
rotation (create the new key, move the application to it, revoke the old one by its
``key_id``). A revoked key keeps its row, with ``revoked_at``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, and_, func, insert, or_, select, update

from oaken.db import models
from oaken.errors import ApiKeyError
from oaken.provenance import LOCAL, TOKEN

PREFIX = "oak_"
MAX_ACTIVE = 2
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
#: names the platform gives senders itself (oaken.provenance)
RESERVED = frozenset({TOKEN, LOCAL})


def now() -> datetime:
    """Naive UTC, as every timestamp of the database."""
    return datetime.now(UTC).replace(tzinfo=None)


def new_key() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    """The stored form of a key: its SHA-256, in hex."""
    return hashlib.sha256(key.encode()).hexdigest()


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise ApiKeyError(
            f"key name {name!r}: 1 to 64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    if name in RESERVED:
        raise ApiKeyError(
            f"key name {name!r} is reserved (the platform's own senders: "
            f"{', '.join(sorted(RESERVED))})"
        )
    return name


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    def as_json(self) -> dict[str, str | None]:
        def iso(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat() + "Z"

        return {
            "name": self.name,
            "key_id": self.key_id,
            "created_at": iso(self.created_at),
            "last_used_at": iso(self.last_used_at),
            "revoked_at": iso(self.revoked_at),
        }


@dataclass(frozen=True)
class Created:
    info: KeyInfo
    key: str  #: shown once, stored nowhere
    active: int  #: active keys of the name, this one included


@dataclass(frozen=True, slots=True)
class Entry:
    """What the API knows of a key, found by its hash."""

    key_id: str
    name: str
    revoked: bool


def _active(name: str):
    table = models.api_keys
    return and_(table.c.name == name, table.c.revoked_at.is_(None))


def create_key(engine: Engine, name: str) -> Created:
    """A new key for ``name``; refused when the name already holds two."""
    check_name(name)
    table = models.api_keys
    key, created = new_key(), now()
    with engine.begin() as connection:
        active = connection.execute(
            select(func.count()).select_from(table).where(_active(name))
        ).scalar_one()
        if active >= MAX_ACTIVE:
            raise ApiKeyError(
                f"{name} already holds {MAX_ACTIVE} keys: revoke one first "
                f"(oaken keys list, then oaken keys revoke {name} --key-id ID)"
            )
        key_id = secrets.token_hex(4)
        connection.execute(
            insert(table).values(
                key_id=key_id, name=name, key_hash=hash_key(key), created_at=created
            )
        )
    info = KeyInfo(key_id, name, created, None, None)
    return Created(info=info, key=key, active=active + 1)


def list_keys(engine: Engine, *, revoked: bool = False) -> list[KeyInfo]:
    """Every key (without revoked ones unless ``revoked``), by name then creation."""
    key = models.ApiKey
    query = select(key.key_id, key.name, key.created_at, key.last_used_at, key.revoked_at).order_by(
        key.name, key.created_at
    )
    if not revoked:
        query = query.where(key.revoked_at.is_(None))
    with engine.connect() as connection:
        return [
            KeyInfo(key_id, name, created_at, last_used_at, revoked_at)
            for key_id, name, created_at, last_used_at, revoked_at in connection.execute(query)
        ]


def revoke(engine: Engine, name: str, *, key_id: str | None = None) -> list[str]:
    """Revoke every active key of ``name``, or only ``key_id``; returns the key ids."""
    table = models.api_keys
    condition = _active(name)
    if key_id is not None:
        condition = and_(condition, table.c.key_id == key_id)
    with engine.begin() as connection:
        ids: list[str] = list(connection.execute(select(table.c.key_id).where(condition)).scalars())
        if not ids:
            which = f"key {key_id} of {name!r}" if key_id else f"key named {name!r}"
            raise ApiKeyError(f"no active {which} (oaken keys list shows them)")
        connection.execute(update(table).where(table.c.key_id.in_(ids)).values(revoked_at=now()))
    return ids


def load_keys(connection: Connection) -> dict[str, Entry]:
    """Every key, active or revoked, by its hash."""
    table = models.api_keys
    rows = connection.execute(
        select(table.c.key_hash, table.c.key_id, table.c.name, table.c.revoked_at)
    )
    return {
        str(key_hash): Entry(str(key_id), str(name), revoked_at is not None)
        for key_hash, key_id, name, revoked_at in rows
    }


def record_use(connection: Connection, used: Mapping[str, datetime]) -> None:
    """Note when keys were last used (``{key_id: when}``); never moves a time back."""
    table = models.api_keys
    for key_id, when in used.items():
        connection.execute(
            update(table)
            .where(
                table.c.key_id == key_id,
                or_(table.c.last_used_at.is_(None), table.c.last_used_at < when),
            )
            .values(last_used_at=when)
        )
