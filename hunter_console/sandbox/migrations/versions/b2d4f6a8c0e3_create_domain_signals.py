"""create domain_signals

Revision ID: b2d4f6a8c0e3
Revises: a1c0e5d2b7f1
Create Date: 2024-11-14 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b2d4f6a8c0e3"
down_revision = "a1c0e5d2b7f1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "domain_signals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("domain", sa.String(255), nullable=False, unique=True),
        sa.Column("mx_provider", sa.String(64), nullable=True),
        sa.Column("spf", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("dmarc_policy", sa.String(16), nullable=True),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("domain_signals")
