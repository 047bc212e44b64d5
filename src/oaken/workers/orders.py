"""Orders stage: valid sale messages become rows of ``sales`` (and its dimensions).

``record_sales`` is the whole decision for one batch, inside the caller's
transaction: duplicates inside the batch and against the database are absorbed when
identical and reported as conflicts otherwise; new sales are inserted unpublished and
returned as ``sale.recorded`` events; a known sale whose event was never acknowledged
(the worker died between commit and publish) is returned again so nothing is lost.
Each new sale records its sender (``sent_by``, :mod:`oaken.provenance`); a duplicate
from another sender is absorbed and the first sender kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy import Connection

from oaken.contract import Sale
from oaken.db import models
from oaken.db.writes import Binder, insert_values, select_by_keys
from oaken.workers.dimensions import DimensionCache
from oaken.workers.events import SaleRecorded

Ref = TypeVar("Ref")


@dataclass
class OrdersResult(Generic[Ref]):
    """The events of a batch, apart: ``new`` sales were inserted by this batch (so
    nothing downstream of them exists yet), ``redelivered`` ones were known but their
    event never acknowledged."""

    new: list[SaleRecorded] = field(default_factory=list)
    redelivered: list[SaleRecorded] = field(default_factory=list)
    conflicts: list[tuple[Ref, str]] = field(default_factory=list)
    absorbed: int = 0

    @property
    def recorded(self) -> list[SaleRecorded]:
        """Every ``sale.recorded`` event to publish."""
        return [*self.redelivered, *self.new]


def event_for(sale: Sale) -> SaleRecorded:
    return SaleRecorded(
        invoice_line_id=sale.invoice_line_id,
        sale_date=sale.sale_date,
        store_id=sale.store_id,
        sale_dollars=sale.sale_dollars,
        bottles_sold=sale.bottles_sold,
        bottle_cost=sale.bottle_cost,
    )


SALE_COLUMNS = (
    "invoice_line_id", "invoice_id", "sale_date", "store_id", "item_id", "vendor_id",
    "category_id", "employee_id", "pack", "bottle_volume_ml", "bottle_cost", "bottle_retail",
    "bottles_sold", "sale_dollars", "volume_liters", "state", "content_hash", "published",
    "updated_at", "sent_by",
)


def sale_values(sale: Sale, fingerprint: str, bind: Binder, sent_by: str | None = None) -> tuple:
    """The ``sales`` row of a sale, in :data:`SALE_COLUMNS` order."""
    money = bind.money
    return (
        sale.invoice_line_id, sale.invoice_id, bind.day(sale.sale_date), sale.store_id,
        sale.item_id, sale.vendor_id, sale.category_id, sale.employee_id, sale.pack,
        sale.bottle_volume_ml, money(sale.bottle_cost), money(sale.bottle_retail),
        sale.bottles_sold, money(sale.sale_dollars), money(sale.volume_liters), sale.state,
        fingerprint, bind.published, bind.now, sent_by,
    )


def record_sales(
    connection: Connection,
    sales: Sequence[tuple[Sale, Ref]],
    dimensions: DimensionCache,
    *,
    published: bool = False,
    sent_by: Callable[[Ref], str | None] | None = None,
) -> OrdersResult[Ref]:
    """Write one batch of valid sales; see the module docstring for the rules.
    ``sent_by`` gives the sender of a sale from its ``Ref`` (none: NULL)."""
    result: OrdersResult[Ref] = OrdersResult()
    unique: dict[str, tuple[Sale, str, Ref]] = {}
    for sale, ref in sales:
        fingerprint = sale.content_hash()
        seen = unique.get(sale.invoice_line_id)
        if seen is None:
            unique[sale.invoice_line_id] = (sale, fingerprint, ref)
        elif seen[1] == fingerprint:
            result.absorbed += 1
        else:
            result.conflicts.append((ref, _conflict(sale.invoice_line_id)))
    existing = select_by_keys(
        connection, models.sales, "invoice_line_id", list(unique), "content_hash", "published"
    )
    fresh: list[tuple[Sale, str, str | None]] = []
    for line_id, (sale, fingerprint, ref) in unique.items():
        known = existing.get(line_id)
        if known is None:
            fresh.append((sale, fingerprint, None if sent_by is None else sent_by(ref)))
        elif known[0] != fingerprint:
            result.conflicts.append((ref, _conflict(line_id)))
        else:
            result.absorbed += 1
            if not known[1]:
                result.redelivered.append(event_for(sale))
    dimensions.write(connection, [sale for sale, _, _ in fresh])
    bind = Binder.of(connection, published=published)
    insert_values(connection, models.sales, SALE_COLUMNS, [
        sale_values(sale, fingerprint, bind, sender) for sale, fingerprint, sender in fresh
    ])
    result.new = [event_for(sale) for sale, _, _ in fresh]
    return result


def _conflict(line_id: str) -> str:
    return f"conflict: invoice_line_id {line_id!r} was already recorded with different content"

