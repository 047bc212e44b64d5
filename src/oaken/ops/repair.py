"""The reconciler: find what a downstream stage never got, and send it again.

A sale or shipment whose event the broker lost (a restart of the embedded broker
between publish and consume) would wait for ever for its next stage. The database
says which: a sale with no shipment, a sale with no ``sale`` journal entry, a
shipment with no ``shipment`` entry. Once such a gap is older than the grace period
(``OAKEN_REPAIR_GRACE_SECONDS``: long enough for the pipeline to fill it by itself),
the reconciler publishes the row's event again, rebuilt from the row. Every stage is
idempotent on the invoice line, so an event sent twice changes nothing; still, a gap
repaired once is not repaired again until another grace period, and at least three
repair intervals, have passed.

``oaken up`` runs it every ``OAKEN_REPAIR_INTERVAL_SECONDS`` (``oaken repair --every``);
``oaken repair`` runs it once, ``--dry-run`` only counts.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from sqlalchemy import ColumnElement, Connection, Engine, Select, Table, exists, func, select

from oaken.bus.config import producer_config
from oaken.bus.produce import produce
from oaken.bus.topics import Topics
from oaken.db import models
from oaken.errors import BrokerError
from oaken.settings import Settings
from oaken.workers.events import SaleRecorded, ShipmentScheduled

log = logging.getLogger("oaken.repair")
LIMIT = 50_000  # gaps repaired per kind and pass, to bound memory after a long outage

sales, shipments, entries = models.sales, models.shipments, models.journal_entries

#: each kind of gap: the stage that should have filled it, and the rows that show it
GAPS: dict[str, tuple[str, Table, ColumnElement[bool]]] = {
    "sale without shipment": (
        "shipping", sales, ~exists().where(shipments.c.invoice_line_id
                                           == sales.c.invoice_line_id)),
    "sale without ledger entry": (
        "accounting", sales, ~exists().where(entries.c.invoice_line_id
                                             == sales.c.invoice_line_id,
                                             entries.c.source == "sale")),
    "shipment without ledger entry": (
        "accounting", shipments, ~exists().where(entries.c.invoice_line_id
                                                 == shipments.c.invoice_line_id,
                                                 entries.c.source == "shipment")),
}


def utc_now() -> datetime:
    """Naive UTC, as the tables store ``updated_at``."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Waiting:
    """Rows of one kind of gap: how many, and the age of the oldest in seconds."""

    stage: str
    rows: int
    oldest_seconds: float | None

    def as_json(self) -> dict[str, object]:
        return {"stage": self.stage, "rows": self.rows, "oldest_seconds": self.oldest_seconds}


def waiting(connection: Connection, now: datetime | None = None) -> dict[str, Waiting]:
    """Every kind of gap as it stands, however young (for ``oaken status``)."""
    now = now or utc_now()
    found = {}
    for kind, (stage, table, missing) in GAPS.items():
        rows, oldest = connection.execute(
            select(func.count(), func.min(table.c.updated_at)).where(missing)).tuples().one()
        age = None if oldest is None else round((now - oldest).total_seconds(), 1)
        found[kind] = Waiting(stage, rows, age)
    return found


def _older_than(kind: str, cutoff: datetime) -> Select:
    _stage, table, missing = GAPS[kind]
    return select(table).where(missing, table.c.updated_at < cutoff).limit(LIMIT)


def _sale_event(row) -> SaleRecorded:
    return SaleRecorded(
        invoice_line_id=row.invoice_line_id, sale_date=row.sale_date, store_id=row.store_id,
        sale_dollars=row.sale_dollars, bottles_sold=row.bottles_sold,
        bottle_cost=row.bottle_cost,
    )


def _shipment_event(row) -> ShipmentScheduled:
    return ShipmentScheduled(
        invoice_line_id=row.invoice_line_id, sale_date=row.sale_date,
        ship_date=row.ship_date, shipping_cost=row.shipping_cost,
    )


@dataclass
class Repair:
    """One pass: gaps found per kind (older than the grace period), events sent."""

    found: dict[str, int] = field(default_factory=dict)
    sent: int = 0

    @property
    def total(self) -> int:
        return sum(self.found.values())


class Reconciler:
    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.topics = Topics(settings.topic_prefix)
        self.grace = timedelta(seconds=settings.repair_grace_seconds)
        self.again_after = max(settings.repair_grace_seconds,
                               3 * settings.repair_interval_seconds)
        self._producer: Producer | None = None
        self._repaired: dict[tuple[str, str], float] = {}  # (topic, line) → when

    def run_once(self, *, dry_run: bool = False) -> Repair:
        """Find the gaps older than the grace period and, unless ``dry_run``, send their
        events again (each gap at most once per grace period)."""
        cutoff = utc_now() - self.grace
        events: dict[tuple[str, str], tuple[bytes, bytes]] = {}
        repair = Repair()
        with self.engine.connect() as connection:
            for kind in GAPS:
                rows = connection.execute(_older_than(kind, cutoff)).all()
                repair.found[kind] = len(rows)
                for row in rows:
                    event: SaleRecorded | ShipmentScheduled
                    if kind == "shipment without ledger entry":
                        event = _shipment_event(row)
                        topic, key = self.topics.shipments_scheduled, row.invoice_line_id
                    else:  # shipping and accounting both read sales.recorded
                        event = _sale_event(row)
                        topic, key = self.topics.sales_recorded, str(row.store_id)
                    events[(topic, row.invoice_line_id)] = (key.encode(), event.encode())
        if dry_run or not events:
            return repair
        self._forget_old()
        due = {ident: event for ident, event in events.items() if ident not in self._repaired}
        self._send(due)
        now = time.monotonic()
        self._repaired.update(dict.fromkeys(due, now))
        repair.sent = len(due)
        if due:
            log.warning("repaired %s: sent %d events again", ", ".join(
                f"{count} {kind}" for kind, count in repair.found.items() if count), len(due))
        return repair

    def _forget_old(self) -> None:
        horizon = time.monotonic() - self.again_after
        self._repaired = {k: when for k, when in self._repaired.items() if when > horizon}

    def _send(self, events: dict[tuple[str, str], tuple[bytes, bytes]]) -> None:
        if self._producer is None:
            self._producer = Producer(producer_config(self.settings))
        refused: list[str] = []

        def delivered(error: KafkaError | None, _message: Message) -> None:
            if error is not None:
                refused.append(error.str())

        try:
            for (topic, _line), (key, value) in events.items():
                produce(self._producer, topic, value, key=key, on_delivery=delivered)
        except KafkaException as problem:  # e.g. the topics of a restarted broker not back yet
            self._producer.purge()
            raise BrokerError(f"could not send the repair events: {problem.args[0].str()}") \
                from None
        remaining = self._producer.flush(30)
        if remaining or refused:
            self._producer.purge()
            reason = refused[0] if refused else f"{remaining} not acknowledged in 30s"
            raise BrokerError(f"could not send the repair events: {reason}")
