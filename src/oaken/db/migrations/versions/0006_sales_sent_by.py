"""sales.sent_by: how each sale entered (an API key's name, replay:<file>, import:<file>)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

Nullable, and NULL for every sale recorded before this revision: nothing recorded how
those came in, and a guessed value would be indistinguishable from a recorded one. The
warehouse shows them as ``(not recorded)``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sales", sa.Column("sent_by", sa.String(255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sales") as batch:
        batch.drop_column("sent_by")
