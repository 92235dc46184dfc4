"""Billing request and response bodies."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from visage.access.schemas import PlanCreate, PlanOut, PlanUpdate
from visage.billing.models import BillingInterval
from visage.i18n.context import N_

CURRENCY = r"^[a-zA-Z]{3}$"
MAX_CENTS = 100_000_000


class PriceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    price_cents: int = Field(ge=0, le=MAX_CENTS)
    currency: str = Field(default="eur", pattern=CURRENCY)
    billing_interval: BillingInterval = BillingInterval.MONTH
    trial_days: int | None = Field(default=None, ge=1, le=730)
    setup_fee_cents: int | None = Field(default=None, ge=1, le=MAX_CENTS)

    @model_validator(mode="after")
    def _one_time_is_one_price(self) -> PriceIn:
        if self.billing_interval is BillingInterval.ONE_TIME and (
            self.trial_days or self.setup_fee_cents
        ):
            raise ValueError(N_("a one-time plan has no trial and no setup fee: only its price"))
        return self


class PlanPriceFields(BaseModel):
    """A plan's price terms, on the plan API itself (all optional: an unpriced plan is sold at
    the desk only). On an update, only the fields sent change."""

    price_cents: int | None = Field(default=None, ge=0, le=MAX_CENTS)
    currency: str | None = Field(default=None, pattern=CURRENCY)
    billing_interval: BillingInterval | None = None
    trial_days: int | None = Field(default=None, ge=1, le=730)
    setup_fee_cents: int | None = Field(default=None, ge=1, le=MAX_CENTS)

    def price_terms_sent(self) -> dict[str, object]:
        names = set(PlanPriceFields.model_fields) & self.model_fields_set
        return {name: getattr(self, name) for name in names}


class PricedPlanCreate(PlanCreate, PlanPriceFields):
    pass


class PricedPlanUpdate(PlanUpdate, PlanPriceFields):
    pass


class PricedPlanOut(PlanOut):
    price_cents: int | None = None
    currency: str | None = None
    billing_interval: BillingInterval | None = None
    trial_days: int | None = None
    setup_fee_cents: int | None = None
    stripe_product_id: str | None = None
    stripe_price_id: str | None = None


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
    """The payment to refund: an invoice, or (where a one-time purchase has no invoice, as on
    LocalStripe) the purchase's PaymentIntent."""

    model_config = ConfigDict(extra="forbid")

    invoice_id: str | None = Field(
        default=None, min_length=3, max_length=255, pattern=r"^in_[A-Za-z0-9_]+$"
    )
    payment_intent_id: str | None = Field(
        default=None, min_length=3, max_length=255, pattern=r"^pi_[A-Za-z0-9_]+$"
    )
    amount_cents: int | None = Field(default=None, ge=1)  # None: the whole payment

    @model_validator(mode="after")
    def _one_payment(self) -> RefundIn:
        if (self.invoice_id is None) == (self.payment_intent_id is None):
            raise ValueError("give either invoice_id or payment_intent_id")
        return self


class RefundOut(BaseModel):
    refund_id: str
    invoice_id: str | None
    payment_intent_id: str
    amount_cents: int


class InvoiceOut(BaseModel):
    id: str
    status: str
    amount_due: int
    amount_paid: int
    amount_refunded: int = 0
    currency: str
    created: datetime | None
    receipt_url: str | None


class PurchaseOut(BaseModel):
    """A one-time plan bought: what was paid, what Stripe said at its last refund is refunded
    of it, and the membership it gave."""

    model_config = ConfigDict(from_attributes=True)

    plan_id: uuid.UUID
    membership_id: uuid.UUID
    stripe_reference: str
    amount_cents: int
    amount_refunded_cents: int
    currency: str
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def refundable_cents(self) -> int:
        return max(self.amount_cents - self.amount_refunded_cents, 0)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def payment_intent_id(self) -> str | None:
        """What the desk refunds this purchase by where no invoice paid it (LocalStripe's
        PaymentIntents); one paid by an invoice is refunded on that invoice."""
        return self.stripe_reference if self.stripe_reference.startswith("pi_") else None


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
    purchases: list[PurchaseOut] = []


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
