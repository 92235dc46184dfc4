"""Stripe's objects as the billing domain reads them: the payload shapes of subscriptions,
invoices, Checkout Sessions, charges and events, across API versions (before and since
2025-03-31 "basil") and LocalStripe. Part of the gateway: nothing else parses Stripe's JSON.

References: https://docs.stripe.com/api/subscriptions/object, /api/invoices/object,
/api/checkout/sessions/object, /api/charges/object, /api/events/object,
https://docs.stripe.com/changelog/basil.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


def when(timestamp: Any) -> datetime | None:
    return datetime.fromtimestamp(int(timestamp), UTC) if timestamp else None


def id_of(value: Any) -> str | None:
    """An id, whether Stripe sent the object expanded or not."""
    if isinstance(value, Mapping):
        return str(value["id"])
    return str(value) if value else None


@dataclass(frozen=True)
class PriceTerms:
    name: str
    amount_cents: int
    currency: str
    interval: str  # month | year | one_time

    @property
    def sold_as(self) -> tuple[int, str, str]:
        """What a Stripe price fixes: another of these needs another price."""
        return (self.amount_cents, self.currency, self.interval)


@dataclass(frozen=True)
class StripeSubscription:
    id: str
    customer_id: str
    status: str
    current_period_end: datetime | None
    cancel_at_period_end: bool
    paused: bool  # collection paused (a freeze) or status `paused`
    resumes_at: datetime | None
    latest_invoice_id: str | None
    metadata: Mapping[str, str]
    trial_end: datetime | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> StripeSubscription:
        # Since API version 2025-03-31 the period lives on the items.
        items = (data.get("items") or {}).get("data") or [{}]
        period_end = data.get("current_period_end") or items[0].get("current_period_end")
        pause = data.get("pause_collection") or {}
        return cls(
            id=data["id"],
            customer_id=str(id_of(data.get("customer"))),
            status=data["status"],
            current_period_end=when(period_end),
            cancel_at_period_end=bool(data.get("cancel_at_period_end")),
            paused=bool(pause) or data["status"] == "paused",
            resumes_at=when(pause.get("resumes_at")),
            latest_invoice_id=id_of(data.get("latest_invoice")),
            metadata=dict(data.get("metadata") or {}),
            trial_end=when(data.get("trial_end")),
        )


@dataclass(frozen=True)
class StripeInvoice:
    id: str
    customer_id: str | None
    subscription_id: str | None
    status: str
    amount_due: int
    amount_paid: int
    currency: str
    created: datetime | None
    receipt_url: str | None
    payment_intent_id: str | None
    failure_message: str | None
    metadata: Mapping[str, str]

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> StripeInvoice:
        parent = (data.get("parent") or {}).get("subscription_details") or {}
        charge = data.get("charge")
        failure = charge.get("failure_message") if isinstance(charge, Mapping) else None
        return cls(
            id=data["id"],
            customer_id=id_of(data.get("customer")),
            subscription_id=id_of(data.get("subscription") or parent.get("subscription")),
            status=data["status"],
            amount_due=int(data.get("amount_due") or 0),
            amount_paid=int(data.get("amount_paid") or 0),
            currency=str(data.get("currency") or ""),
            created=when(data.get("created") or data.get("date")),
            receipt_url=data.get("hosted_invoice_url"),
            payment_intent_id=id_of(data.get("payment_intent")),
            failure_message=failure,
            metadata=dict(data.get("metadata") or {}),
        )


@dataclass(frozen=True)
class StripeCheckout:
    id: str
    mode: str  # subscription | payment
    paid: bool
    subscription_id: str | None
    customer_id: str | None
    amount_total: int
    currency: str
    metadata: Mapping[str, str]

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> StripeCheckout:
        return cls(
            id=data["id"],
            mode=str(data.get("mode") or "subscription"),
            paid=data.get("payment_status") == "paid",
            subscription_id=id_of(data.get("subscription")),
            customer_id=id_of(data.get("customer")),
            amount_total=int(data.get("amount_total") or 0),
            currency=str(data.get("currency") or ""),
            metadata=dict(data.get("metadata") or {}),
        )


@dataclass(frozen=True)
class OneTimeCharge:
    """A one-time payment made: the invoice (or, on LocalStripe, PaymentIntent) that paid."""

    reference: str
    amount_paid: int
    currency: str


@dataclass(frozen=True)
class StripeCharge:
    id: str
    amount: int
    amount_refunded: int
    invoice_id: str | None  # on the charge before API version 2025-03-31 (and LocalStripe)
    payment_intent_id: str | None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> StripeCharge:
        return cls(
            id=str(data["id"]),
            amount=int(data.get("amount") or 0),
            amount_refunded=int(data.get("amount_refunded") or 0),
            invoice_id=id_of(data.get("invoice")),
            payment_intent_id=id_of(data.get("payment_intent")),
        )

    @property
    def refunded_in_full(self) -> bool:
        return self.amount > 0 and self.amount_refunded >= self.amount


@dataclass(frozen=True)
class ReceivedEvent:
    id: str
    type: str
    object: Mapping[str, Any]

    @property
    def subscription_id(self) -> str | None:
        """The subscription the event is about, whatever kind of object it carries."""
        kind = self.object.get("object")
        if kind == "subscription":
            return str(self.object["id"])
        if kind == "invoice":
            return StripeInvoice.parse(self.object).subscription_id
        return id_of(self.object.get("subscription"))

    @property
    def object_id(self) -> str | None:
        return id_of(self.object.get("id"))
