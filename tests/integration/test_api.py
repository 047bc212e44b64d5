"""The ingest API against the embedded broker (docs/reference.md, "HTTP API")."""

from __future__ import annotations

import orjson
import pytest
from fastapi.testclient import TestClient

from oaken.api.app import create_app
from oaken.bus.topics import Topics
from tests.support.factory import sale
from tests.support.pipeline import make_settings, read_topic

#: the client address of a request from the API's own host (TestClient's default is a name)
LOOPBACK = ("127.0.0.1", 50000)


@pytest.fixture
def api_settings(sqlite_url, broker, tmp_path):
    return make_settings(sqlite_url, broker, tmp_path)


@pytest.fixture
def client(api_settings):
    with TestClient(create_app(api_settings), client=LOOPBACK) as test_client:
        yield test_client


def test_an_object_an_array_and_ndjson_are_accepted_and_acknowledged(client, api_settings):
    assert client.post("/v1/sales", json=sale(1)).json() == {"accepted": 1, "rejected": []}
    response = client.post("/v1/sales", json=[sale(2), sale(3)])
    assert response.status_code == 202 and response.json()["accepted"] == 2
    body = b"\n".join(orjson.dumps(sale(n)) for n in range(4, 9)) + b"\n"
    response = client.post("/v1/sales", content=body,
                           headers={"content-type": "application/x-ndjson"})
    assert response.status_code == 202 and response.json()["accepted"] == 5
    messages = read_topic(api_settings, Topics(api_settings.topic_prefix).sales_raw)
    assert sorted(orjson.loads(m.value())["Invoice"] for m in messages) == sorted(
        sale(n)["Invoice"] for n in range(1, 9))
    assert {m.key() for m in messages} == {str(sale(n)["StoreNumber"]).encode()
                                           for n in range(1, 9)}
    # no key configured: a loopback client sends as `local`
    assert {tuple(m.headers() or ()) for m in messages} == {(("sent_by", b"local"),)}


def test_invalid_records_are_listed_by_index_with_field_errors(client) -> None:
    response = client.post("/v1/sales", json=[sale(1), {**sale(2), "BottlesSold": 0}, {}])
    assert response.status_code == 202
    body = response.json()
    assert body["accepted"] == 1
    assert body["rejected"][0] == {"index": 1, "errors": ["bottles_sold: must be positive, got 0"]}
    assert body["rejected"][1]["index"] == 2
    assert "invoice_line_id: required" in body["rejected"][1]["errors"]


def test_a_record_too_big_for_the_broker_is_rejected_by_index(client) -> None:
    response = client.post("/v1/sales", json=[sale(1), {**sale(2), "Note": "x" * 200_000}])
    assert response.status_code == 202 and response.json()["accepted"] == 1
    [rejected] = response.json()["rejected"]
    assert rejected["index"] == 1
    assert rejected["errors"] == [
        f"record: {len(orjson.dumps({**sale(2), 'Note': 'x' * 200_000})):,} bytes, "
        "more than 102,400"]


def test_all_invalid_is_422_malformed_is_400_and_too_big_is_413(client) -> None:
    response = client.post("/v1/sales", json=[{"Invoice": "A"}])
    assert response.status_code == 422 and response.json()["accepted"] == 0
    assert client.post("/v1/sales", content=b"{nope").status_code == 400
    assert client.post("/v1/sales", content=b"42").status_code == 400
    assert client.post("/v1/sales", content=b"x" * (10 * 1024 * 1024 + 1)).status_code == 413


def test_bearer_token_is_required_when_configured(sqlite_url, broker, tmp_path) -> None:
    settings = make_settings(sqlite_url, broker, tmp_path, api_token="s3cret")
    with TestClient(create_app(settings), client=LOOPBACK) as client:
        assert client.post("/v1/sales", json=sale(1)).status_code == 401
        wrong = {"authorization": "Bearer nope"}
        assert client.post("/v1/sales", json=sale(1), headers=wrong).status_code == 401
        right = {"authorization": "Bearer s3cret"}
        assert client.post("/v1/sales", json=sale(1), headers=right).status_code == 202
    [message] = read_topic(settings, Topics(settings.topic_prefix).sales_raw)
    assert message.headers() == [("sent_by", b"token")]


def test_health_and_metrics(client, sqlite_url, tmp_path) -> None:
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "broker": "ok", "database": "ok"}
    client.post("/v1/sales", json=[sale(1), {"Invoice": "bad"}])
    metrics = client.get("/metrics").text
    assert "oaken_sales_accepted_total 1.0" in metrics
    assert "oaken_sales_rejected_total 1.0" in metrics
    assert "oaken_produce_latency_seconds_count 1.0" in metrics


def test_health_is_503_when_the_broker_is_unreachable(sqlite_url, tmp_path) -> None:
    from oaken.settings import Settings

    settings = Settings(home=tmp_path, database_url=sqlite_url,
                        kafka_bootstrap="127.0.0.1:1")
    with TestClient(create_app(settings), client=LOOPBACK) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "ok"
    assert response.json()["broker"].startswith("unreachable")


def test_a_body_the_inflight_budget_could_never_hold_is_413_not_503(sqlite_url, broker, tmp_path):
    settings = make_settings(sqlite_url, broker, tmp_path, api_max_inflight_mb=1)
    with TestClient(create_app(settings), client=LOOPBACK) as client:
        response = client.post("/v1/sales", content=b"x" * (2 * 1024 * 1024))
    assert response.status_code == 413
    assert response.json()["detail"] == "body larger than OAKEN_API_MAX_INFLIGHT_MB=1"
