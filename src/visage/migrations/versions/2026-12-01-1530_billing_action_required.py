"""billing: the invoice whose payment the bank asks the member to confirm.

Only `invoice.payment_action_required` tells it (the invoice and the subscription don't), so
the subscription keeps that invoice's id until it is paid, voided or superseded; the front
desk's reason derives from it.

Revision ID: 0018_billing_action_required
Revises: 0014_locales
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_billing_action_required"
down_revision: str | None = "0014_locales"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "billing_subscriptions",
        sa.Column("action_required_invoice_id", sa.String(length=255), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("billing_subscriptions", "action_required_invoice_id")
