"""billing: the front desk's payment reason kept as a code and its facts, not English words.

The reason is put in words in the reader's language when shown (billing.reasons). The old
English texts are kept as they were (code "as_written") rather than parsed: the next
reconciliation (every 15 minutes) or Stripe event stores each subscription's code.

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
    op.add_column(
        "billing_subscriptions",
        sa.Column("payment_reason", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    op.execute(
        "UPDATE billing_subscriptions SET payment_reason = "
        "jsonb_build_object('code', 'as_written', 'text', payment_problem) "
        "WHERE payment_problem IS NOT NULL"
    )
    op.drop_column("billing_subscriptions", "payment_problem")


def downgrade() -> None:
    # Codes have no English words in SQL: a downgrade keeps only the texts carried over.
    op.add_column(
        "billing_subscriptions",
        sa.Column("payment_problem", sa.String(length=500), nullable=True),
    )
    op.execute(
        "UPDATE billing_subscriptions SET payment_problem = payment_reason->>'text' "
        "WHERE payment_reason->>'code' = 'as_written'"
    )
    op.drop_column("billing_subscriptions", "payment_reason")
