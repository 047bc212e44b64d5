"""api_keys: the ingest API's keys, one application (name) holding at most two

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

Only the SHA-256 of each key is stored (``key_hash``, unique: the API looks keys up by
it); ``key_id`` is a short public id to name one key of an application when rotating.
A revoked key keeps its row with ``revoked_at`` set. Every text column here is a key
(compared exactly, binary collation on MariaDB/MySQL): ``oaken keys revoke shop`` must
not revoke ``Shop``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from oaken.db.keys import Key

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("key_id", Key(16), nullable=False),
        sa.Column("name", Key(64), nullable=False),
        sa.Column("key_hash", Key(64), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("last_used_at", Timestamp, nullable=True),
        sa.Column("revoked_at", Timestamp, nullable=True),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_index(op.f("ix_api_keys_name"), "api_keys", ["name"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_api_keys_name"), table_name="api_keys")
    op.drop_table("api_keys")
