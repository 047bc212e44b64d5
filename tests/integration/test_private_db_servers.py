"""The private database servers of tests/support/db_servers.py: kill -9 and restart a
real server; what was committed before the crash is there after it."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from oaken.db.engine import make_engine
from tests.support.db_servers import PrivateServer, port_open


def test_a_killed_server_starts_again_with_its_committed_data(private_server: PrivateServer):
    assert private_server.port not in (3306, 5432)
    engine = make_engine(private_server.create_database("keep"))
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE kept (id INTEGER PRIMARY KEY, note TEXT)"))
            connection.execute(text("INSERT INTO kept VALUES (1, 'before the crash')"))
        first = private_server.pid

        private_server.kill()
        assert private_server.pid is None
        assert not port_open(private_server.port)
        with pytest.raises(OperationalError), engine.connect() as connection:
            connection.execute(text("SELECT 1"))

        private_server.start()
        assert private_server.pid not in (None, first)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT id, note FROM kept")).all() == [
                (1, "before the crash")]
    finally:
        engine.dispose()


def test_a_server_that_cannot_start_shows_its_log(private_server: PrivateServer):
    clash = PrivateServer(private_server.kind)
    clash.port = private_server.port  # taken: the server exits at start
    try:
        with pytest.raises(AssertionError, match=f"{clash.log}:\n(.|\n)*{clash.port}"):
            clash.start()
    finally:
        clash.remove()
    assert private_server.pid is not None  # the first one was not disturbed
