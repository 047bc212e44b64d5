"""Run the Alembic migrations shipped inside the package, one process at a time.

Every worker, the API and ``oaken up`` migrate when they start, so copies started
together on an empty database would each try to create the tables: on MariaDB/MySQL,
whose DDL is not transactional, all but one failed with "table already exists", and
PostgreSQL refused concurrent ``CREATE TABLE`` of the same name. So the migrations
run under a database lock, and whoever waited finds the database already at the
newest revision: PostgreSQL's ``pg_advisory_lock``, MariaDB/MySQL's ``GET_LOCK`` (both
held by the session, so a process that dies lets go of it), and on SQLite the
transaction itself begins with ``BEGIN IMMEDIATE``, SQLite's write lock.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, text

from oaken.db.engine import make_engine, wait_for_database
from oaken.errors import DatabaseError


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("oaken.db") / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


#: the name of the lock (MariaDB/MySQL) and its number (PostgreSQL's advisory locks)
LOCK_NAME = "oaken.migrations"
LOCK_KEY = zlib.crc32(LOCK_NAME.encode())


def migrate(url: str, *, engine: Engine | None = None, timeout: float = 30.0,
            lock_timeout: float = 600.0) -> None:
    """Wait for the database, then upgrade it to the newest revision (idempotent), under
    the migration lock (waiting up to ``lock_timeout`` seconds for another process)."""
    engine = engine or make_engine(url)
    wait_for_database(engine, timeout=timeout)
    config = alembic_config(url)
    with (engine.connect() as connection, migration_lock(connection, timeout=lock_timeout),
          migration_transaction(connection)):
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def current_revision(url: str, *, engine: Engine | None = None) -> str:
    """The revision the database is at ("none" before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    engine = engine or make_engine(url)
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() or "none"


@contextmanager
def migration_lock(connection: Connection, *, timeout: float) -> Iterator[None]:
    """Hold the database's migration lock on ``connection`` (a session lock, taken and
    released outside any transaction). SQLite's is the ``BEGIN IMMEDIATE`` of
    :func:`migration_transaction`."""
    dialect = connection.dialect.name
    if dialect in ("mysql", "mariadb"):
        took = connection.execute(text("SELECT GET_LOCK(:name, :seconds)"),
                                  {"name": LOCK_NAME, "seconds": max(1, int(timeout))}
                                  ).scalar()
        connection.commit()
        release = text("SELECT RELEASE_LOCK(:name)")
    elif dialect == "postgresql":
        deadline, took = time.monotonic() + timeout, False
        while not took:
            took = connection.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                      {"key": LOCK_KEY}).scalar_one()
            connection.commit()
            if not took and time.monotonic() >= deadline:
                break
            if not took:
                time.sleep(0.2)
        release = text("SELECT pg_advisory_unlock(:key)")
    else:
        yield
        return
    if took != 1:
        raise DatabaseError(f"another process has been migrating the database for more "
                            f"than {timeout:.0f}s (lock {LOCK_NAME!r}); try again later")
    try:
        yield
    finally:
        if connection.in_transaction():
            connection.rollback()
        connection.execute(release, {"name": LOCK_NAME, "key": LOCK_KEY})
        connection.commit()


@contextmanager
def migration_transaction(connection: Connection) -> Iterator[None]:
    """One transaction for migrations; on SQLite with foreign keys off inside it.

    SQLite alters a column by rebuilding its table (Alembic's batch mode), which drops
    the old table, and a table others refer to cannot be dropped while foreign keys
    are enforced. SQLite ignores the pragma inside a transaction, so it is set before
    the transaction, every key is checked before the commit, and enforcement is back
    on afterwards, before the connection returns to the pool.
    """
    if connection.dialect.name != "sqlite":
        with connection.begin():
            yield
        return
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    connection.commit()
    try:
        with connection.begin():
            # the write lock from the start: a second process waits here (busy timeout)
            # and then finds the tables made, instead of failing half-way
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            yield
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            if broken:
                table, _, parent, _ = broken[0]
                raise DatabaseError(f"migration left {len(broken)} row(s) with a broken "
                                    f"foreign key, e.g. {table} → {parent}; rolled back")
    finally:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()
