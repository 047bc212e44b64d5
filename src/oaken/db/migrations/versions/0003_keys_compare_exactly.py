"""keys compare exactly

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04

On MariaDB/MySQL every key column, and every column pointing at one, gets a binary,
NO PAD collation (``utf8mb4_nopad_bin`` on MariaDB, ``utf8mb4_0900_bin`` on MySQL
8.0.17+: :func:`oaken.db.keys.binary_collation`), so ``INV-1`` and ``inv-1`` are two
keys there as they are on SQLite and PostgreSQL. MariaDB/MySQL refuse to change a
column that a foreign key joins to a column of another collation, so each such
foreign key is dropped, both of its columns altered, and the key created again. The
tables are rebuilt by the server (time grows with their rows). Going from a
case-insensitive collation to a binary one cannot make two rows collide; the
downgrade can (two keys differing only in case), and then stops on the duplicate.
SQLite and PostgreSQL already compare exactly: nothing happens there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from oaken.db.keys import binary_collation

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

#: table -> (column, length, nullable) of each key column (and column pointing at one)
KEYS: dict[str, tuple[tuple[str, int, bool], ...]] = {
    "sales": (("invoice_line_id", 64, False), ("invoice_id", 64, False)),
    "shipments": (("invoice_line_id", 64, False),),
    "accounts": (("account_code", 8, False),),
    "journal_entries": (("entry_id", 80, False), ("invoice_line_id", 64, False)),
    "journal_lines": (("entry_id", 80, False), ("account_code", 8, False)),
}

#: (name, table, column, referred table, referred column) of the foreign keys between them
FOREIGN_KEYS = (
    ("fk_shipments_invoice_line_id_sales", "shipments", "invoice_line_id",
     "sales", "invoice_line_id"),
    ("fk_journal_lines_entry_id_journal_entries", "journal_lines", "entry_id",
     "journal_entries", "entry_id"),
    ("fk_journal_lines_account_code_accounts", "journal_lines", "account_code",
     "accounts", "account_code"),
)


def upgrade() -> None:
    dialect = op.get_bind().dialect
    if dialect.name not in ("mysql", "mariadb"):
        return
    _alter_keys(binary_collation(dialect))


def downgrade() -> None:
    if op.get_bind().dialect.name not in ("mysql", "mariadb"):
        return
    _alter_keys(None)  # back to the table's default collation


def _alter_keys(collation: str | None) -> None:
    """Each step is one DDL statement, which MariaDB/MySQL commit on their own: a run
    interrupted half-way is run again from the start (a foreign key already dropped is
    not dropped twice; altering a column to the collation it has changes nothing)."""
    inspector = sa.inspect(op.get_bind())
    for name, table, _, _, _ in FOREIGN_KEYS:
        if name in {key["name"] for key in inspector.get_foreign_keys(table)}:
            op.drop_constraint(name, table, type_="foreignkey")
    for table, columns in KEYS.items():
        for column, length, nullable in columns:
            op.alter_column(table, column, type_=mysql.VARCHAR(length, collation=collation),
                            existing_nullable=nullable)
    for name, table, column, referred, referred_column in FOREIGN_KEYS:
        op.create_foreign_key(name, table, referred, [column], [referred_column])
