"""``POST /v1/sales``, ``GET /healthz``, ``GET /metrics``.

``202`` means durable. With the journal (on by default with the embedded broker,
``OAKEN_JOURNAL``), valid records are written to it before the answer and forwarded to
``sales.raw`` in the background (:mod:`oaken.api.journal`), so the API keeps accepting
while the broker is away. Without it, records are produced to ``sales.raw`` keyed by
store and the answer waits for the broker's acknowledgement (``acks=all``) of every
one. Invalid records are listed in ``rejected`` with the reasons, by their index in
the request.

Overload is answered, not absorbed: past ``OAKEN_API_MAX_INFLIGHT_MB`` of request bodies
in memory, a full journal, or a journal that cannot be written (the disk of
``OAKEN_HOME`` is full), the API answers ``503`` with ``Retry-After``; it answers ``202``
again, by itself, once there is room.

Who may send is decided by :mod:`oaken.api.auth` (API keys, ``OAKEN_API_TOKEN``, or,
with no key at all, loopback clients only); the sender's name travels with every
record as the ``sent_by`` header (:mod:`oaken.provenance`). There is no access log.
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
    Gauge,
    Histogram,
    generate_latest,
)
from sqlalchemy import text

from oaken.api.auth import KeyRing, Refusal, is_loopback
from oaken.api.forwarder import Forwarder
from oaken.api.journal import GroupCommit, Journal
from oaken.bus.config import admin_config, producer_config
from oaken.bus.topics import Topics
from oaken.contract import parse_sale
from oaken.db.engine import make_engine
from oaken.errors import BrokerError, ConfigError, ContractError, JournalFull, JournalUnwritable
from oaken.keys.store import load_keys
from oaken.provenance import headers_for
from oaken.settings import Settings

MAX_BODY = 10 * 1024 * 1024
MAX_RECORD = 100 * 1024  # below Kafka's default 1 MB message limit, far above a real record
ACK_TIMEOUT = 30.0
RETRY_AFTER = {"busy": "1", "journal": "5", "broker": "5", "keys": "2", "disk": "5"}
Record = tuple[bytes, bytes, str | None]  # key, value, sent_by


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.accepted = Counter("oaken_sales_accepted", "Sale records accepted and acknowledged",
                                registry=self.registry)
        self.rejected = Counter("oaken_sales_rejected", "Sale records rejected as invalid",
                                registry=self.registry)
        self.latency = Histogram("oaken_produce_latency_seconds",
                                 "Time until a request's records are durable (in the "
                                 "journal, or acknowledged by the broker)",
                                 registry=self.registry,
                                 buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5))
        self.overloaded = Counter("oaken_requests_overloaded",
                                  "Requests answered 503 because the API or journal was full",
                                  registry=self.registry)
        self.unwritable = Counter("oaken_requests_unwritable",
                                  "Requests answered 503 because the journal could not be "
                                  "written (the disk of OAKEN_HOME is full)",
                                  registry=self.registry)

    def watch_analytics(self, settings: Settings) -> None:
        """Live analytics' freshness, read from its state file at each scrape (NaN before
        live mode has loaded a sale)."""
        from oaken.analytics.live import last_bytes_billed, read_state, summary

        def lag() -> float:
            live = summary(settings)
            value = live["lag_seconds"] if live else None
            return float("nan") if value is None else float(value)

        def runs(field: str) -> float:
            state = read_state(settings)
            return float(getattr(state, field)) if state else 0.0

        Gauge("oaken_analytics_lag_seconds", "Now minus the acceptance time of the newest "
              "sale in the warehouse (live analytics)", registry=self.registry
              ).set_function(lag)
        Gauge("oaken_analytics_runs", "Live analytics runs since oaken up started",
              registry=self.registry).set_function(lambda: runs("runs"))
        Gauge("oaken_analytics_failed_runs", "Failed live analytics runs since oaken up "
              "started", registry=self.registry).set_function(lambda: runs("failed_runs"))
        Gauge("oaken_analytics_last_bytes_billed", "Bytes billed by the dbt jobs of the "
              "last live analytics run (BigQuery; NaN on DuckDB)", registry=self.registry
              ).set_function(lambda: last_bytes_billed(settings))


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

    async def send(self, topic: str, items: list[Record]) -> None:
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
        for key, value, sent_by in items:
            while True:
                try:
                    self.producer.produce(topic, value=value, key=key,
                                          headers=headers_for(sent_by), on_delivery=delivered)
                    break
                except BufferError:
                    await asyncio.sleep(0.01)
        await asyncio.wait_for(done, ACK_TIMEOUT)
        if errors:
            raise BrokerError(f"broker refused {len(errors)} records: {errors[0]}")


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


def _error(status: int, detail: str, *, retry_after: str | None = None) -> JSONResponse:
    headers = {"Retry-After": retry_after} if retry_after else None
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


class InflightBudget:
    """Bytes of request bodies held at once; a request that would exceed it is refused."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self, size: int) -> bool:
        if self.used + size > self.limit:
            return False
        self.used += size
        return True

    def give(self, size: int) -> None:
        self.used -= size


def create_app(settings: Settings) -> FastAPI:
    topics = Topics(settings.topic_prefix)
    metrics = Metrics()
    metrics.watch_analytics(settings)
    budget = InflightBudget(settings.api_max_inflight_mb * 1024 * 1024)
    # a body the in-flight budget could never hold is refused outright, not asked to retry
    largest = min(MAX_BODY, budget.limit)
    too_large = ("body larger than 10 MB" if largest == MAX_BODY else
                 f"body larger than OAKEN_API_MAX_INFLIGHT_MB={settings.api_max_inflight_mb}")
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        state["engine"] = make_engine(settings.database_url)
        token = settings.api_token.get_secret_value() if settings.api_token else None
        state["keys"] = KeyRing(state["engine"], token=token)
        state["keys"].start()
        if settings.journal_enabled:
            journal = Journal(settings.journal_path, max_records=settings.journal_max_records)
            forwarder = Forwarder(settings, journal)
            state.update(journal=journal, forwarder=forwarder,
                         writer=GroupCommit(journal, on_append=forwarder.wake))
            forwarder.start()
        else:
            state["producer"] = SalesProducer(settings)
        state["admin"] = AdminClient(admin_config(settings))
        yield
        if settings.journal_enabled:
            state["writer"].close()
            state["forwarder"].close()
            state["journal"].close()
        else:
            state["producer"].close()
        state["keys"].close()
        state["engine"].dispose()

    app = FastAPI(title="Oaken Spirits ingest API", version="1", lifespan=lifespan)

    async def store(accepted: list[Record]) -> JSONResponse | None:
        """Make ``accepted`` durable; an error response if that cannot be done now."""
        if settings.journal_enabled:
            try:
                await state["writer"].append(accepted)
            except JournalFull as problem:
                metrics.overloaded.inc()
                return _error(503, str(problem), retry_after=RETRY_AFTER["journal"])
            except JournalUnwritable as problem:  # a full disk: nothing was stored
                metrics.unwritable.inc()
                return _error(503, str(problem), retry_after=RETRY_AFTER["disk"])
            return None
        try:
            await state["producer"].send(topics.sales_raw, accepted)
        except (TimeoutError, BrokerError) as problem:
            return _error(503, f"broker did not acknowledge the records: {problem}",
                          retry_after=RETRY_AFTER["broker"])
        return None

    @app.post("/v1/sales", status_code=202)
    async def post_sales(request: Request) -> Response:
        sender = state["keys"].sender(request.headers.get("authorization"),
                                      request.client.host if request.client else None)
        if isinstance(sender, Refusal):
            return _error(sender.status, sender.detail,
                          retry_after=RETRY_AFTER["keys"] if sender.status == 503 else None)
        declared = request.headers.get("content-length")
        size = int(declared) if declared and declared.isdigit() else 0
        if size > largest:
            return _error(413, too_large)
        if not budget.take(size):
            metrics.overloaded.inc()
            return _error(503, "the API is busy: too much work in progress",
                          retry_after=RETRY_AFTER["busy"])
        held = size
        try:
            body = bytearray()
            async for chunk in request.stream():
                body += chunk
                if len(body) > largest:
                    return _error(413, too_large)
                if len(body) > held:  # no or a wrong Content-Length: count as it comes
                    if not budget.take(len(body) - held):
                        metrics.overloaded.inc()
                        return _error(503, "the API is busy: too much work in progress",
                                      retry_after=RETRY_AFTER["busy"])
                    held = len(body)
            return await ingest(bytes(body), request.headers.get("content-type", ""), sender)
        finally:
            budget.give(held)

    async def ingest(body: bytes, content_type: str, sender: str) -> Response:
        records = _records(body, content_type)
        if isinstance(records, JSONResponse):
            return records
        accepted: list[Record] = []
        rejected = []
        for index, record in enumerate(records):
            try:
                sale = parse_sale(record)
            except ContractError as problem:
                rejected.append({"index": index, "errors": problem.errors})
                continue
            value = orjson.dumps(record)
            if len(value) > MAX_RECORD:  # the broker would refuse it for ever
                rejected.append({"index": index, "errors": [
                    f"record: {len(value):,} bytes, more than {MAX_RECORD:,}"]})
                continue
            accepted.append((str(sale.store_id).encode(), value, sender))
        started = time.perf_counter()
        if accepted:
            refused = await store(accepted)
            if refused is not None:
                return refused
            metrics.latency.observe(time.perf_counter() - started)
        metrics.accepted.inc(len(accepted))
        metrics.rejected.inc(len(rejected))
        status = 422 if rejected and not accepted else 202
        return JSONResponse({"accepted": len(accepted), "rejected": rejected}, status_code=status)

    @app.get("/healthz")
    async def healthz() -> Response:
        checks = await run_in_threadpool(_health, state)
        # with the journal, the API takes sales while the broker or the database is away
        needed = ("journal",) if settings.journal_enabled else ("broker", "database")
        ok = all(checks.get(name) == "ok" for name in needed)
        return JSONResponse({"status": "ok" if ok else "unavailable", **checks},
                            status_code=200 if ok else 503)

    @app.get("/metrics")
    async def prometheus() -> Response:
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


def _health(state: dict[str, Any]) -> dict[str, str]:
    checks = {}
    if "journal" in state:
        journal = state["journal"]
        checks["journal"] = ("ok" if journal.size < journal.max_records else "full") if not (
            journal.unwritable) else f"unwritable: {journal.unwritable}"[:200]
        checks["journal_records"] = str(journal.size)
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


def refuse_open_bind(settings: Settings) -> None:
    """Refuse to serve beyond the loopback interface while no key is configured.

    Checked before binding when the database answers; when it does not, the API starts
    and refuses non-loopback clients until it has read the keys (:mod:`oaken.api.auth`).
    """
    if settings.api_token or is_loopback(settings.api_host):
        return
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            keys = load_keys(connection)
    except Exception:  # unknown yet: the API itself refuses remote clients without keys
        return
    finally:
        engine.dispose()
    if not any(not entry.revoked for entry in keys.values()):
        raise ConfigError(
            f"OAKEN_API_HOST={settings.api_host}: no API key is configured, so the API "
            "serves 127.0.0.1 only (create one with `oaken keys create NAME`, or set "
            "OAKEN_API_TOKEN)")


def serve(settings: Settings) -> None:
    import uvicorn

    refuse_open_bind(settings)
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port,
                log_level="warning", access_log=False)
