"""The only module that knows Stripe: its SDK, URLs, payload shapes and error types.

The domain speaks in `StripeSubscription` / `StripeInvoice` and calls these methods. Every POST
carries an idempotency key chosen by the caller, so a retry after a timeout never charges or
creates twice. LocalStripe (USE_LOCALSTRIPE=True) has no Prices, no Checkout, no
`proration_behavior` and no `pause_collection`: the differences stay here.

References: https://docs.stripe.com/api/subscriptions/object,
https://docs.stripe.com/api/idempotent_requests, https://docs.stripe.com/webhooks#verify-events.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import stripe

from visage.billing.errors import (
    BillingNotConfigured,
    CardDeclined,
    InvalidWebhook,
    StripeRefused,
    StripeUnavailable,
)
from visage.config import Settings

WEBHOOK_TOLERANCE_SECONDS = 300
NETWORK_RETRIES = 2  # safe: every POST is sent again with the same idempotency key
TIMEOUT_SECONDS = 20


def _when(timestamp: Any) -> datetime | None:
    return datetime.fromtimestamp(int(timestamp), UTC) if timestamp else None


def _id(value: Any) -> str | None:
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

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> StripeSubscription:
        # Since API version 2025-03-31 the period lives on the items.
        items = (data.get("items") or {}).get("data") or [{}]
        period_end = data.get("current_period_end") or items[0].get("current_period_end")
        pause = data.get("pause_collection") or {}
        return cls(
            id=data["id"],
            customer_id=str(_id(data.get("customer"))),
            status=data["status"],
            current_period_end=_when(period_end),
            cancel_at_period_end=bool(data.get("cancel_at_period_end")),
            paused=bool(pause) or data["status"] == "paused",
            resumes_at=_when(pause.get("resumes_at")),
            latest_invoice_id=_id(data.get("latest_invoice")),
            metadata=dict(data.get("metadata") or {}),
        )


@dataclass(frozen=True)
class StripeInvoice:
    id: str
    subscription_id: str | None
    status: str
    amount_due: int
    amount_paid: int
    currency: str
    created: datetime | None
    receipt_url: str | None
    payment_intent_id: str | None
    failure_message: str | None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> StripeInvoice:
        parent = (data.get("parent") or {}).get("subscription_details") or {}
        charge = data.get("charge")
        failure = charge.get("failure_message") if isinstance(charge, Mapping) else None
        return cls(
            id=data["id"],
            subscription_id=_id(data.get("subscription") or parent.get("subscription")),
            status=data["status"],
            amount_due=int(data.get("amount_due") or 0),
            amount_paid=int(data.get("amount_paid") or 0),
            currency=str(data.get("currency") or ""),
            created=_when(data.get("created") or data.get("date")),
            receipt_url=data.get("hosted_invoice_url"),
            payment_intent_id=_id(data.get("payment_intent")),
            failure_message=failure,
        )


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
        return _id(self.object.get("subscription"))


def verify_webhook(payload: bytes, signature: str | None, secret: str) -> ReceivedEvent:
    """The event, if `Stripe-Signature` signs this exact body with `secret` within 300 s."""
    if not signature or not secret:
        raise InvalidWebhook("Missing Stripe-Signature header (or STRIPE_WEBHOOK_SECRET unset).")
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature, secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError as error:
        raise InvalidWebhook(f"Invalid signature: {error.user_message or error}") from error
    except ValueError as error:  # a body that is not UTF-8
        raise InvalidWebhook("The body is not a Stripe event.") from error
    # Parsed here, not by the SDK: a signed body that is JSON but not an object (a list, a
    # number) would fail inside it with an AttributeError.
    try:
        data = json.loads(payload)
        event_id, event_type, event_object = (
            str(data["id"]),
            str(data["type"]),
            data["data"]["object"],
        )
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidWebhook("The body is not a Stripe event.") from error
    if not isinstance(event_object, dict):
        raise InvalidWebhook("The body is not a Stripe event.")
    return ReceivedEvent(event_id, event_type, event_object)


def _translated(error: stripe.StripeError) -> Exception:
    if isinstance(error, stripe.CardError):
        return CardDeclined(error.user_message or "The card was declined.")
    if isinstance(error, stripe.APIConnectionError | stripe.RateLimitError):
        return StripeUnavailable()
    if isinstance(error, stripe.AuthenticationError):
        return BillingNotConfigured("Stripe refused STRIPE_SECRET_KEY.")
    if isinstance(error, stripe.InvalidRequestError):
        return StripeRefused(error.user_message or str(error))
    if error.http_status == 402:
        return CardDeclined(error.user_message or "The card was declined.")
    return StripeUnavailable(f"Stripe answered an error: {error.user_message or error}")


class StripeGateway:
    def __init__(self, settings: Settings) -> None:
        if not settings.stripe_secret_key:
            raise BillingNotConfigured()
        self.local = settings.use_localstripe
        base = settings.localstripe_url if self.local else settings.stripe_api_base
        self.api_base = base.rstrip("/")
        self._client = stripe.StripeClient(
            settings.stripe_secret_key,
            base_addresses={"api": self.api_base},
            max_network_retries=NETWORK_RETRIES,
            http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
        )

    def _call(self, resource: Any, method: str, *args: Any, key: str | None = None) -> Any:
        options = {"idempotency_key": key} if key else {}
        try:
            result = getattr(resource, method)(*args, options=options)
        except stripe.StripeError as error:
            raise _translated(error) from error
        return result.to_dict() if hasattr(result, "to_dict") else result

    @property
    def _v1(self) -> Any:
        return self._client.v1

    # ------------------------------------------------------------ catalog

    def save_price(
        self, terms: PriceTerms, *, product_id: str | None, price_id: str | None, key: str
    ) -> tuple[str, str]:
        """The product and price (a Plan on LocalStripe) selling `terms`; Stripe prices are
        immutable, so a changed amount gets a new price and the old one is archived."""
        if product_id is None:
            product = self._call(self._v1.products, "create", {"name": terms.name}, key=key)
            product_id = str(product["id"])
        else:
            self._call(self._v1.products, "update", product_id, {"name": terms.name})
        # The price it replaces is in the key: going back to an earlier amount makes a new
        # price instead of replaying the archived one.
        price_key = f"{key}-{price_id}-{terms.amount_cents}-{terms.currency}-{terms.interval}"
        if self.local:
            params: dict[str, Any] = {
                "product": product_id,
                "amount": terms.amount_cents,
                "currency": terms.currency,
                # LocalStripe plans always recur; one-time plans are never subscribed to.
                "interval": "month" if terms.interval == "one_time" else terms.interval,
            }
            price = self._call(self._v1.plans, "create", params, key=price_key)
        else:
            params = {
                "product": product_id,
                "unit_amount": terms.amount_cents,
                "currency": terms.currency,
            }
            if terms.interval != "one_time":
                params["recurring"] = {"interval": terms.interval}
            price = self._call(self._v1.prices, "create", params, key=price_key)
        new_price_id = str(price["id"])
        if price_id and price_id != new_price_id and not self.local:
            self._call(self._v1.prices, "update", price_id, {"active": False})
        return product_id, new_price_id

    # ------------------------------------------------------------ customers

    def create_customer(
        self, *, name: str, email: str | None, metadata: Mapping[str, str], key: str
    ) -> str:
        params: dict[str, Any] = {"name": name, "metadata": dict(metadata)}
        if email:
            params["email"] = email
        return str(self._call(self._v1.customers, "create", params, key=key)["id"])

    def set_default_payment_method(self, customer_id: str, payment_method: str) -> str:
        """Attach the PaymentMethod and make it the one invoices charge; returns its id."""
        attached = self._call(
            self._v1.payment_methods,
            "attach",
            payment_method,
            {"customer": customer_id},
            key=f"attach-{customer_id}-{payment_method}",
        )
        method_id = str(attached["id"])
        self._call(
            self._v1.customers,
            "update",
            customer_id,
            {"invoice_settings": {"default_payment_method": method_id}},
            key=f"default-pm-{customer_id}-{method_id}",
        )
        return method_id

    def add_one_time_charge(
        self, customer_id: str, *, amount_cents: int, currency: str, description: str, key: str
    ) -> None:
        """A pending invoice item: Stripe puts it on the customer's next (first) invoice."""
        params = {
            "customer": customer_id,
            "amount": amount_cents,
            "currency": currency,
            "description": description,
        }
        self._call(self._v1.invoice_items, "create", params, key=key)

    # ------------------------------------------------------------ subscriptions

    def create_subscription(
        self,
        customer_id: str,
        price_id: str,
        *,
        trial_days: int | None,
        metadata: Mapping[str, str],
        key: str,
    ) -> StripeSubscription:
        item = {"plan": price_id} if self.local else {"price": price_id}
        params: dict[str, Any] = {
            "customer": customer_id,
            "items": [item],
            "metadata": dict(metadata),
        }
        if trial_days:
            params["trial_period_days"] = trial_days
        created = self._call(self._v1.subscriptions, "create", params, key=key)
        return StripeSubscription.parse(created)

    def subscription(self, subscription_id: str) -> StripeSubscription:
        return StripeSubscription.parse(
            self._call(self._v1.subscriptions, "retrieve", subscription_id)
        )

    def subscriptions(self, *, customer_id: str | None = None) -> Iterator[StripeSubscription]:
        """Every subscription (all statuses), page after page."""
        params: dict[str, Any] = {"status": "all", "limit": 100}
        if customer_id:
            params["customer"] = customer_id
        try:
            listing = self._v1.subscriptions.list(params)
            for item in listing.auto_paging_iter():
                yield StripeSubscription.parse(item.to_dict())
        except stripe.StripeError as error:
            raise _translated(error) from error

    def cancel(self, subscription_id: str, *, at_period_end: bool) -> StripeSubscription:
        if at_period_end:
            params = {"cancel_at_period_end": True}
            updated = self._call(self._v1.subscriptions, "update", subscription_id, params)
        else:
            updated = self._call(self._v1.subscriptions, "cancel", subscription_id)
        return StripeSubscription.parse(updated)

    def _needs_stripe(self, feature: str) -> None:
        if self.local:
            raise StripeRefused(f"LocalStripe has no {feature}: use Stripe (test mode) for it.")

    def pause(self, subscription_id: str, *, resumes_at: datetime | None) -> StripeSubscription:
        self._needs_stripe("pause_collection")
        pause: dict[str, Any] = {"behavior": "void"}
        if resumes_at is not None:
            pause["resumes_at"] = int(resumes_at.timestamp())
        return self._update(subscription_id, {"pause_collection": pause})

    def resume(self, subscription_id: str) -> StripeSubscription:
        self._needs_stripe("pause_collection")
        return self._update(subscription_id, {"pause_collection": ""})

    def change_price(self, subscription_id: str, price_id: str) -> StripeSubscription:
        current = self._call(self._v1.subscriptions, "retrieve", subscription_id)
        item_id = current["items"]["data"][0]["id"]
        if self.local:  # LocalStripe prorates on its own and knows no proration_behavior
            params: dict[str, Any] = {"items": [{"id": item_id, "plan": price_id}]}
        else:
            params = {
                "items": [{"id": item_id, "price": price_id}],
                "proration_behavior": "create_prorations",
            }
        return self._update(subscription_id, params)

    def _update(self, subscription_id: str, params: Mapping[str, Any]) -> StripeSubscription:
        updated = self._call(self._v1.subscriptions, "update", subscription_id, dict(params))
        return StripeSubscription.parse(updated)

    # ------------------------------------------------------------ invoices, refunds

    def invoices(self, customer_id: str, *, limit: int = 24) -> list[StripeInvoice]:
        listing = self._call(self._v1.invoices, "list", {"customer": customer_id, "limit": limit})
        return [StripeInvoice.parse(item) for item in listing["data"]]

    def invoice(self, invoice_id: str) -> StripeInvoice:
        return StripeInvoice.parse(self._call(self._v1.invoices, "retrieve", invoice_id))

    def payment_intent_of(self, invoice: StripeInvoice) -> str | None:
        """The PaymentIntent that paid `invoice`: on the invoice in older API versions (and
        LocalStripe), among its InvoicePayments since 2025-03-31 (basil)."""
        if invoice.payment_intent_id or self.local:
            return invoice.payment_intent_id
        params = {"invoice": invoice.id, "status": "paid", "limit": 1}
        payments = self._call(self._v1.invoice_payments, "list", params)["data"]
        return _id(payments[0]["payment"].get("payment_intent")) if payments else None

    def refund(self, payment_intent_id: str, *, amount_cents: int | None, key: str) -> str:
        params: dict[str, Any] = {"payment_intent": payment_intent_id}
        if amount_cents is not None:
            params["amount"] = amount_cents
        return str(self._call(self._v1.refunds, "create", params, key=key)["id"])

    # ------------------------------------------------------------ checkout

    def checkout_url(
        self,
        customer_id: str,
        price_id: str,
        *,
        metadata: Mapping[str, str],
        success_url: str,
        cancel_url: str,
        key: str,
    ) -> str | None:
        """A Stripe Checkout page; None on LocalStripe, which has no Checkout."""
        if self.local:
            return None
        params = {
            "mode": "subscription",
            "customer": customer_id,
            "line_items": [{"price": price_id, "quantity": 1}],
            "subscription_data": {"metadata": dict(metadata)},
            "success_url": success_url,
            "cancel_url": cancel_url,
        }
        return str(self._call(self._v1.checkout.sessions, "create", params, key=key)["url"])

    def create_setup_intent(self, customer_id: str, *, key: str) -> str:
        """A SetupIntent the card page confirms with Stripe.js; returns its id."""
        params = {"customer": customer_id, "usage": "off_session"}
        return str(self._call(self._v1.setup_intents, "create", params, key=key)["id"])

    def setup_intent(self, setup_intent_id: str) -> tuple[str, str | None]:
        """Its client secret, and the PaymentMethod once the card was confirmed."""
        intent = self._call(self._v1.setup_intents, "retrieve", setup_intent_id)
        confirmed = intent["status"] == "succeeded"
        return str(intent["client_secret"]), _id(
            intent.get("payment_method")
        ) if confirmed else None

    @property
    def stripe_js_url(self) -> str:
        return f"{self.api_base}/js.stripe.com/v3/" if self.local else "https://js.stripe.com/v3/"

    def ping(self) -> None:
        """Raises StripeUnavailable / BillingNotConfigured when Stripe cannot be used."""
        self._call(self._v1.balance, "retrieve")
