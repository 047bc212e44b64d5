"""``POST /v1/sales``, ``GET /healthz``, ``GET /metrics``.

Valid records are produced to ``sales.raw`` keyed by store, and the response waits
for the broker's acknowledgement of every one of them; invalid records are listed
in ``rejected`` with the reasons, by their index in the request.
"""

from __future__ import annotations

import asyncio
import threading
import time
from contextlib import asynccontextmanager
from typing import Any

import orjson
from confluent_kafka import KafkaError, Message, Producer
from confluent_kafka.admin import AdminClient
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from sqlalchemy import text

from oaken.bus.config import admin_config, producer_config
from oaken.bus.topics import Topics
from oaken.contract import parse_sale
from oaken.db.engine import make_engine
from oaken.errors import ContractError
from oaken.settings import Settings

MAX_BODY = 10 * 1024 * 1024
ACK_TIMEOUT = 30.0


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.accepted = Counter("oaken_sales_accepted", "Sale records accepted and acknowledged",
                                registry=self.registry)
        self.rejected = Counter("oaken_sales_rejected", "Sale records rejected as invalid",
                                registry=self.registry)
        self.latency = Histogram("oaken_produce_latency_seconds",
                                 "Time from produce to broker acknowledgement per request",
                                 registry=self.registry,
                                 buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5))


class SalesProducer:
    """A producer with a background poll thread that resolves asyncio futures."""

    def __init__(self, settings: Settings) -> None:
        self.producer = Producer(producer_config(settings, **{"linger.ms": 2}))
        self._running = True
        self._thread = threading.Thread(target=self._poll, name="producer-poll", daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while self._running:
            self.producer.poll(0.05)

    def close(self) -> None:
        self._running = False
        self._thread.join()
        self.producer.flush(10)

    async def send(self, topic: str, items: list[tuple[bytes, bytes]]) -> None:
        loop = asyncio.get_running_loop()
        remaining = len(items)
        done: asyncio.Future[None] = loop.create_future()
        errors: list[str] = []

        def delivered(error: KafkaError | None, _message: Message) -> None:
            nonlocal remaining
            if error is not None:
                errors.append(error.str())
            remaining -= 1
            if remaining == 0:
                loop.call_soon_threadsafe(_finish)

        def _finish() -> None:
            if not done.done():
                done.set_result(None)

        if not items:
            return
        for key, value in items:
            while True:
                try:
                    self.producer.produce(topic, value=value, key=key, on_delivery=delivered)
                    break
                except BufferError:
                    await asyncio.sleep(0.01)
        await asyncio.wait_for(done, ACK_TIMEOUT)
        if errors:
            raise RuntimeError(f"broker refused {len(errors)} records: {errors[0]}")


def _records(body: bytes, content_type: str) -> list[Any] | JSONResponse:
    if "ndjson" in content_type or "jsonlines" in content_type:
        records = []
        for number, line in enumerate(body.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append(orjson.loads(line))
            except orjson.JSONDecodeError as problem:
                return _error(400, f"malformed JSON on line {number}: {problem}")
        return records
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as problem:
        return _error(400, f"malformed JSON: {problem}")
    if isinstance(document, dict):
        return [document]
    if isinstance(document, list):
        return document
    return _error(400, "the body must be a JSON object, a JSON array or NDJSON")


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def create_app(settings: Settings) -> FastAPI:
    topics = Topics(settings.topic_prefix)
    metrics = Metrics()
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        state["producer"] = SalesProducer(settings)
        state["engine"] = make_engine(settings.database_url)
        state["admin"] = AdminClient(admin_config(settings))
        yield
        state["producer"].close()
        state["engine"].dispose()

    app = FastAPI(title="Oaken Spirits ingest API", version="1", lifespan=lifespan)

    @app.post("/v1/sales", status_code=202)
    async def post_sales(request: Request) -> Response:
        if settings.api_token:
            expected = f"Bearer {settings.api_token}"
            if request.headers.get("authorization") != expected:
                return _error(401, "missing or wrong bearer token")
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_BODY:
            return _error(413, "body larger than 10 MB")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return _error(413, "body larger than 10 MB")
        records = _records(bytes(body), request.headers.get("content-type", ""))
        if isinstance(records, JSONResponse):
            return records
        accepted: list[tuple[bytes, bytes]] = []
        rejected = []
        for index, record in enumerate(records):
            try:
                sale = parse_sale(record)
            except ContractError as problem:
                rejected.append({"index": index, "errors": problem.errors})
                continue
            accepted.append((str(sale.store_id).encode(), orjson.dumps(record)))
        started = time.perf_counter()
        try:
            await state["producer"].send(topics.sales_raw, accepted)
        except (TimeoutError, RuntimeError) as problem:
            return _error(503, f"broker did not acknowledge the records: {problem}")
        if accepted:
            metrics.latency.observe(time.perf_counter() - started)
        metrics.accepted.inc(len(accepted))
        metrics.rejected.inc(len(rejected))
        status = 422 if rejected and not accepted else 202
        return JSONResponse({"accepted": len(accepted), "rejected": rejected}, status_code=status)

    @app.get("/healthz")
    async def healthz() -> Response:
        checks = await run_in_threadpool(_health, state)
        ok = all(value == "ok" for value in checks.values())
        return JSONResponse({"status": "ok" if ok else "unavailable", **checks},
                            status_code=200 if ok else 503)

    @app.get("/metrics")
    async def prometheus() -> Response:
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


def _health(state: dict[str, Any]) -> dict[str, str]:
    checks = {}
    try:
        state["admin"].list_topics(timeout=2)
        checks["broker"] = "ok"
    except Exception as problem:
        checks["broker"] = f"unreachable: {problem}"[:200]
    try:
        with state["engine"].connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as problem:
        checks["database"] = f"unreachable: {str(problem).splitlines()[0]}"[:200]
    return checks


def serve(settings: Settings) -> None:
    import uvicorn

    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port,
                log_level="warning", access_log=False)
