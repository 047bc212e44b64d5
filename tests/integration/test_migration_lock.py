"""Many copies started at once on an empty database: each runs the migrations, one at
a time under a database lock, and every copy comes up."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from oaken.db.engine import make_engine
from oaken.db.models import Base
from oaken.db.reference import ACCOUNTS
from tests.support.databases import ENGINES, fresh_database

COPIES = 4

# imports first, then waits for the start file: the copies migrate at the same moment
MIGRATE = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from oaken.db.migrate import migrate
    ready, go = Path(sys.argv[2]), Path(sys.argv[3])
    ready.touch()
    while not go.exists():
        time.sleep(0.001)
    migrate(sys.argv[1])
""")


@pytest.fixture(params=[e for e in ("sqlite", "mariadb", "postgresql") if e in ENGINES])
def empty_database_url(request, tmp_path, server_status) -> Iterator[str]:
    """A fresh database on each engine, with no table at all."""
    yield from fresh_database(request.param, tmp_path, server_status)


def start_together(tmp_path: Path, commands: list[list[str]]) -> list[subprocess.Popen[bytes]]:
    go = tmp_path / "go"
    processes = []
    for number, command in enumerate(commands):
        with open(tmp_path / f"copy-{number}.log", "wb") as log:
            processes.append(
                subprocess.Popen(
                    [*command, str(tmp_path / f"ready-{number}"), str(go)],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready-{n}").exists() for n in range(len(commands))):
        assert time.monotonic() < deadline, "the copies did not start"
        assert all(p.poll() is None for p in processes), "a copy died before the start"
        time.sleep(0.05)
    go.touch()
    return processes


def test_copies_started_at_once_on_an_empty_database_all_migrate(
    empty_database_url: str, tmp_path: Path
) -> None:
    processes = start_together(
        tmp_path, [[sys.executable, "-c", MIGRATE, empty_database_url]] * COPIES
    )
    try:
        codes = [process.wait(timeout=180) for process in processes]
    finally:
        for process in processes:  # by pid, also when the test fails
            if process.poll() is None:
                process.kill()
                process.wait()
    logs = {n: (tmp_path / f"copy-{n}.log").read_text()[-800:] for n in range(COPIES)}
    assert codes == [0] * COPIES, logs
    engine = make_engine(empty_database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            accounts = connection.execute(text("SELECT count(*) FROM accounts")).scalar_one()
            versions = connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one()
    finally:
        engine.dispose()
    assert accounts == len(ACCOUNTS)  # seeded once, not once per copy
    assert versions == 1


def test_four_workers_started_together_on_an_empty_database_all_come_up(
    empty_database_url: str, broker: str, tmp_path: Path
) -> None:
    from tests.support.pipeline import make_settings
    from tests.support.workers import worker_env

    env = worker_env(make_settings(empty_database_url, broker, tmp_path))
    processes = []
    for number in range(COPIES):  # `oaken worker` migrates as it starts
        with open(tmp_path / f"worker-{number}.log", "wb") as log:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "oaken", "worker", "orders", "--idle-exit", "3"],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            )
    try:
        codes = [process.wait(timeout=180) for process in processes]
    finally:
        for process in processes:  # by pid, also when the test fails
            if process.poll() is None:
                process.kill()
                process.wait()
    logs = {n: (tmp_path / f"worker-{n}.log").read_text()[-800:] for n in range(COPIES)}
    assert codes == [0] * COPIES, logs
    assert all("orders: processed 0" in log for log in logs.values()), logs
    engine = make_engine(empty_database_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM accounts")).scalar_one() == len(
                ACCOUNTS
            )
    finally:
        engine.dispose()
