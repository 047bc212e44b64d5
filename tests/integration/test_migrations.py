"""Migrations create exactly the models' schema on every engine, and seed reference data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select, text

from oaken.db import models
from oaken.db.engine import make_engine
from oaken.db.migrate import alembic_config, migrate, migration_transaction
from oaken.db.models import Base
from oaken.db.reference import ACCOUNTS, EMPLOYEES, POSITIONS
from tests.support.databases import ENGINES, fresh_database


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_reference_data_is_seeded_once(database_url: str) -> None:
    migrate(database_url)  # a second upgrade is a no-op
    engine = make_engine(database_url)
    with engine.connect() as connection:
        accounts = connection.execute(
            text("SELECT account_code, account_name FROM accounts ORDER BY account_code")).all()
        assert [tuple(row) for row in accounts] == [(code, name) for code, name, _ in ACCOUNTS]
        assert connection.execute(text("SELECT count(*) FROM positions")).scalar_one() == len(
            POSITIONS)
        team = connection.execute(text(
            "SELECT count(*) FROM employees e JOIN positions p "
            "ON p.position_id = e.position_id WHERE p.department = 'Sales'")).scalar_one()
        assert team == len(EMPLOYEES)
    engine.dispose()


# --- 0002: SQLite money as integer hundredths ----------------------------------------

#: (sale_dollars as the old code stored it, the exact amount): text the sqlite3 adapter
#: made, which NUMERIC affinity turned into a float, or an integer for whole amounts
OLD_SALES = [("45.37", "45.37"), ("5.00", "5.00"), ("-12.34", "-12.34"),
             ("9999999999.99", "9999999999.99"), ("0.01", "0.01")]


@pytest.fixture(params=[e for e in ("sqlite", "mariadb", "postgresql") if e in ENGINES])
def url_at_0001(request, tmp_path, server_status) -> Iterator[str]:
    """A fresh database on each engine, migrated to revision 0001 only."""
    for url in fresh_database(request.param, tmp_path, server_status):
        _to_revision(url, "0001")
        yield url


def _to_revision(url: str, revision: str) -> None:
    engine = make_engine(url)
    config = alembic_config(url)
    with engine.connect() as connection, migration_transaction(connection):
        config.attributes["connection"] = connection
        current = MigrationContext.configure(connection).get_current_revision()
        if current is not None and current > revision:
            command.downgrade(config, revision)
        else:
            command.upgrade(config, revision)
    engine.dispose()


def _write_money_the_old_way(url: str) -> None:
    """Rows as revision 0001's code wrote them: on SQLite money bound as text (NUMERIC
    affinity keeps a float) and a ledger amount summed by SQLite in floating point."""
    engine = make_engine(url)
    on_sqlite = engine.dialect.name == "sqlite"

    def old(amount: str) -> object:
        return amount if on_sqlite else Decimal(amount)

    at = datetime(2026, 1, 1)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO stores (store_id, updated_at) VALUES (1, :at)"),
                           {"at": at})
        connection.execute(text(
            "INSERT INTO products (item_id, bottle_cost, bottle_retail, updated_at) "
            "VALUES (1, :cost, :retail, :at)"), {"cost": old("10.10"), "retail": None, "at": at})
        for number, (dollars, _) in enumerate(OLD_SALES):
            line = f"L{number}"
            connection.execute(text(
                "INSERT INTO sales (invoice_line_id, invoice_id, sale_date, store_id, item_id,"
                " bottle_cost, bottle_retail, bottles_sold, sale_dollars, volume_liters,"
                " content_hash, published, updated_at) VALUES (:line, 'I', :day, 1, 1, :cost,"
                " :retail, 1, :dollars, :liters, 'h', :yes, :at)"),
                {"line": line, "day": date(2026, 1, 2), "cost": old("10.10"),
                 "retail": old("0.29"), "dollars": old(dollars),
                 "liters": None if number else old("1.75"), "yes": True, "at": at})
            connection.execute(text(
                "INSERT INTO shipments (invoice_line_id, sale_date, ship_date, shipping_cost,"
                " published, updated_at) VALUES (:line, :day, :day, :cost, :yes, :at)"),
                {"line": line, "day": date(2026, 1, 2), "cost": old("5.10"), "yes": True,
                 "at": at})
        connection.execute(text(
            "INSERT INTO journal_entries (entry_id, entry_date, source, invoice_line_id,"
            " updated_at) VALUES ('sale:L0', :day, 'sale', 'L0', :at)"),
            {"day": date(2026, 1, 2), "at": at})
        # 0.1 + 0.2 and 1.1 * 3 as SQLite computes them: 0.30000000000000004 and
        # 3.3000000000000003 (exact DECIMAL arithmetic on the other databases)
        connection.execute(text(
            "INSERT INTO journal_lines (entry_id, account_code, debit, credit, updated_at) "
            "VALUES ('sale:L0', '1100', 0.1 + 0.2, 0, :at), "
            "('sale:L0', '4000', 0, 0.1 + 0.2, :at), "
            "('sale:L0', '5000', 1.1 * 3, 0, :at), ('sale:L0', '1200', 0, :credit, :at)"),
            {"at": at, "credit": old("3.30")})
        if on_sqlite:  # the problem this migration solves: floats in money columns
            assert connection.execute(text(
                "SELECT typeof(debit), debit FROM journal_lines WHERE account_code = '1100'"
            )).one() == ("real", 0.30000000000000004)
    engine.dispose()


def _money_as_stored(url: str) -> dict[str, list]:
    """Every money column, raw, in a fixed order."""
    engine = make_engine(url)
    with engine.connect() as connection:
        found = {
            "sales": [tuple(row) for row in connection.execute(text(
                "SELECT bottle_cost, bottle_retail, sale_dollars, volume_liters FROM sales "
                "ORDER BY invoice_line_id"))],
            "products": [tuple(row) for row in connection.execute(text(
                "SELECT bottle_cost, bottle_retail FROM products"))],
            "shipments": [row[0] for row in connection.execute(text(
                "SELECT shipping_cost FROM shipments ORDER BY invoice_line_id"))],
            "journal_lines": [tuple(row) for row in connection.execute(text(
                "SELECT debit, credit FROM journal_lines ORDER BY account_code"))],
        }
    engine.dispose()
    return found


def test_upgrade_converts_money_written_the_old_way_exactly(url_at_0001: str) -> None:
    _write_money_the_old_way(url_at_0001)
    migrate(url_at_0001)
    on_sqlite = url_at_0001.startswith("sqlite")

    def expect(amount: str | None) -> object:
        if amount is None:
            return None
        return int(Decimal(amount).scaleb(2)) if on_sqlite else Decimal(amount)

    stored = _money_as_stored(url_at_0001)
    assert stored == {
        "sales": [(expect("10.10"), expect("0.29"), expect(exact),
                   expect("1.75") if number == 0 else None)
                  for number, (_, exact) in enumerate(OLD_SALES)],
        "products": [(expect("10.10"), None)],
        "shipments": [expect("5.10")] * len(OLD_SALES),
        "journal_lines": [(expect("0.30"), expect("0")), (expect("0"), expect("3.30")),
                          (expect("0"), expect("0.30")), (expect("3.30"), expect("0"))],
    }
    if on_sqlite:  # integers, not floats that happen to be whole
        assert all(type(value) is int for row in stored["sales"] for value in row
                   if value is not None)
    engine = make_engine(url_at_0001)
    with engine.connect() as connection:  # through the models: Decimal, two places
        lines = models.journal_lines
        debit, credit = connection.execute(
            select(func.sum(lines.c.debit), func.sum(lines.c.credit))).one()
        dollars = connection.execute(select(models.sales.c.sale_dollars).order_by(
            models.sales.c.invoice_line_id)).scalars().all()
    engine.dispose()
    assert (debit, credit) == (Decimal("3.60"), Decimal("3.60"))
    assert [str(value) for value in dollars] == [exact for _, exact in OLD_SALES]

    # downgrade converts back (to numbers equal to the amounts), and upgrade again is exact
    _to_revision(url_at_0001, "0001")
    back = _money_as_stored(url_at_0001)
    assert [Decimal(str(row[2])).quantize(Decimal("0.01")) for row in back["sales"]] == [
        Decimal(exact) for _, exact in OLD_SALES]
    migrate(url_at_0001)
    assert _money_as_stored(url_at_0001) == stored


def test_a_migrated_sqlite_database_keeps_its_constraints(sqlite_url: str) -> None:
    """The rebuilt tables keep their checks, keys and indexes, and enforcement is on."""
    engine = make_engine(sqlite_url)
    with engine.connect() as connection:
        ddl = connection.execute(text(
            "SELECT sql FROM sqlite_master WHERE name = 'journal_lines'")).scalar_one()
        assert "CHECK (debit >= 0 AND credit >= 0)" in ddl
        assert "CHECK (debit = 0 OR credit = 0)" in ddl
        assert "debit INTEGER NOT NULL" in ddl
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    engine.dispose()


# --- 0005 api_keys, 0006 sales.sent_by -----------------------------------------------


@pytest.fixture(params=[e for e in ("sqlite", "mariadb", "postgresql") if e in ENGINES])
def url_at_0002(request, tmp_path, server_status) -> Iterator[str]:
    for url in fresh_database(request.param, tmp_path, server_status):
        _to_revision(url, "0002")
        yield url


def test_sales_recorded_before_0006_have_no_sender_and_keys_come_and_go(url_at_0002) -> None:
    engine = make_engine(url_at_0002)
    at = datetime(2026, 1, 1)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO stores (store_id, updated_at) VALUES (1, :at)"),
                           {"at": at})
        connection.execute(text("INSERT INTO products (item_id, updated_at) VALUES (1, :at)"),
                           {"at": at})
        connection.execute(text(
            "INSERT INTO sales (invoice_line_id, invoice_id, sale_date, store_id, item_id,"
            " bottles_sold, sale_dollars, content_hash, published, updated_at) VALUES"
            " ('OLD', 'I', :day, 1, 1, 1, 500, 'h', :yes, :at)"),
            {"day": date(2026, 1, 2), "yes": True, "at": at})
    migrate(url_at_0002)
    with engine.connect() as connection:
        assert connection.execute(text(
            "SELECT invoice_line_id, sent_by FROM sales")).all() == [("OLD", None)]
        assert connection.execute(text("SELECT count(*) FROM api_keys")).scalar_one() == 0
    from oaken.keys.store import create_key, list_keys

    created = create_key(engine, "shop")
    assert [key.key_id for key in list_keys(engine)] == [created.info.key_id]
    engine.dispose()
    _to_revision(url_at_0002, "0002")  # down: the column and the table go, the sale stays
    engine = make_engine(url_at_0002)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT invoice_line_id FROM sales")).all() == [("OLD",)]
    schema = inspect(engine)
    assert "sent_by" not in {column["name"] for column in schema.get_columns("sales")}
    assert "api_keys" not in schema.get_table_names()
    engine.dispose()
    migrate(url_at_0002)
