"""billing: the front desk's payment reason kept as a code and its facts, not English words.

The reason is put in words in the reader's language when shown (billing.reasons). The old
English texts are dropped, not parsed: the next reconciliation (every 15 minutes) or Stripe
event writes each subscription's reason again.

Revision ID: 0021_payment_reasons
Revises: 0020_purchase_refunds
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0021_payment_reasons"
down_revision: str | None = "0020_purchase_refunds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_column("billing_subscriptions", "payment_problem")
    op.add_column(
        "billing_subscriptions",
        sa.Column("payment_reason", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("billing_subscriptions", "payment_reason")
    op.add_column(
        "billing_subscriptions",
        sa.Column("payment_problem", sa.String(length=500), nullable=True),
    )
