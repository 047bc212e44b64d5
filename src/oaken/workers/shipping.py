"""Shipping stage: every recorded sale gets exactly one shipment.

The rules are deterministic so redelivery always computes the same shipment:
``shipping_cost = max(5.00, round_half_up(5 % × sale_dollars, 2))`` and
``ship_date`` = the sale date (moved to Monday if it falls on a weekend) plus 0–4
business days, the number taken from a hash of the invoice line id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Connection

from oaken.db import models
from oaken.db.writes import insert_values, select_by_keys
from oaken.workers.events import SaleRecorded, ShipmentScheduled

MINIMUM_COST = Decimal("5.00")
RATE = Decimal("0.05")
CENT = Decimal("0.01")


def shipping_cost(sale_dollars: Decimal) -> Decimal:
    return max(MINIMUM_COST, (RATE * sale_dollars).quantize(CENT, rounding=ROUND_HALF_UP))


def business_days_to_ship(invoice_line_id: str) -> int:
    digest = hashlib.blake2b(invoice_line_id.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % 5


def ship_date(invoice_line_id: str, sale_date: date) -> date:
    day = sale_date
    while day.weekday() >= 5:
        day += timedelta(days=1)
    for _ in range(business_days_to_ship(invoice_line_id)):
        day += timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
    return day


def shipment_for(sale: SaleRecorded) -> ShipmentScheduled:
    return ShipmentScheduled(
        invoice_line_id=sale.invoice_line_id,
        sale_date=sale.sale_date,
        ship_date=ship_date(sale.invoice_line_id, sale.sale_date),
        shipping_cost=shipping_cost(sale.sale_dollars),
    )


SHIPMENT_COLUMNS = (
    "invoice_line_id", "sale_date", "ship_date", "shipping_cost", "published", "updated_at",
)


def shipment_values(shipment: ShipmentScheduled, now: datetime, *, published: bool) -> tuple:
    """The ``shipments`` row of a shipment, in :data:`SHIPMENT_COLUMNS` order."""
    return (shipment.invoice_line_id, shipment.sale_date, shipment.ship_date,
            shipment.shipping_cost, published, now)


@dataclass
class ShippingResult:
    scheduled: list[ShipmentScheduled] = field(default_factory=list)
    absorbed: int = 0


def schedule_shipments(
    connection: Connection, sales: Sequence[SaleRecorded], *, published: bool = False
) -> ShippingResult:
    """Insert the shipments not yet scheduled; return the events to publish."""
    result = ShippingResult()
    shipments = {sale.invoice_line_id: shipment_for(sale) for sale in sales}
    existing = select_by_keys(
        connection, models.shipments, "invoice_line_id", list(shipments), "published"
    )
    fresh = []
    for line_id, shipment in shipments.items():
        known = existing.get(line_id)
        if known is None:
            fresh.append(shipment)
        else:
            result.absorbed += 1
            if not known[0]:
                result.scheduled.append(shipment)
    result.absorbed += len(sales) - len(shipments)
    now = datetime.now(UTC).replace(tzinfo=None)
    insert_values(connection, models.shipments, SHIPMENT_COLUMNS, [
        shipment_values(shipment, now, published=published) for shipment in fresh
    ])
    result.scheduled.extend(fresh)
    return result
