"""Bulk historical backfill straight into the database (``oaken import``).

The same three stages as the streaming workers, chained in one transaction per
batch, with the same validation and idempotency: importing a file twice changes
nothing, and a line that conflicts with a recorded sale is reported, not written.
A crash loses the open batch only, and importing again completes it.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine

from oaken.contract import Sale, parse_sale
from oaken.errors import ContractError
from oaken.workers.accounting import post_entries
from oaken.workers.dimensions import DimensionCache
from oaken.workers.orders import OrdersResult, record_sales
from oaken.workers.shipping import insert_shipments, schedule_shipments, shipment_for

MAX_REPORTED = 20


@dataclass
class ImportReport:
    read: int = 0
    imported: int = 0
    absorbed: int = 0
    invalid: int = 0
    conflicts: int = 0
    problems: list[str] = field(default_factory=list)

    def note(self, line: int, reason: str) -> None:
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(f"record {line}: {reason}")


def import_records(
    engine: Engine,
    records: Iterable[dict[str, object]],
    *,
    batch_size: int = 5000,
    progress: Callable[[int], None] | None = None,
    sent_by: str | None = None,
) -> ImportReport:
    """Import ``records``; each new sale records ``sent_by`` (``import:<file name>``)."""
    report = ImportReport()
    dimensions = DimensionCache()
    with engine.connect() as connection:
        dimensions.load(connection)
    batch: list[tuple[Sale, int]] = []

    def flush() -> None:
        if not batch:
            return
        with engine.begin() as connection:
            try:
                _plan_for_now(connection)
                orders = write_batch(connection, batch, dimensions, sent_by=sent_by)
            except BaseException:
                dimensions.rollback()
                raise
        dimensions.commit()
        report.imported += len(orders.recorded)
        report.absorbed += orders.absorbed
        report.conflicts += len(orders.conflicts)
        for line, reason in orders.conflicts:
            report.note(line, reason)
        if progress:
            progress(len(batch))
        batch.clear()
        gc.collect(1)  # whatever cycles the batch left, now that the batch is gone

    with _collector_paused():
        for number, record in enumerate(records, start=1):
            report.read += 1
            try:
                batch.append((parse_sale(record), number))
            except ContractError as problem:
                report.invalid += 1
                report.note(number, str(problem))
                if progress:
                    progress(1)
                continue
            if len(batch) >= batch_size:
                flush()
        flush()
    return report


def _plan_for_now(connection: Connection) -> None:
    """On PostgreSQL, plan each query of this transaction for the tables as they are.

    psycopg prepares a statement once it has run five times, and PostgreSQL may then
    keep a generic plan made while the import's tables were still empty: the ledger
    lookup went on scanning ``journal_entries`` whole as the import filled it, slower
    with every batch. The inserts go through ``COPY`` and plan nothing.
    """
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No automatic cyclic garbage collection inside.

    A batch is hundreds of thousands of live objects (sales, events, row tuples), and
    the collector, counting allocations, would walk all of them again and again while
    they are built: a noticeable share of the import's time. Nothing here is freed by the
    collector (refcounting frees the batch), and :func:`import_records` collects the
    young generations after each batch, so cycles a library makes cannot pile up.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def write_batch(
    connection: Connection, batch: list[tuple[Sale, int]], dimensions: DimensionCache,
    *, sent_by: str | None = None,
) -> OrdersResult[int]:
    """The three stages for one batch, inside the caller's transaction, published (no
    worker waits for these events).

    The workers' own functions, with one shortcut: a sale this batch inserted has no
    shipment yet (shipments reference sales), so only the shipments of redelivered
    sales are looked up. Ledger entries are always looked up: archiving removes old
    sales and their shipments but keeps their entries.
    """
    orders = record_sales(connection, batch, dimensions, published=True,
                          sent_by=lambda _line: sent_by)
    shipments = [shipment_for(sale) for sale in orders.new]
    insert_shipments(connection, shipments, published=True)
    late = schedule_shipments(connection, orders.redelivered, published=True)
    post_entries(connection, [*orders.recorded, *late.scheduled, *shipments])
    return orders
