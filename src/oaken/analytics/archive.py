"""Data retention (``oaken archive --older-than 2y [--apply]``).

Operational sale lines older than the cut-off are removed from the database, but only
those the warehouse verifiably holds: the same ``invoice_line_id`` in ``fct_sales``
with the same ``sale_dollars`` (to the cent) and ``sale_date``. Their shipments go
with them (shipments reference sales). The ledger (``journal_entries`` and
``journal_lines``) is never touched: the books keep every posting forever, and the
warehouse keeps the sale lines for analytics (dlt never deletes what it loaded).

A dry run (the default) changes nothing and reports what would go. Old sales are read
``batch_size`` at a time and each page is checked against the warehouse for its keys
only, then (with ``--apply``) deleted in a transaction of its own: the memory used does
not grow with the number of old sales.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, delete, select

from oaken.db import models
from oaken.db.engine import make_engine, wait_for_database
from oaken.db.writes import chunks
from oaken.errors import ArchiveError
from oaken.money import to_cents
from oaken.settings import Settings
from oaken.warehouse.adapter import Warehouse
from oaken.warehouse.config import warehouse_config

_AGE = re.compile(r"^\s*(\d+)\s*(y|yr|years?|m|mo|months?|w|weeks?|d|days?)\s*$", re.I)
MAX_EXAMPLES = 10


def parse_age(text: str) -> tuple[int, str]:
    """``"2y"`` → ``(2, "y")``; units y, m (months), w, d."""
    match = _AGE.match(text or "")
    if not match or int(match.group(1)) <= 0:
        raise ArchiveError(
            f"--older-than must be a positive age like 2y, 18m, 6w or 90d, got {text!r}"
        )
    unit = match.group(2).lower()
    unit = "m" if unit.startswith("mo") or unit == "m" else unit[0]
    return int(match.group(1)), unit


def cutoff_date(text: str, *, today: date | None = None) -> date:
    """The first day that is kept: sales dated before it are archived."""
    amount, unit = parse_age(text)
    today = today or datetime.now(UTC).date()
    if unit == "d":
        return today - timedelta(days=amount)
    if unit == "w":
        return today - timedelta(weeks=amount)
    months = amount * 12 if unit == "y" else amount
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    month += 1
    for day in (today.day, 30, 29, 28):  # 29 Feb two years back is 28 Feb
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


@dataclass
class ArchiveReport:
    cutoff: date
    applied: bool
    candidates: int = 0
    verified: int = 0
    verified_dollars: Decimal = Decimal("0.00")
    unverified: int = 0
    deleted_sales: int = 0
    deleted_shipments: int = 0
    unverified_examples: list[str] = field(default_factory=list)


def archive_sales(
    settings: Settings,
    older_than: str,
    *,
    apply: bool = False,
    today: date | None = None,
    batch_size: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> ArchiveReport:
    """Verify, then (with ``apply``) delete sale lines dated before the cut-off."""
    cutoff = cutoff_date(older_than, today=today)
    report = ArchiveReport(cutoff=cutoff, applied=apply)
    config = warehouse_config(settings)
    warehouse = Warehouse(config)
    if not warehouse.has_table("fct_sales"):
        raise ArchiveError(
            f"warehouse {config.describe()} has no fct_sales: run `oaken analytics` before "
            "archiving (nothing is deleted that the warehouse does not hold)"
        )
    engine = make_engine(settings.database_url)
    try:
        wait_for_database(engine, timeout=5)
        with warehouse.session():
            for page in _old_sales(engine, cutoff, batch_size):
                verified = _verify(warehouse, page, cutoff, report)
                if apply and verified:
                    _delete(engine, verified, report)
                if progress:
                    progress(len(page))
    finally:
        engine.dispose()
    return report


def _old_sales(engine: Engine, cutoff: date, size: int) -> Iterator[list[tuple[str, Any, date]]]:
    """The sales dated before ``cutoff``, ``size`` at a time, in key order (keyset
    pagination: each page starts after the last key of the one before, so deleting a
    page does not move the next)."""
    sales = models.sales
    last: str | None = None
    while True:
        query = (select(sales.c.invoice_line_id, sales.c.sale_dollars, sales.c.sale_date)
                 .where(sales.c.sale_date < cutoff)
                 .order_by(sales.c.invoice_line_id).limit(size))
        if last is not None:
            query = query.where(sales.c.invoice_line_id > last)
        with engine.connect() as connection:
            page = [(line_id, dollars, sale_date)
                    for line_id, dollars, sale_date in connection.execute(query).tuples()]
        if not page:
            return
        yield page
        last = page[-1][0]


def _verify(warehouse: Warehouse, page: list[tuple[str, Any, date]], cutoff: date,
            report: ArchiveReport) -> list[str]:
    """The keys of ``page`` that the warehouse holds with the same dollars and date."""
    held = {
        row[0]: (to_cents(row[1]), row[2])
        for row in warehouse.rows(
            "select invoice_line_id, sale_dollars, sale_date "
            f"from {warehouse.table('fct_sales')} where sale_date < $cutoff "
            f"and {warehouse.in_list('invoice_line_id', 'keys')}",
            {"cutoff": cutoff, "keys": [line_id for line_id, _, _ in page]},
        )
    }
    verified = []
    for line_id, dollars, sale_date in page:
        report.candidates += 1
        if held.get(line_id) == (to_cents(dollars), sale_date):
            verified.append(line_id)
            report.verified += 1
            report.verified_dollars += to_cents(dollars)
        else:
            report.unverified += 1
            if len(report.unverified_examples) < MAX_EXAMPLES:
                report.unverified_examples.append(line_id)
    return verified


def _delete(engine: Engine, keys: list[str], report: ArchiveReport) -> None:
    """Delete the sales ``keys`` and their shipments, in one transaction."""
    sales, shipments = models.sales, models.shipments
    with engine.begin() as connection:
        for part in chunks(keys):
            report.deleted_shipments += connection.execute(
                delete(shipments).where(shipments.c.invoice_line_id.in_(part))).rowcount
            report.deleted_sales += connection.execute(
                delete(sales).where(sales.c.invoice_line_id.in_(part))).rowcount
