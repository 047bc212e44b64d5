"""The three stages as the Kafka loop sees them: messages in, an :class:`Output` out.

``handle`` runs inside one database transaction and is a pure function of the
messages and the database; the loop does all the Kafka work around it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from confluent_kafka import Message
from sqlalchemy import Connection, Engine, Table

from oaken.bus.topics import Topics
from oaken.contract import Sale, decode_sale
from oaken.db import models
from oaken.errors import ContractError
from oaken.provenance import sender_of
from oaken.workers.accounting import post_entries
from oaken.workers.dimensions import DimensionCache
from oaken.workers.events import SaleRecorded, ShipmentScheduled
from oaken.workers.orders import record_sales
from oaken.workers.shipping import schedule_shipments


@dataclass
class Output:
    """What a batch produced: events to publish, dead letters, rows to flag published."""

    events: list[tuple[str, bytes | None, bytes]] = field(default_factory=list)
    dead: list[tuple[Message, str]] = field(default_factory=list)
    publish_table: Table | None = None
    publish_keys: list[str] = field(default_factory=list)


class Stage(Protocol):
    name: str
    topics: list[str]

    def __init__(self, topics: Topics, engine: Engine) -> None: ...

    @staticmethod
    def topic_names(topics: Topics) -> list[str]: ...

    def handle(self, connection: Connection, messages: Sequence[Message]) -> Output: ...

    def committed(self) -> None: ...

    def rolled_back(self) -> None: ...


def _payload(message: Message) -> bytes:
    value = message.value()
    if not value:
        raise ContractError(["message: empty payload"])
    return value


class OrdersStage:
    """``sales.raw`` → ``sales`` and dimensions → ``sales.recorded``."""

    name = "orders"

    @staticmethod
    def topic_names(topics: Topics) -> list[str]:
        return [topics.sales_raw]

    def __init__(self, topics: Topics, engine: Engine) -> None:
        self.topics = self.topic_names(topics)
        self.out_topic = topics.sales_recorded
        self.dimensions = DimensionCache()
        with engine.connect() as connection:
            self.dimensions.load(connection)

    def handle(self, connection: Connection, messages: Sequence[Message]) -> Output:
        out = Output(publish_table=models.sales)
        valid: list[tuple[Sale, Message]] = []
        for message in messages:
            try:
                valid.append((decode_sale(_payload(message)), message))
            except ContractError as problem:
                out.dead.append((message, str(problem)))
        result = record_sales(connection, valid, self.dimensions,
                              sent_by=lambda message: sender_of(message.headers()))
        out.dead.extend(result.conflicts)
        for event in result.recorded:
            out.events.append((self.out_topic, str(event.store_id).encode(), event.encode()))
            out.publish_keys.append(event.invoice_line_id)
        return out

    def committed(self) -> None:
        self.dimensions.commit()

    def rolled_back(self) -> None:
        self.dimensions.rollback()


class ShippingStage:
    """``sales.recorded`` → ``shipments`` → ``shipments.scheduled``."""

    name = "shipping"

    @staticmethod
    def topic_names(topics: Topics) -> list[str]:
        return [topics.sales_recorded]

    def __init__(self, topics: Topics, engine: Engine) -> None:
        self.topics = self.topic_names(topics)
        self.out_topic = topics.shipments_scheduled

    def handle(self, connection: Connection, messages: Sequence[Message]) -> Output:
        out = Output(publish_table=models.shipments)
        sales = []
        for message in messages:
            try:
                sales.append(SaleRecorded.decode(_payload(message)))
            except ContractError as problem:
                out.dead.append((message, str(problem)))
        result = schedule_shipments(connection, sales)
        for shipment in result.scheduled:
            key = shipment.invoice_line_id.encode()
            out.events.append((self.out_topic, key, shipment.encode()))
            out.publish_keys.append(shipment.invoice_line_id)
        return out

    def committed(self) -> None:
        pass

    def rolled_back(self) -> None:
        pass


class AccountingStage:
    """``sales.recorded`` and ``shipments.scheduled`` → the journal."""

    name = "accounting"

    @staticmethod
    def topic_names(topics: Topics) -> list[str]:
        return [topics.sales_recorded, topics.shipments_scheduled]

    def __init__(self, topics: Topics, engine: Engine) -> None:
        self.sales_topic = topics.sales_recorded
        self.topics = self.topic_names(topics)

    def handle(self, connection: Connection, messages: Sequence[Message]) -> Output:
        out = Output()
        events: list[SaleRecorded | ShipmentScheduled] = []
        for message in messages:
            kind = SaleRecorded if message.topic() == self.sales_topic else ShipmentScheduled
            try:
                events.append(kind.decode(_payload(message)))
            except ContractError as problem:
                out.dead.append((message, str(problem)))
        post_entries(connection, events)
        return out

    def committed(self) -> None:
        pass

    def rolled_back(self) -> None:
        pass


STAGES: dict[str, type[Stage]] = {
    "orders": OrdersStage, "shipping": ShippingStage, "accounting": AccountingStage}


def group_id(prefix: str, stage: str) -> str:
    """The consumer group of a stage: every copy of a worker shares it."""
    return f"{prefix}oaken-{stage}"
