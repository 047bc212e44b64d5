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
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Connection

from oaken.db import models
from oaken.db.writes import Binder, insert_values, select_by_keys
from oaken.workers.events import SaleRecorded, ShipmentScheduled

MINIMUM_COST = Decimal("5.00")
RATE = Decimal("0.05")
CENT = Decimal("0.01")


def shipping_cost(sale_dollars: Decimal) -> Decimal:
    return max(MINIMUM_COST, (RATE * sale_dollars).quantize(CENT, rounding=ROUND_HALF_UP))


def business_days_to_ship(invoice_line_id: str) -> int:
    digest = hashlib.blake2b(invoice_line_id.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % 5


def _days_to_ship(weekday: int, business_days: int) -> int:
    """Calendar days from a sale on ``weekday`` (Monday 0) to its ship date: to Monday if
    it falls on a weekend, then ``business_days`` more weekdays."""
    days = 0
    while (weekday + days) % 7 >= 5:
        days += 1
    for _ in range(business_days):
        days += 1
        while (weekday + days) % 7 >= 5:
            days += 1
    return days


#: the rule above for every weekday and number of business days (0-4), worked out once:
#: every sale of a bulk import asks for its ship date
_DAYS_TO_SHIP = tuple(
    tuple(timedelta(days=_days_to_ship(weekday, n)) for n in range(5)) for weekday in range(7)
)


def ship_date(invoice_line_id: str, sale_date: date) -> date:
    return sale_date + _DAYS_TO_SHIP[sale_date.weekday()][business_days_to_ship(invoice_line_id)]


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


def insert_shipments(
    connection: Connection, shipments: Sequence[ShipmentScheduled], *, published: bool
) -> None:
    """Insert shipments known to be new (a duplicate is an error)."""
    bind = Binder.of(connection, published=published)
    day, money = bind.day, bind.money
    insert_values(connection, models.shipments, SHIPMENT_COLUMNS, [
        (s.invoice_line_id, day(s.sale_date), day(s.ship_date), money(s.shipping_cost),
         bind.published, bind.now)
        for s in shipments
    ])


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
    insert_shipments(connection, fresh, published=published)
    result.scheduled.extend(fresh)
    return result
