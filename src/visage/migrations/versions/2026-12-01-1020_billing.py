"""billing tables: plan prices, Stripe customers and subscriptions, webhook events, settings.

Revision ID: 0009_billing
Revises: 0006_faces_hnsw
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009_billing"
down_revision: str | None = "0008_event_people"
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
    billing_interval = postgresql.ENUM("month", "year", "one_time", name="billing_interval")
    op.create_table(
        "plan_prices",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("billing_interval", billing_interval, nullable=False),
        sa.Column("trial_days", sa.Integer(), nullable=True),
        sa.Column("setup_fee_cents", sa.Integer(), nullable=True),
        sa.Column("stripe_product_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_price_id", sa.String(length=255), nullable=True),
        *_timestamps(),
        _fk("plan_prices", "plan_id", "plans"),
        _fk("plan_prices", "tenant_id", "tenants"),
        sa.PrimaryKeyConstraint("plan_id", name=op.f("pk_plan_prices")),
    )
    op.create_index(op.f("ix_plan_prices_tenant_id"), "plan_prices", ["tenant_id"])
    op.create_table(
        "billing_customers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("stripe_customer_id", sa.String(length=255), nullable=False),
        *_timestamps(),
        _fk("billing_customers", "tenant_id", "tenants"),
        _fk("billing_customers", "member_id", "members"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_customers")),
        sa.UniqueConstraint(
            "tenant_id", "member_id", name=op.f("uq_billing_customers_tenant_id_member_id")
        ),
        sa.UniqueConstraint(
            "stripe_customer_id", name=op.f("uq_billing_customers_stripe_customer_id")
        ),
    )
    op.create_table(
        "billing_subscriptions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("membership_id", sa.Uuid(), nullable=False),
        sa.Column("stripe_subscription_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("current_period_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("past_due_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("amount_due_cents", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("payment_problem", sa.String(length=500), nullable=True),
        sa.Column(
            "synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        *_timestamps(),
        _fk("billing_subscriptions", "tenant_id", "tenants"),
        _fk("billing_subscriptions", "member_id", "members"),
        _fk("billing_subscriptions", "plan_id", "plans", "RESTRICT"),
        _fk("billing_subscriptions", "membership_id", "memberships"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_subscriptions")),
        sa.UniqueConstraint("membership_id", name=op.f("uq_billing_subscriptions_membership_id")),
        sa.UniqueConstraint(
            "stripe_subscription_id", name=op.f("uq_billing_subscriptions_stripe_subscription_id")
        ),
    )
    op.create_index(
        op.f("ix_billing_subscriptions_tenant_id"), "billing_subscriptions", ["tenant_id"]
    )
    op.create_index(
        op.f("ix_billing_subscriptions_member_id"), "billing_subscriptions", ["member_id"]
    )
    op.create_table(
        "billing_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        *_timestamps(),
        _fk("billing_settings", "tenant_id", "tenants"),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_billing_settings")),
    )
    op.create_table(
        "billing_webhook_events",
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("subscription_id", sa.String(length=255), nullable=True),
        sa.Column("invoice_id", sa.String(length=255), nullable=True),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_billing_webhook_events")),
    )


def downgrade() -> None:
    op.drop_table("billing_webhook_events")
    op.drop_table("billing_settings")
    op.drop_table("billing_subscriptions")
    op.drop_table("billing_customers")
    op.drop_table("plan_prices")
    postgresql.ENUM(name="billing_interval").drop(op.get_bind(), checkfirst=True)
