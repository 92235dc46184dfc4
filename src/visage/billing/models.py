"""Billing: plan prices, Stripe customers and subscriptions, received webhook events."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from visage.core.db import Base, IdMixin, TimestampMixin, db_enum, utcnow


class BillingInterval(enum.StrEnum):
    MONTH = "month"
    YEAR = "year"
    ONE_TIME = "one_time"


class PlanPrice(TimestampMixin, Base):
    """What a plan costs, and the Stripe product and price (or LocalStripe plan) selling it."""

    __tablename__ = "plan_prices"

    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    price_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    billing_interval: Mapped[BillingInterval] = mapped_column(
        db_enum(BillingInterval, "billing_interval")
    )
    trial_days: Mapped[int | None] = mapped_column(Integer)
    setup_fee_cents: Mapped[int | None] = mapped_column(Integer)
    stripe_product_id: Mapped[str | None] = mapped_column(String(255))
    stripe_price_id: Mapped[str | None] = mapped_column(String(255))


class BillingCustomer(IdMixin, TimestampMixin, Base):
    """The one Stripe customer of a member."""

    __tablename__ = "billing_customers"
    __table_args__ = (UniqueConstraint("tenant_id", "member_id"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    stripe_customer_id: Mapped[str] = mapped_column(String(255), unique=True)


class SoldMembership:
    """What a Stripe sale (a subscription, a one-time purchase) is of: a tenant's member, the
    plan sold, and the one membership the sale drives."""

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id", ondelete="RESTRICT"))
    membership_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("memberships.id", ondelete="CASCADE"), unique=True
    )


class Subscription(IdMixin, TimestampMixin, SoldMembership, Base):
    """Our copy of a Stripe subscription, and the membership its status drives."""

    __tablename__ = "billing_subscriptions"

    stripe_subscription_id: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(32))
    current_period_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_at_period_end: Mapped[bool] = mapped_column(default=False)
    paused_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    past_due_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    amount_due_cents: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str | None] = mapped_column(String(3))
    # Why the door says OVERDUE, as billing.reasons' code and facts: put in words in the
    # reader's language when shown (Stripe's decline message stays as Stripe gave it).
    payment_reason: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # The open invoice whose payment the bank asks the member to confirm (3-D Secure): only
    # `invoice.payment_action_required` says so, neither the invoice nor the subscription
    # does, so it is kept until that invoice is paid, voided or superseded by a newer one.
    action_required_invoice_id: Mapped[str | None] = mapped_column(String(255))
    synced_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )


class Purchase(IdMixin, TimestampMixin, SoldMembership, Base):
    """A one-time plan bought once: the Stripe payment (an invoice, a Checkout Session, or on
    LocalStripe a PaymentIntent) that paid it and the membership it gave. The unique reference
    grants each payment once."""

    __tablename__ = "billing_purchases"

    stripe_reference: Mapped[str] = mapped_column(String(255), unique=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    # What Stripe's charge says is refunded of the payment, kept at each refund the desk makes
    # and each `charge.refunded` (a refund made in the Dashboard), so a page shows it unasked.
    amount_refunded_cents: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class InvoiceRefund(TimestampMixin, Base):
    """How much of an invoice's payment was refunded, as Stripe's charge says (Stripe's invoice
    list does not carry it)."""

    __tablename__ = "billing_invoice_refunds"

    stripe_invoice_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    amount_refunded_cents: Mapped[int] = mapped_column(Integer)


class BillingSettings(TimestampMixin, Base):
    """A tenant's billing choices; a tenant without a row uses BILLING_GRACE_DAYS."""

    __tablename__ = "billing_settings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    grace_days: Mapped[int] = mapped_column(Integer)


class WebhookEvent(Base):
    """Every Stripe event received, once: the unique id makes a replay a no-op."""

    __tablename__ = "billing_webhook_events"

    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    # What the job re-fetches from Stripe: the event's own copy is never trusted.
    subscription_id: Mapped[str | None] = mapped_column(String(255))
    invoice_id: Mapped[str | None] = mapped_column(String(255))
    # The event's own object (a Checkout Session, a charge), for the kinds that are neither.
    object_id: Mapped[str | None] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
