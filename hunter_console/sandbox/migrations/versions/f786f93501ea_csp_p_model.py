"""CSP P-Model

Revision ID: f786f93501ea
Revises: c3e5a7b9d1f4
Create Date: 2025-01-28 09:00:00

The G20 columns: companies.tenant_size, domain_signals.local_provider,
domain_signals.dmarc_coverage. Additive: v0.9.x keeps working on this schema.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "f786f93501ea"
down_revision = "c3e5a7b9d1f4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("companies") as batch:
        batch.add_column(sa.Column("tenant_size", sa.String(16), nullable=True))
    with op.batch_alter_table("domain_signals") as batch:
        batch.add_column(sa.Column("local_provider", sa.String(64), nullable=True))
        batch.add_column(sa.Column("dmarc_coverage", sa.Float, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("domain_signals") as batch:
        batch.drop_column("dmarc_coverage")
        batch.drop_column("local_provider")
    with op.batch_alter_table("companies") as batch:
        batch.drop_column("tenant_size")
