"""Shared fixtures: a fresh, migrated database per test on each real engine.

``database_url`` is parametrised over SQLite (a file in ``tmp_path``), MariaDB
(127.0.0.1:3306, root) and PostgreSQL (127.0.0.1:5432, postgres). Each test gets its
own database, created here and dropped afterwards. Servers that are not running are
skipped with the reason; set ``OAKEN_TEST_DATABASES=sqlite`` to choose engines.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

pytest_plugins = ["tests.support.db_servers"]  # private_server, private_database_url

SERVERS = {
    "mariadb": os.environ.get("OAKEN_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/mysql"),
    "postgresql": os.environ.get(
        "OAKEN_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    ),
}
ENGINES = os.environ.get("OAKEN_TEST_DATABASES", "sqlite,mariadb,postgresql").split(",")


def _admin(kind: str):
    return create_engine(SERVERS[kind], isolation_level="AUTOCOMMIT")


def _server_reason(kind: str) -> str | None:
    try:
        with _admin(kind).connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as problem:
        return f"{kind} server not reachable at {SERVERS[kind]}: {str(problem.orig)[:120]}"
    return None


@pytest.fixture(scope="session")
def server_status() -> dict[str, str | None]:
    return {kind: _server_reason(kind) for kind in SERVERS}


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


@pytest.fixture(params=[e for e in ("sqlite", "mariadb", "postgresql") if e in ENGINES])
def database_url(request, tmp_path, server_status) -> Iterator[str]:
    """A fresh, migrated database on each engine in turn."""
    from oaken.db.migrate import migrate

    for url in fresh_database(request.param, tmp_path, server_status):
        migrate(url)
        yield url


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """A fresh, migrated SQLite database (for tests that do not need every engine)."""
    from oaken.db.migrate import migrate

    url = f"sqlite:///{tmp_path / 'oaken.db'}"
    migrate(url)
    return url
