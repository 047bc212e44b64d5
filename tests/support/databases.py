"""The shared database servers of the tests: which engines run, and a fresh database on
one of them per test (created before, dropped after)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

SERVERS = {
    "mariadb": os.environ.get("OAKEN_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/mysql"),
    "postgresql": os.environ.get(
        "OAKEN_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    ),
}
ENGINES = os.environ.get("OAKEN_TEST_DATABASES", "sqlite,mariadb,postgresql").split(",")


def _admin(kind: str):
    return create_engine(SERVERS[kind], isolation_level="AUTOCOMMIT")


def server_reason(kind: str) -> str | None:
    try:
        with _admin(kind).connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as problem:
        return f"{kind} server not reachable at {SERVERS[kind]}: {str(problem.orig)[:120]}"
    return None


def fresh_database(kind: str, tmp_path, server_status) -> Iterator[str]:
    """Yield the URL of a new, empty database of ``kind``; drop it afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'oaken.db'}"
        return
    reason = server_status[kind]
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    name = f"oaken_test_{uuid.uuid4().hex[:10]}"
    admin = _admin(kind)
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))  # name is ours, not input
    try:
        yield make_url(SERVERS[kind]).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            if kind == "postgresql":
                connection.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
            connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()
