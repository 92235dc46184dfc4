"""billing: what is refunded of each one-time purchase, kept on the purchase.

A purchase paid by an invoice takes what the invoice's refund row says; one whose refund in
full ended its membership (audited) is refunded in full; any other starts at 0, and the next
refund or `charge.refunded` of its charge corrects it (the desk's refund asks Stripe's charge
first, so it never refunds more than is left).

Revision ID: 0020_purchase_refunds
Revises: 0019_gallery_counts
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_purchase_refunds"
down_revision: str | None = "0019_gallery_counts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "billing_purchases",
        sa.Column("amount_refunded_cents", sa.Integer(), nullable=False, server_default="0"),
    )
    op.execute(
        """
        UPDATE billing_purchases AS purchase
        SET amount_refunded_cents = refund.amount_refunded_cents
        FROM billing_invoice_refunds AS refund
        WHERE refund.stripe_invoice_id = purchase.stripe_reference
        """
    )
    op.execute(
        """
        UPDATE billing_purchases
        SET amount_refunded_cents = amount_cents
        WHERE stripe_reference IN (
            SELECT details ->> 'stripe_reference' FROM audit_events
            WHERE action = 'billing.purchase_refunded'
        )
        """
    )


def downgrade() -> None:
    op.drop_column("billing_purchases", "amount_refunded_cents")
