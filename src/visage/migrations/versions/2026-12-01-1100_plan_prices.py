"""billing: one-time plan purchases, refunded amounts of invoices, the object of each event.

Revision ID: 0015_plan_prices
Revises: 0009_billing
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_plan_prices"
down_revision: str | None = "0009_billing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    ]


def _fk(table: str, column: str, target: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "billing_purchases",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("membership_id", sa.Uuid(), nullable=False),
        sa.Column("stripe_reference", sa.String(length=255), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        *_timestamps(),
        _fk("billing_purchases", "tenant_id", "tenants"),
        _fk("billing_purchases", "member_id", "members"),
        _fk("billing_purchases", "plan_id", "plans", "RESTRICT"),
        _fk("billing_purchases", "membership_id", "memberships"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_purchases")),
        sa.UniqueConstraint("membership_id", name=op.f("uq_billing_purchases_membership_id")),
        sa.UniqueConstraint(
            "stripe_reference", name=op.f("uq_billing_purchases_stripe_reference")
        ),
    )
    op.create_index(op.f("ix_billing_purchases_tenant_id"), "billing_purchases", ["tenant_id"])
    op.create_index(op.f("ix_billing_purchases_member_id"), "billing_purchases", ["member_id"])
    op.create_table(
        "billing_invoice_refunds",
        sa.Column("stripe_invoice_id", sa.String(length=255), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("amount_refunded_cents", sa.Integer(), nullable=False),
        *_timestamps(),
        _fk("billing_invoice_refunds", "tenant_id", "tenants"),
        sa.PrimaryKeyConstraint("stripe_invoice_id", name=op.f("pk_billing_invoice_refunds")),
    )
    op.create_index(
        op.f("ix_billing_invoice_refunds_tenant_id"), "billing_invoice_refunds", ["tenant_id"]
    )
    op.add_column(
        "billing_webhook_events", sa.Column("object_id", sa.String(length=255), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("billing_webhook_events", "object_id")
    op.drop_table("billing_invoice_refunds")
    op.drop_table("billing_purchases")
