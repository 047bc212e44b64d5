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
from oaken.db.keys import Key, binary_collation
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



# --- 0003: keys compare exactly ------------------------------------------------------

#: account codes distinct byte for byte, but pairwise equal under a case-, accent- or
#: pad-insensitive collation (MariaDB's default utf8mb4_general_ci is all three)
LOOKALIKE_CODES = ["ab", "AB", "ab ", "áb", "ss", "ß"]


def _key_columns() -> set[tuple[str, str]]:
    return {(table.name, column.name) for table in Base.metadata.sorted_tables
            for column in table.columns if isinstance(column.type, Key)}


def _text_collations(url: str) -> tuple[dict[tuple[str, str], str], str]:
    """(table, column) -> collation of every text column of a MariaDB/MySQL database,
    and the server's binary NO PAD collation."""
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT table_name, column_name, collation_name FROM information_schema.columns "
            "WHERE table_schema = DATABASE() AND collation_name IS NOT NULL "
            "AND table_name <> 'alembic_version'")).all()
        binary = binary_collation(connection.dialect)
    engine.dispose()
    return {(table, column): collation for table, column, collation in rows}, binary


def test_the_key_columns_are_the_ids_codes_and_columns_pointing_at_them() -> None:
    assert _key_columns() == {
        ("sales", "invoice_line_id"), ("sales", "invoice_id"),
        ("shipments", "invoice_line_id"), ("accounts", "account_code"),
        ("journal_entries", "entry_id"), ("journal_entries", "invoice_line_id"),
        ("journal_lines", "entry_id"), ("journal_lines", "account_code"),
        ("dead_letters", "source_topic"), ("dead_letters", "cluster_id"),
        ("api_keys", "key_id"), ("api_keys", "name"), ("api_keys", "key_hash"),
    }


def test_keys_compare_exactly_on_every_database(database_url: str) -> None:
    """Codes that differ only in case, accents or a trailing blank are distinct keys,
    and a lookup finds exactly the one asked for, on every engine."""
    engine = make_engine(database_url)
    at = datetime(2026, 1, 1)
    with engine.begin() as connection:
        for code in LOOKALIKE_CODES:
            connection.execute(text(
                "INSERT INTO accounts (account_code, account_name, account_type, updated_at) "
                "VALUES (:code, :code, 'test', :at)"), {"code": code, "at": at})
        connection.execute(text(
            "INSERT INTO journal_entries (entry_id, entry_date, source, invoice_line_id, "
            "updated_at) VALUES (:id, :day, 'sale', :id, :at)"),
            [{"id": entry, "day": date(2026, 1, 2), "at": at} for entry in ("e-1", "E-1")])
        connection.execute(text(
            "INSERT INTO journal_lines (entry_id, account_code, debit, credit, updated_at) "
            "VALUES (:entry, :code, 0, 0, :at)"),
            [{"entry": entry, "code": code, "at": at}
             for entry in ("e-1", "E-1") for code in LOOKALIKE_CODES])
    with engine.connect() as connection:
        for code in LOOKALIKE_CODES:
            found = connection.execute(text(
                "SELECT account_code FROM accounts WHERE account_code = :code"),
                {"code": code}).scalars().all()
            assert found == [code]
        joined = connection.execute(text(
            "SELECT count(*) FROM journal_lines l JOIN accounts a "
            "ON a.account_code = l.account_code JOIN journal_entries e "
            "ON e.entry_id = l.entry_id")).scalar_one()
        assert joined == 2 * len(LOOKALIKE_CODES)
    engine.dispose()
    if database_url.startswith("mysql"):
        collations, binary = _text_collations(database_url)
        keys = {column: collations[column] for column in _key_columns()}
        assert keys == dict.fromkeys(_key_columns(), binary)
        # names and descriptions keep the server default (case-insensitive) collation
        others = {collation for column, collation in collations.items()
                  if column not in keys}
        assert binary not in others and others


@pytest.fixture
def mariadb_url(tmp_path, server_status) -> Iterator[str]:
    if "mariadb" not in ENGINES:
        pytest.skip("OAKEN_TEST_DATABASES leaves out mariadb")
    yield from fresh_database("mariadb", tmp_path, server_status)


def test_models_give_a_new_database_the_collations_of_the_migrations(
    mariadb_url: str, tmp_path, server_status
) -> None:
    engine = make_engine(mariadb_url)
    Base.metadata.create_all(engine)
    engine.dispose()
    for migrated in fresh_database("mariadb", tmp_path, server_status):
        migrate(migrated)
        assert _text_collations(mariadb_url) == _text_collations(migrated)


def test_downgrade_from_0003_restores_the_default_collation(url_at_0001: str) -> None:
    migrate(url_at_0001)
    _to_revision(url_at_0001, "0002")
    if url_at_0001.startswith("mysql"):
        collations, binary = _text_collations(url_at_0001)
        altered = {column for column in _key_columns()  # the others are dropped at 0002
                   if column[0] not in ("dead_letters", "api_keys")}
        assert all(collations[column] != binary for column in altered)
    migrate(url_at_0001)
    test_keys_compare_exactly_on_every_database(url_at_0001)


def test_0003_interrupted_half_way_finishes_when_run_again(mariadb_url: str) -> None:
    """MariaDB commits each ALTER on its own: a run stopped after dropping a foreign key
    and altering one column (but before recording the revision) is run again whole."""
    _to_revision(mariadb_url, "0002")
    engine = make_engine(mariadb_url)
    with engine.begin() as connection:
        connection.execute(text(
            "ALTER TABLE shipments DROP FOREIGN KEY fk_shipments_invoice_line_id_sales"))
        connection.execute(text(
            "ALTER TABLE journal_lines DROP FOREIGN KEY fk_journal_lines_account_code_accounts"))
        connection.execute(text(  # the collation named as 0003 names it on MariaDB
            "ALTER TABLE accounts MODIFY account_code VARCHAR(8) COLLATE utf8mb4_nopad_bin "
            "NOT NULL"))
    engine.dispose()
    migrate(mariadb_url)
    collations, binary = _text_collations(mariadb_url)
    assert {column: collations[column] for column in _key_columns()} == dict.fromkeys(
        _key_columns(), binary)
    engine = make_engine(mariadb_url)
    keys = {table: {key["name"] for key in inspect(engine).get_foreign_keys(table)}
            for table in ("shipments", "journal_lines")}
    engine.dispose()
    assert keys == {
        "shipments": {"fk_shipments_invoice_line_id_sales"},
        "journal_lines": {"fk_journal_lines_entry_id_journal_entries",
                          "fk_journal_lines_account_code_accounts"},
    }
    test_keys_compare_exactly_on_every_database(mariadb_url)


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
