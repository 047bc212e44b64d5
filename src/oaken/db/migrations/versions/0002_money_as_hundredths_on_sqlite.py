"""money as integer hundredths on SQLite

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

SQLite kept money under NUMERIC affinity, as binary floating point, so raw SQL sums
drifted off the cent. On SQLite every money column (and ``volume_liters``) becomes an
``INTEGER`` of hundredths: each value ×100, rounded to the nearest integer (a stored
float is within far less than half a hundredth of its two-place amount), then the
table is rebuilt with the column typed ``INTEGER`` (batch mode; ``oaken.db.migrate``
runs migrations with foreign keys off and checks them before committing). MariaDB/MySQL
and PostgreSQL keep their exact ``DECIMAL``/``NUMERIC``: nothing happens there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from oaken.errors import DatabaseError

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

#: table -> (column, precision, nullable) of each two-place fixed-point column
MONEY: dict[str, tuple[tuple[str, int, bool], ...]] = {
    "products": (("bottle_cost", 12, True), ("bottle_retail", 12, True)),
    "sales": (("bottle_cost", 12, True), ("bottle_retail", 12, True),
              ("sale_dollars", 12, False), ("volume_liters", 12, True)),
    "shipments": (("shipping_cost", 12, False),),
    "journal_lines": (("debit", 14, False), ("credit", 14, False)),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, columns in MONEY.items():
        _refuse_non_numbers(table, columns)
        # names are ours (MONEY), not input
        op.execute(f"UPDATE {table} SET " + ", ".join(
            f"{name} = CAST(round({name} * 100) AS INTEGER)" for name, _, _ in columns))
        with op.batch_alter_table(table) as batch:
            for name, precision, nullable in columns:
                batch.alter_column(name, existing_type=sa.Numeric(precision, 2),
                                   type_=sa.Integer(), existing_nullable=nullable)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, columns in MONEY.items():
        with op.batch_alter_table(table) as batch:
            for name, precision, nullable in columns:
                batch.alter_column(name, existing_type=sa.Integer(),
                                   type_=sa.Numeric(precision, 2), existing_nullable=nullable)
        op.execute(f"UPDATE {table} SET " + ", ".join(
            f"{name} = {name} / 100.0" for name, _, _ in columns))


def _refuse_non_numbers(table: str, columns: tuple[tuple[str, int, bool], ...]) -> None:
    """Text or blobs in a money column (raw SQL can put them there) have no exact
    conversion: stop, naming the column, rather than guess."""
    for name, _, _ in columns:
        found: int = op.get_bind().exec_driver_sql(
            f"SELECT count(*) FROM {table} WHERE typeof({name}) NOT IN "
            "('integer', 'real', 'null')").scalar_one()
        if found:
            raise DatabaseError(
                f"{table}.{name} holds {found} value(s) that are not numbers; fix them "
                "(they must be amounts with at most two places) and migrate again")
