"""Shared fixtures: a fresh, migrated database per test on each real engine.

``database_url`` is parametrised over SQLite (a file in ``tmp_path``), MariaDB
(127.0.0.1:3306, root) and PostgreSQL (127.0.0.1:5432, postgres). Each test gets its
own database, created here and dropped afterwards. Servers that are not running are
skipped with the reason; set ``OAKEN_TEST_DATABASES=sqlite`` to choose engines.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from tests.support.databases import ENGINES, SERVERS, fresh_database, server_reason

pytest_plugins = [
    "tests.support.db_servers",  # private_server, private_database_url
    "tests.support.browser",  # chromium, browser
]


@pytest.fixture(scope="session")
def server_status() -> dict[str, str | None]:
    return {kind: server_reason(kind) for kind in SERVERS}


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


@pytest.fixture(autouse=True)
def _sigterm_as_it_was() -> Iterator[None]:
    """Give SIGTERM back its disposition after each test. A test that runs Dagster in
    this process (``execute_in_process``, ``materialize``) leaves SIGTERM mapped to
    SIGINT's handler, which is "ignore" when the suite was started in the background by
    a shell; every process a later test started in this worker then ignored SIGTERM and
    outlived its stop (``oaken analytics`` itself restores it: runner._sigterm_kept)."""
    kept = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, kept)
