"""Billing request and response bodies."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from visage.billing.models import BillingInterval


class PriceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    price_cents: int = Field(ge=0, le=100_000_000)
    currency: str = Field(default="eur", pattern=r"^[a-zA-Z]{3}$")
    billing_interval: BillingInterval = BillingInterval.MONTH
    trial_days: int | None = Field(default=None, ge=1, le=730)
    setup_fee_cents: int | None = Field(default=None, ge=1, le=100_000_000)


class PriceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    plan_id: uuid.UUID
    price_cents: int
    currency: str
    billing_interval: BillingInterval
    trial_days: int | None
    setup_fee_cents: int | None
    stripe_product_id: str | None
    stripe_price_id: str | None


class SubscribeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan_id: uuid.UUID
    # A Stripe PaymentMethod id (pm_...), e.g. pm_card_visa in test mode.
    payment_method: str = Field(min_length=3, max_length=255, pattern=r"^pm_[A-Za-z0-9_]+$")


class CheckoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan_id: uuid.UUID


class CheckoutOut(BaseModel):
    url: str


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at_period_end: bool = True


class FreezeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resumes_on: date | None = None


class PlanChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan_id: uuid.UUID


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    invoice_id: str = Field(min_length=3, max_length=255, pattern=r"^in_[A-Za-z0-9_]+$")
    amount_cents: int | None = Field(default=None, ge=1)  # None: the whole payment


class RefundOut(BaseModel):
    refund_id: str
    invoice_id: str
    amount_cents: int


class InvoiceOut(BaseModel):
    id: str
    status: str
    amount_due: int
    amount_paid: int
    currency: str
    created: datetime | None
    receipt_url: str | None


class BillingOut(BaseModel):
    status: str  # Stripe's subscription status, or "none"
    plan_id: uuid.UUID | None
    membership_id: uuid.UUID | None
    stripe_subscription_id: str | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    paused_until: datetime | None
    payment_problem: str | None
    invoices: list[InvoiceOut]


class DunningRow(BaseModel):
    member_id: uuid.UUID
    full_name: str
    status: str
    past_due_since: datetime | None
    amount_due_cents: int | None
    currency: str | None
    payment_problem: str | None


class BillingSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grace_days: int = Field(ge=0, le=60)


class BillingSettingsOut(BaseModel):
    grace_days: int
    stripe_mode: str  # localstripe | test | live | not configured
    public_key_set: bool
    secret_key_set: bool
    webhook_secret_set: bool
    webhook_url: str


class SyncOut(BaseModel):
    checked: int
    corrected: int
    adopted: int
