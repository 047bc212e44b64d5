"""Run the Alembic migrations shipped inside the package."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine

from oaken.db.engine import make_engine, wait_for_database
from oaken.errors import DatabaseError


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("oaken.db") / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str, *, engine: Engine | None = None, timeout: float = 30.0) -> None:
    """Wait for the database, then upgrade it to the newest revision (idempotent)."""
    engine = engine or make_engine(url)
    wait_for_database(engine, timeout=timeout)
    config = alembic_config(url)
    with engine.connect() as connection, migration_transaction(connection):
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def current_revision(url: str, *, engine: Engine | None = None) -> str:
    """The revision the database is at ("none" before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    engine = engine or make_engine(url)
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() or "none"


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
            yield
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            if broken:
                table, _, parent, _ = broken[0]
                raise DatabaseError(f"migration left {len(broken)} row(s) with a broken "
                                    f"foreign key, e.g. {table} → {parent}; rolled back")
    finally:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()
