"""The ADBC readers behind extract/load: exact money, robust SQLite typing, one-line errors.

Run on every engine with an ADBC driver (SQLite, PostgreSQL); MariaDB keeps dlt's
``sql_table`` and is covered by the extract/load tests of test_analytics.py.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pyarrow as pa
import pytest
from sqlalchemy import text

from oaken.db.engine import make_engine
from oaken.el import arrow_tables
from oaken.errors import DatabaseError


@pytest.fixture
def adbc_url(database_url: str) -> str:
    if not arrow_tables.supports(database_url):
        pytest.skip("no ADBC driver for this database: extract/load uses dlt's sql_table")
    return database_url


def _read(url: str, table: str, since: datetime | None = None) -> pa.Table:
    columns = arrow_tables.reflect(url, table)
    batches = list(arrow_tables.read_table(url, columns, cursor="updated_at", since=since))
    return pa.concat_tables(batches) if batches else arrow_tables.arrow_schema(
        columns).empty_table()


def test_money_dates_and_timestamps_arrive_exact_and_typed(adbc_url: str) -> None:
    engine = make_engine(adbc_url)
    stamped = datetime(2026, 3, 4, 5, 6, 7, 890123)
    costs = [Decimal("0.10"), Decimal("45.37"), Decimal("9999999999.99"), None]
    with engine.begin() as connection:
        for number, cost in enumerate(costs, start=1):
            connection.execute(text(
                "insert into products (item_id, item_description, bottle_cost, price_date,"
                " updated_at) values (:id, :name, :cost, :day, :at)"),
                {"id": number, "name": f"item {number}", "cost": cost,
                 "day": date(2024, 1, number), "at": stamped})
    engine.dispose()

    table = _read(adbc_url, "products").sort_by("item_id")
    assert table.schema.field("bottle_cost").type == pa.decimal128(12, 2)
    assert table.schema.field("price_date").type == pa.date32()
    assert table.schema.field("updated_at").type == pa.timestamp("us")
    assert table.schema.field("item_id").type == pa.int64()
    assert not table.schema.field("item_id").nullable
    assert table.column("bottle_cost").to_pylist() == costs
    assert table.column("price_date").to_pylist()[1] == date(2024, 1, 2)
    assert table.column("updated_at").to_pylist() == [stamped] * 4


def test_only_rows_after_the_cursor_are_read(adbc_url: str) -> None:
    engine = make_engine(adbc_url)
    with engine.begin() as connection:
        for vendor, moment in ((1, datetime(2026, 1, 1, 12)), (2, datetime(2026, 1, 2, 12))):
            connection.execute(text(
                "insert into vendors (vendor_id, vendor_name, updated_at) values (:id, :n, :at)"
            ), {"id": vendor, "n": f"vendor {vendor}", "at": moment})
    engine.dispose()

    assert _read(adbc_url, "vendors").num_rows == 2
    later = _read(adbc_url, "vendors", since=datetime(2026, 1, 1, 12))  # open range
    assert later.column("vendor_id").to_pylist() == [2]
    assert _read(adbc_url, "vendors", since=datetime(2026, 1, 2, 12)).num_rows == 0


def test_sqlite_text_null_in_the_whole_first_batch_then_set(sqlite_url, monkeypatch) -> None:
    """The driver would type the all-NULL column as an integer from the first batch."""
    monkeypatch.setattr(arrow_tables, "BATCH_ROWS", 2)
    engine = make_engine(sqlite_url)
    with engine.begin() as connection:
        for store in range(1, 6):
            connection.execute(text(
                "insert into stores (store_id, city, updated_at) values (:id, :city, :at)"
            ), {"id": store, "city": "Ames" if store == 5 else None,
                "at": datetime(2026, 1, 1)})
    engine.dispose()

    table = _read(sqlite_url, "stores").sort_by("store_id")
    assert table.column("city").to_pylist() == [None, None, None, None, "Ames"]
    assert table.schema.field("store_id").type == pa.int64()


def test_a_failed_sqlite_read_is_one_line_naming_the_table(tmp_path, sqlite_url) -> None:
    columns = arrow_tables.reflect(sqlite_url, "sales")
    missing = f"sqlite:///{tmp_path / 'no-such-folder' / 'oaken.db'}"
    with pytest.raises(DatabaseError) as problem:
        list(arrow_tables.read_table(missing, columns, cursor="updated_at", since=None))
    assert "reading sales from" in str(problem.value)
    assert "\n" not in str(problem.value)
