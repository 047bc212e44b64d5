"""Money in the source of truth: exact in raw SQL on SQLite (integer hundredths), and
``Decimal`` with two places through SQLAlchemy on every database."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import StatementError

from oaken.contract import parse_sale
from oaken.db import models
from oaken.db.engine import make_engine
from oaken.db.writes import Binder, insert_values
from oaken.ingest import import_records
from oaken.sources.generator import iter_sales
from oaken.workers.shipping import shipping_cost
from tests.support.invariants import money_reader

EDGES = [Decimal("0.01"), Decimal("0.1") + Decimal("0.2"), Decimal("0.29"), Decimal("45.37"),
         Decimal("9999999999.99"), Decimal("-9999999999.99"), Decimal("-0.01"),
         Decimal("0.00"), Decimal("5"), Decimal("5.1"), None]


def test_raw_sql_ledger_sums_on_sqlite_are_exact_integers(sqlite_url: str) -> None:
    """After many sales through the real write path, ``sum()`` in plain SQL is an
    integer of hundredths equal to the exact Decimal total (floats drifted off the cent:
    154942.450000001)."""
    records = list(iter_sales(400, seed=5, style="compact"))
    engine = make_engine(sqlite_url)
    assert import_records(engine, records, batch_size=150).imported == 400
    sales = [parse_sale(record) for record in records]
    dollars = sum((s.sale_dollars for s in sales), Decimal("0.00"))
    cost = sum((s.bottle_cost * s.bottles_sold for s in sales if s.bottle_cost is not None),
               Decimal("0.00"))
    freight = sum((shipping_cost(s.sale_dollars) for s in sales), Decimal("0.00"))

    with sqlite3.connect(make_url(sqlite_url).database) as plain:  # no SQLAlchemy at all
        debit, credit = plain.execute(
            "select sum(debit), sum(credit) from journal_lines").fetchone()
        receivable = plain.execute(
            "select sum(debit) from journal_lines where account_code = '1100'").fetchone()[0]
        sold = plain.execute("select sum(sale_dollars) from sales").fetchone()[0]
        kinds = plain.execute(
            "select distinct typeof(bottle_cost), typeof(sale_dollars), typeof(bottle_retail)"
            " from sales union select distinct typeof(debit), typeof(credit), 'integer'"
            " from journal_lines").fetchall()
    assert (type(debit), type(credit)) == (int, int)
    assert debit == credit == int((dollars + cost + freight).scaleb(2))
    assert receivable == sold == int(dollars.scaleb(2))
    assert set(kinds) <= {("integer", "integer", "integer"), ("null", "integer", "null")}

    with engine.connect() as connection:  # and through the models: Decimal, to the cent
        lines = models.journal_lines
        totals = connection.execute(select(
            func.sum(lines.c.debit), func.sum(lines.c.debit) - func.sum(lines.c.credit),
            func.coalesce(func.sum(lines.c.credit).filter(lines.c.account_code == "none"), 0),
        )).one()
    assert tuple(totals) == (dollars + cost + freight, Decimal("0.00"), Decimal("0.00"))
    engine.dispose()


def test_edge_amounts_round_trip_exactly(database_url: str) -> None:
    """Through SQLAlchemy and through the hot path (insert_values with the batch's
    Binder), read back as Decimal with two places; raw SQL reads them exactly too."""
    engine = make_engine(database_url)
    at = datetime(2026, 1, 1)
    with engine.begin() as connection:
        connection.execute(insert(models.products), [
            {"item_id": n, "bottle_cost": amount, "bottle_retail": amount, "updated_at": at}
            for n, amount in enumerate(EDGES)])
        bind = Binder.of(connection)
        insert_values(connection, models.products,
                      ("item_id", "bottle_cost", "bottle_retail", "updated_at"),
                      [(100 + n, bind.money(amount), amount, bind.now)
                       for n, amount in enumerate(EDGES)])
    products = models.products
    with engine.connect() as connection:
        rows = connection.execute(select(products.c.bottle_cost, products.c.bottle_retail)
                                  .order_by(products.c.item_id)).all()
        raw = connection.exec_driver_sql(
            "SELECT bottle_cost, bottle_retail FROM products ORDER BY item_id").all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [(amount, amount) for amount in EDGES * 2]
    assert all(value.as_tuple().exponent == -2 for row in rows for value in row
               if value is not None)
    money = money_reader(engine)
    assert [(money(cost), money(retail)) for cost, retail in raw] == [
        (amount or Decimal("0.00"), amount or Decimal("0.00")) for amount in EDGES * 2]


def test_sqlite_refuses_amounts_it_cannot_store_exactly(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    at = datetime(2026, 1, 1)
    with pytest.raises(StatementError, match="more than two decimal places"), \
            engine.begin() as connection:
        connection.execute(insert(models.products), [
            {"item_id": 1, "bottle_cost": Decimal("1.005"), "updated_at": at}])
    with pytest.raises(ValueError, match="more than two decimal places"), \
            engine.begin() as connection:
        bind = Binder.of(connection)
        insert_values(connection, models.products, ("item_id", "bottle_cost", "updated_at"),
                      [(1, bind.money(Decimal("0.001")), bind.now)])
    with pytest.raises(TypeError, match="multiplied or divided by an int"):
        select(models.sales.c.sale_dollars * Decimal("0.05"))
    engine.dispose()
