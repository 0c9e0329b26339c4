"""sales engine scores

Revision ID: c3e5a7b9d1f4
Revises: b2d4f6a8c0e3
Create Date: 2025-01-10 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c3e5a7b9d1f4"
down_revision = "b2d4f6a8c0e3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("companies") as batch:
        batch.add_column(sa.Column("readiness_score", sa.Integer, nullable=True))
        batch.add_column(sa.Column("segment", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("companies") as batch:
        batch.drop_column("segment")
        batch.drop_column("readiness_score")
