"""dead letters in the source of truth

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04

Dead letters lived only on the ``sales.dlq`` topic, which the embedded broker keeps in
memory: a broker restart lost them. ``dead_letters`` keeps each one with its bytes, its
reason, where it came from and what became of it (open, replayed, discarded). The
delivery it came from is unique per cluster id, so a batch delivered again does not
write its letters twice. Topic names and cluster ids are case-sensitive: they are keys
(:class:`oaken.db.keys.Key`, compared exactly on every database).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from oaken.db.keys import Key

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
BYTES = sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("payload", BYTES, nullable=False),
        sa.Column("message_key", sa.LargeBinary(), nullable=True),
        sa.Column("source_topic", Key(249), nullable=False),
        sa.Column("source_partition", sa.Integer(), nullable=False),
        sa.Column("source_offset", sa.BigInteger(), nullable=False),
        sa.Column("cluster_id", Key(64), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("sent_by", sa.String(length=255), nullable=True),
        sa.Column("first_seen", TIMESTAMP, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_changed_at", TIMESTAMP, nullable=True),
        sa.Column("status_changed_by", sa.String(length=255), nullable=True),
        sa.Column("discard_reason", sa.String(length=1000), nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'replayed', 'discarded')", name=op.f("ck_dead_letters_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
        sa.UniqueConstraint(
            "cluster_id",
            "source_topic",
            "source_partition",
            "source_offset",
            "stage",
            name="uq_dead_letters_delivery",
        ),
    )
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dead_letters_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_dead_letters_updated_at"), ["updated_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dead_letters_updated_at"))
        batch_op.drop_index(batch_op.f("ix_dead_letters_status"))
    op.drop_table("dead_letters")
