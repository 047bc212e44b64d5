"""Accounting stage: a balanced double-entry journal entry per sale and per shipment.

Per sale (``sale:<line>``): DR 1100 Accounts Receivable / CR 4000 Sales Revenue for
the sale dollars, and DR 5000 Cost of Goods Sold / CR 1200 Inventory for bottles ×
bottle cost when the cost is known. Per shipment (``ship:<line>``): DR 5100 Freight
Expense / CR 2100 Freight Payable for the shipping cost. The entry id is derived from
the event, so a redelivered event finds its entry and posts nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
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
from oaken.db.writes import Binder, insert_values, select_by_keys
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


ENTRY_COLUMNS = ("entry_id", "entry_date", "source", "invoice_line_id", "memo", "updated_at")
LINE_COLUMNS = ("entry_id", "account_code", "debit", "credit", "updated_at")


def ledger_values(
    ident: str, event: SaleRecorded | ShipmentScheduled, bind: Binder
) -> tuple[tuple, list[tuple]]:
    """The ``journal_entries`` row of an event (in :data:`ENTRY_COLUMNS` order) and its
    ``journal_lines`` rows (in :data:`LINE_COLUMNS` order); ``ident`` is its entry id."""
    line_id, now, money = event.invoice_line_id, bind.now, bind.money
    if isinstance(event, SaleRecorded):
        source, day, memo, posting = "sale", event.sale_date, "sale", sale_lines(event)
    else:
        source, day, memo, posting = "shipment", event.ship_date, "freight", shipment_lines(event)
    entry = (ident, bind.day(day), source, line_id, f"{memo} {line_id}", now)
    return entry, [(ident, account, money(debit), money(credit), now)
                   for account, debit, credit in posting]


def post_entries(
    connection: Connection, events: Sequence[SaleRecorded | ShipmentScheduled]
) -> tuple[int, int]:
    """Post the entries not yet in the ledger. Returns (posted, absorbed)."""
    wanted = {entry_id(event): event for event in events}
    existing = select_by_keys(connection, models.journal_entries, "entry_id", list(wanted))
    bind = Binder.of(connection)
    entries, lines = [], []
    for ident, event in wanted.items():
        if ident not in existing:
            entry, posting = ledger_values(ident, event, bind)
            entries.append(entry)
            lines.extend(posting)
    insert_values(connection, models.journal_entries, ENTRY_COLUMNS, entries)
    insert_values(connection, models.journal_lines, LINE_COLUMNS, lines)
    return len(entries), len(events) - len(entries)
