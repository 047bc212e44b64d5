"""Accounting stage: a balanced double-entry journal entry per sale and per shipment.

Per sale (``sale:<line>``): DR 1100 Accounts Receivable / CR 4000 Sales Revenue for
the sale dollars, and DR 5000 Cost of Goods Sold / CR 1200 Inventory for bottles ×
bottle cost when the cost is known. Per shipment (``ship:<line>``): DR 5100 Freight
Expense / CR 2100 Freight Payable for the shipping cost. The entry id is derived from
the event, so a redelivered event finds its entry and posts nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Connection

from oaken.db import models
from oaken.db.reference import (
    COGS,
    FREIGHT_EXPENSE,
    FREIGHT_PAYABLE,
    INVENTORY,
    RECEIVABLE,
    REVENUE,
)
from oaken.db.writes import insert_rows, select_by_keys
from oaken.workers.events import SaleRecorded, ShipmentScheduled

ZERO = Decimal("0.00")
Line = tuple[str, Decimal, Decimal]  # account, debit, credit


def sale_lines(sale: SaleRecorded) -> list[Line]:
    lines = [(RECEIVABLE, sale.sale_dollars, ZERO), (REVENUE, ZERO, sale.sale_dollars)]
    if sale.bottle_cost is not None:
        cost = sale.bottle_cost * sale.bottles_sold
        lines += [(COGS, cost, ZERO), (INVENTORY, ZERO, cost)]
    return lines


def shipment_lines(shipment: ShipmentScheduled) -> list[Line]:
    return [(FREIGHT_EXPENSE, shipment.shipping_cost, ZERO),
            (FREIGHT_PAYABLE, ZERO, shipment.shipping_cost)]


def entry_id(event: SaleRecorded | ShipmentScheduled) -> str:
    prefix = "sale" if isinstance(event, SaleRecorded) else "ship"
    return f"{prefix}:{event.invoice_line_id}"


def post_entries(
    connection: Connection, events: Sequence[SaleRecorded | ShipmentScheduled]
) -> tuple[int, int]:
    """Post the entries not yet in the ledger. Returns (posted, absorbed)."""
    wanted = {entry_id(event): event for event in events}
    existing = select_by_keys(connection, models.journal_entries, "entry_id", list(wanted))
    now = datetime.now(UTC).replace(tzinfo=None)
    entries, lines = [], []
    for ident, event in wanted.items():
        if ident in existing:
            continue
        if isinstance(event, SaleRecorded):
            source, day, memo, posting = "sale", event.sale_date, "sale", sale_lines(event)
        else:
            source, day, memo, posting = (
                "shipment", event.ship_date, "freight", shipment_lines(event)
            )
        entries.append(_entry(ident, source, day, event.invoice_line_id, memo, now))
        lines.extend(
            {"entry_id": ident, "account_code": account, "debit": debit, "credit": credit,
             "updated_at": now}
            for account, debit, credit in posting
        )
    insert_rows(connection, models.journal_entries, entries)
    insert_rows(connection, models.journal_lines, lines)
    return len(entries), len(events) - len(entries)


def _entry(ident: str, source: str, day: date, line_id: str, memo: str, now: datetime) -> dict:
    return {"entry_id": ident, "entry_date": day, "source": source,
            "invoice_line_id": line_id, "memo": f"{memo} {line_id}", "updated_at": now}
