"""Bulk historical backfill straight into the database (``oaken import``).

The same three stages as the streaming workers, chained in one transaction per
batch, with the same validation and idempotency: importing a file twice changes
nothing, and a line that conflicts with a recorded sale is reported, not written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from oaken.contract import parse_sale
from oaken.errors import ContractError
from oaken.workers.accounting import post_entries
from oaken.workers.dimensions import DimensionCache
from oaken.workers.orders import record_sales
from oaken.workers.shipping import schedule_shipments

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
) -> ImportReport:
    report = ImportReport()
    dimensions = DimensionCache()
    with engine.connect() as connection:
        dimensions.load(connection)
    batch: list[tuple[object, int]] = []

    def flush() -> None:
        if not batch:
            return
        with engine.begin() as connection:
            try:
                orders = record_sales(connection, batch, dimensions, published=True)
                shipping = schedule_shipments(connection, orders.recorded, published=True)
                post_entries(connection, [*orders.recorded, *shipping.scheduled])
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
