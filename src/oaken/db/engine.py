"""Engines for the three supported databases, and waiting for one to answer."""

from __future__ import annotations

import sqlite3
import time
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.exc import DatabaseError as SQLAlchemyDatabaseError

from oaken.db.money import to_hundredths
from oaken.errors import DatabaseError


def sqlite_timestamp(value: datetime) -> str:
    """A timestamp as SQLAlchemy's SQLite ``DateTime`` stores it."""
    return value.isoformat(" ")


# Values bound straight to sqlite3 (see oaken.db.writes.insert_values) are stored exactly
# as SQLAlchemy's SQLite types store them: money as integer hundredths (oaken.db.money;
# every Decimal this process binds to SQLite is money), dates and timestamps as ISO
# text. oaken.db.writes.Binder converts with the same functions.
sqlite3.register_adapter(Decimal, to_hundredths)
sqlite3.register_adapter(date, date.isoformat)
sqlite3.register_adapter(datetime, lru_cache(maxsize=64)(sqlite_timestamp))


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL mode and their folder created."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(f"OAKEN_DATABASE_URL is not a database URL: {url!r}") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "mysql":
        # positional parameters: the driver escapes tuples faster than dicts
        return create_engine(parsed, pool_pre_ping=True, pool_recycle=3600,
                             paramstyle="format", connect_args={"charset": "utf8mb4"})
    return create_engine(parsed, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def safe_url(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid url>"


def wait_for_database(engine: Engine, *, timeout: float = 30.0) -> None:
    """Block until the database answers ``SELECT 1`` or raise :class:`DatabaseError`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return
        except (OperationalError, SQLAlchemyDatabaseError) as problem:
            if time.monotonic() >= deadline:
                reason = " ".join(str(problem.orig or problem).split())[:300]
                raise DatabaseError(
                    f"database {safe_url(str(engine.url))} unreachable: {reason}"
                ) from None
            time.sleep(0.5)
