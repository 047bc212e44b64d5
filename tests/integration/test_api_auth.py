"""Who may send, in one API process (oaken.api.auth): keyless only from loopback, a key
required once one exists, 503 until the keys could be read, no database statement per
request, last use written in the background."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from oaken.api.app import create_app
from oaken.api.auth import KeyRing, Refusal
from oaken.db.engine import make_engine
from oaken.keys.store import create_key, list_keys, revoke
from tests.support.factory import sale
from tests.support.pipeline import make_settings

LOOPBACK = ("127.0.0.1", 50000)
REMOTE = ("192.0.2.7", 50000)


@pytest.fixture
def api_settings(sqlite_url, broker, tmp_path):
    return make_settings(sqlite_url, broker, tmp_path)


def test_without_keys_only_loopback_clients_may_send(api_settings) -> None:
    app = create_app(api_settings)
    with TestClient(app, client=REMOTE) as remote:
        response = remote.post("/v1/sales", json=sale(1))
        assert response.status_code == 401
        assert "no API key is configured" in response.json()["detail"]
    with TestClient(app, client=LOOPBACK) as local:
        assert local.post("/v1/sales", json=sale(1)).status_code == 202
    with TestClient(app, client=("::1", 50000)) as local6:
        assert local6.post("/v1/sales", json=sale(2)).status_code == 202


def test_once_a_key_exists_every_client_needs_one(api_settings) -> None:
    engine = make_engine(api_settings.database_url)
    created = create_key(engine, "shop")
    with TestClient(create_app(api_settings), client=LOOPBACK) as client:
        assert client.post("/v1/sales", json=sale(1)).status_code == 401
        for bad in ("Bearer oak_wrong", "Basic abc", "Bearer", created.key):
            assert (
                client.post("/v1/sales", json=sale(1), headers={"authorization": bad}).status_code
                == 401
            ), bad
        right = {"authorization": f"Bearer {created.key}"}
        assert client.post("/v1/sales", json=sale(1), headers=right).status_code == 202
    # every key revoked: back to keyless, loopback only
    revoke(engine, "shop")
    with TestClient(create_app(api_settings), client=LOOPBACK) as client:
        assert client.post("/v1/sales", json=sale(2)).status_code == 202
        right = {"authorization": f"Bearer {created.key}"}
        response = client.post("/v1/sales", json=sale(3), headers=right)
        assert response.status_code == 401
        assert response.json() == {"detail": "this API key was revoked"}
    engine.dispose()


def test_requests_cost_no_database_statement_and_last_use_is_written_later(sqlite_url):
    engine = make_engine(sqlite_url)
    created = create_key(engine, "shop")
    ring = KeyRing(engine, token=None)
    assert ring.refresh()
    statements: list[str] = []
    event.listen(
        engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_: statements.append(statement),
    )
    for _ in range(1000):
        assert ring.sender(f"Bearer {created.key}", "198.51.100.1") == "shop"
    assert statements == []
    ring.write_use()
    assert len(statements) == 1  # one UPDATE for the key, for all 1,000 requests
    assert statements[0].startswith("UPDATE api_keys SET last_used_at")
    ring.write_use()
    assert len(statements) == 1  # nothing used since: nothing written
    assert list_keys(engine)[0].last_used_at is not None
    engine.dispose()


def test_before_the_keys_are_read_only_the_token_is_taken(tmp_path) -> None:
    away = make_engine(f"sqlite:///{tmp_path / 'missing' / 'nothing-here.db'}")
    ring = KeyRing(away, token="s3cret")
    assert not ring.refresh()  # no api_keys table: as good as an unreachable database
    assert ring.sender("Bearer s3cret", "198.51.100.1") == "token"
    refused = ring.sender("Bearer oak_other", "198.51.100.1")
    assert refused == Refusal(503, "the API keys could not be read from the database yet")
    assert ring.sender(None, "198.51.100.1") == Refusal(
        401, "an API key is required (Authorization: Bearer <key>)"
    )
    away.dispose()
