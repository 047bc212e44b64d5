"""The bulk import writes what the worker stages write, completes what they left
half-done, and a crash in a batch loses and doubles nothing."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import Engine, delete, insert, select, text
from sqlalchemy.engine import make_url

import oaken.ingest as ingest
from oaken.contract import parse_sale
from oaken.db import models
from oaken.db.engine import make_engine
from oaken.db.migrate import migrate
from oaken.db.writes import Binder, insert_values, mark_published
from oaken.errors import ContractError
from oaken.ingest import import_records
from oaken.workers.accounting import post_entries
from oaken.workers.dimensions import DimensionCache
from oaken.workers.orders import SALE_COLUMNS, record_sales, sale_values
from oaken.workers.shipping import schedule_shipments
from tests.support.databases import fresh_database
from tests.support.factory import sale

TABLES = [models.stores, models.vendors, models.categories, models.products, models.employees,
          models.sales, models.shipments, models.journal_entries, models.journal_lines]


@pytest.fixture
def reference_url(database_url: str, tmp_path, server_status) -> Iterator[str]:
    """A second fresh, migrated database of the same kind as ``database_url``."""
    kind = make_url(database_url).get_backend_name().replace("mysql", "mariadb")
    folder = tmp_path / "reference"
    folder.mkdir()
    for url in fresh_database(kind, folder, server_status):
        migrate(url)
        yield url


def contents(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table the import writes, ``updated_at`` left out."""
    out = {}
    with engine.connect() as connection:
        for table in TABLES:
            columns = [column for column in table.c if column.name != "updated_at"]
            key = [column for column in table.primary_key.columns]
            out[table.name] = [tuple(row) for row in
                               connection.execute(select(*columns).order_by(*key))]
    return out


def staged(engine: Engine, records: list[dict]) -> None:
    """The stages one after another, each in its own transaction, as the workers chain
    them: every stage looks up everything it writes."""
    dimensions = DimensionCache()
    with engine.connect() as connection:
        dimensions.load(connection)
    batch = []
    for number, record in enumerate(records, start=1):
        try:
            batch.append((parse_sale(record), number))
        except ContractError:  # the import reports these; nothing to write
            continue
    with engine.begin() as connection:
        orders = record_sales(connection, batch, dimensions, published=True)
    dimensions.commit()
    with engine.begin() as connection:
        shipping = schedule_shipments(connection, orders.recorded, published=True)
    with engine.begin() as connection:
        post_entries(connection, [*orders.recorded, *shipping.scheduled])


def half_done(engine: Engine) -> None:
    """Sales 0-39 in the states crashed workers and the archive leave behind."""
    dimensions = DimensionCache()
    parsed = [(parse_sale(sale(n)), n) for n in range(40)]
    lines = [each.invoice_line_id for each, _ in parsed]
    with engine.begin() as connection:
        # 0-9: recorded, the event never acknowledged; 10-19: the same, but shipping and
        # accounting saw the event: shipment scheduled (its event never acknowledged),
        # the sale's entry posted; 20-39 all done; 30-39 then archived
        orders = record_sales(connection, parsed, dimensions)
        recorded = {event.invoice_line_id: event for event in orders.recorded}
        events = [recorded[line] for line in lines]
        shipping = schedule_shipments(connection, events[10:])
        post_entries(connection, [*events[10:], *shipping.scheduled[10:]])
        mark_published(connection, models.sales, "invoice_line_id", lines[20:])
        mark_published(connection, models.shipments, "invoice_line_id", lines[20:])
        connection.execute(delete(models.shipments).where(
            models.shipments.c.invoice_line_id.in_(lines[30:])))
        connection.execute(delete(models.sales).where(
            models.sales.c.invoice_line_id.in_(lines[30:])))
    dimensions.commit()


def records() -> list[dict]:
    """Sales 0-59 with duplicates: identical (absorbed) and different (conflicts), in
    the same batch and against the database, and one invalid record."""
    rows = [sale(n) for n in range(60)]
    return [
        *rows[:45],
        sale(44),                                 # identical, same batch
        sale(45, SaleDollars="1.00"),             # then 45 itself: the first one stays
        *rows[45:],
        sale(3),                                  # identical, known
        sale(25, SaleDollars="9999.99"),          # conflicts with the database
        {**sale(61), "BottlesSold": 0},           # invalid
    ]


def test_import_writes_what_the_stages_write(database_url: str, reference_url: str) -> None:
    engine, reference = make_engine(database_url), make_engine(reference_url)
    report = import_records(engine, records(), batch_size=7)
    staged(reference, records())
    assert contents(engine) == contents(reference)
    assert (report.read, report.imported, report.invalid, report.conflicts) == (65, 60, 1, 2)
    assert report.absorbed == 2
    again = import_records(engine, records(), batch_size=7)
    assert (again.imported, again.absorbed, again.conflicts) == (0, 62, 2)
    assert contents(engine) == contents(reference)


def test_import_completes_what_the_workers_left_half_done(
    database_url: str, reference_url: str
) -> None:
    engine, reference = make_engine(database_url), make_engine(reference_url)
    for each in (engine, reference):
        half_done(each)
    report = import_records(engine, records(), batch_size=7)
    staged(reference, records())
    assert contents(engine) == contents(reference)
    # 0-19 finished (counted as already there too; sale 3 twice, as its row stays
    # unpublished), 30-39 written again without doubling the ledger they kept
    assert (report.imported, report.absorbed, report.conflicts) == (51, 32, 2)
    with engine.connect() as connection:
        counts = [connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
                  for table in ("sales", "shipments", "journal_entries")]
    assert counts == [60, 60, 120]


def test_a_crash_in_a_batch_loses_and_doubles_nothing(
    database_url: str, reference_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, reference = make_engine(database_url), make_engine(reference_url)
    batches = 0

    def crash_in_the_second_batch(*args, **kwargs):
        nonlocal batches
        batches += 1
        if batches == 2:
            raise RuntimeError("killed")
        return post_entries(*args, **kwargs)

    monkeypatch.setattr(ingest, "post_entries", crash_in_the_second_batch)
    with pytest.raises(RuntimeError, match="killed"):
        import_records(engine, records(), batch_size=20)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM shipments")).scalar_one() == 20
        assert connection.execute(text("SELECT COUNT(*) FROM journal_entries")).scalar_one() == 40
    monkeypatch.undo()
    report = import_records(engine, records(), batch_size=20)
    assert report.imported == 40
    staged(reference, records())
    assert contents(engine) == contents(reference)


def test_rows_are_stored_as_sqlalchemy_stores_them(database_url: str) -> None:
    """insert_values (Binder's text on SQLite, COPY on PostgreSQL) stores a row as a
    SQLAlchemy insert of the same Python values does, to the SQLite storage class."""
    engine = make_engine(database_url)
    now = datetime(2026, 5, 9, 8, 30, 1, 250000)
    first, second, third = (parse_sale(sale(1, Invoice=line)) for line in ("L1", "L2", "L3"))
    with engine.begin() as connection:
        DimensionCache().write(connection, [first])
        connection.execute(insert(models.sales), [
            dict(zip(SALE_COLUMNS, sale_values(first, "a" * 32, Binder(now, True, _same, _same)),
                     strict=True)),
        ])
        insert_values(connection, models.sales, SALE_COLUMNS, [
            sale_values(second, "a" * 32, Binder(now, True, _same, _same)),
            sale_values(third, "a" * 32, Binder.of(connection, published=True)),
        ])
    columns = [name for name in SALE_COLUMNS if name not in ("invoice_line_id", "invoice_id")]
    if engine.dialect.name == "sqlite":
        columns += [f"typeof({name})" for name in columns]
    with engine.connect() as connection:
        rows = connection.execute(text(  # column names of ours, no values
            f"SELECT {', '.join(columns)} FROM sales ORDER BY invoice_line_id")).all()
    assert rows[0] == rows[1]
    stamped = [index for index, name in enumerate(columns) if "updated_at" in name]
    assert [v for i, v in enumerate(rows[0]) if i not in stamped] == \
        [v for i, v in enumerate(rows[2]) if i not in stamped]


def _same(value: object) -> object:
    return value


def test_the_import_leaves_the_garbage_collector_as_it_found_it(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    assert gc.isenabled()
    import_records(engine, [sale(n) for n in range(5)])
    assert gc.isenabled()
    gc.disable()
    try:
        import_records(engine, [sale(n) for n in range(5, 10)])
        assert not gc.isenabled()
    finally:
        gc.enable()
