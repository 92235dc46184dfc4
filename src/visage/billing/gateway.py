"""The only module that calls Stripe: its SDK, URLs, parameters and error types (its payload
shapes are read in stripe_objects.py, the other half of the gateway).

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
from datetime import datetime
from typing import Any

import stripe

from visage.billing.errors import (
    BillingNotConfigured,
    CardDeclined,
    InvalidWebhook,
    StripeRefused,
    StripeUnavailable,
)
from visage.billing.stripe_objects import (
    OneTimeCharge,
    PriceTerms,
    ReceivedEvent,
    StripeCharge,
    StripeCheckout,
    StripeInvoice,
    StripeSubscription,
)
from visage.billing.stripe_objects import id_of as _id
from visage.config import Settings

WEBHOOK_TOLERANCE_SECONDS = 300
NETWORK_RETRIES = 2  # safe: every POST is sent again with the same idempotency key
TIMEOUT_SECONDS = 20


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

    def rename_product(self, product_id: str, name: str) -> None:
        self._call(self._v1.products, "update", product_id, {"name": name})

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

    def charge_once(
        self,
        customer_id: str,
        payment_method_id: str,
        *,
        amount_cents: int,
        currency: str,
        description: str,
        metadata: Mapping[str, str],
        key: str,
    ) -> OneTimeCharge:
        """Charge `amount_cents` once, now. On Stripe: a one-off invoice (the member's receipt)
        paid with the card; LocalStripe cannot invoice without a subscription, so there it is
        a PaymentIntent confirmed off-session. A declined card raises CardDeclined and leaves
        nothing owing (the invoice is voided)."""
        if self.local:
            params: dict[str, Any] = {
                "customer": customer_id,
                "payment_method": payment_method_id,
                "amount": amount_cents,
                "currency": currency,
                "metadata": dict(metadata),
                "confirm": True,
                "off_session": True,
            }
            intent = self._call(self._v1.payment_intents, "create", params, key=key)
            if intent["status"] != "succeeded":
                raise CardDeclined()
            return OneTimeCharge(str(intent["id"]), int(intent["amount"]), currency)
        self.add_one_time_charge(
            customer_id,
            amount_cents=amount_cents,
            currency=currency,
            description=description,
            key=f"{key}-item",
        )
        params = {
            "customer": customer_id,
            "metadata": dict(metadata),
            "pending_invoice_items_behavior": "include",
        }
        invoice_id = str(self._call(self._v1.invoices, "create", params, key=key)["id"])
        failure: CardDeclined | None = None
        try:
            paid = StripeInvoice.parse(
                self._call(self._v1.invoices, "pay", invoice_id, {}, key=f"{key}-pay")
            )
        except CardDeclined as declined:  # Stripe answers 402 and leaves the invoice open
            failure, paid = declined, self.invoice(invoice_id)
        if paid.status == "paid":
            return OneTimeCharge(paid.id, paid.amount_paid, paid.currency)
        self._call(self._v1.invoices, "void_invoice", invoice_id, {}, key=f"{key}-void")
        raise failure or CardDeclined()

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

    def charge(self, charge_id: str) -> StripeCharge:
        return StripeCharge.parse(self._call(self._v1.charges, "retrieve", charge_id))

    def latest_charge(self, payment_intent_id: str) -> StripeCharge | None:
        """The charge that took a PaymentIntent's money (what was refunded of it, so far)."""
        intent = self._call(self._v1.payment_intents, "retrieve", payment_intent_id)
        charge_id = _id(intent.get("latest_charge"))
        return self.charge(charge_id) if charge_id else None

    def checkout_session_of(self, payment_intent_id: str) -> str | None:
        """The Checkout Session (`mode=payment`) a PaymentIntent paid; LocalStripe has none."""
        if self.local:
            return None
        params = {"payment_intent": payment_intent_id, "limit": 1}
        sessions = self._call(self._v1.checkout.sessions, "list", params)["data"]
        return str(sessions[0]["id"]) if sessions else None

    def invoice_of(self, charge: StripeCharge) -> str | None:
        """The invoice a charge paid: on the charge or its PaymentIntent in older API versions
        (and LocalStripe), found through InvoicePayments since 2025-03-31 (basil)."""
        if charge.invoice_id or charge.payment_intent_id is None:
            return charge.invoice_id
        intent = self._call(self._v1.payment_intents, "retrieve", charge.payment_intent_id)
        if intent.get("invoice") or self.local:
            return _id(intent.get("invoice"))
        params = {
            "payment": {"type": "payment_intent", "payment_intent": charge.payment_intent_id},
            "limit": 1,
        }
        payments = self._call(self._v1.invoice_payments, "list", params)["data"]
        return _id(payments[0]["invoice"]) if payments else None

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
        one_time: bool,
        success_url: str,
        cancel_url: str,
        key: str,
    ) -> str | None:
        """A Stripe Checkout page (a subscription, or a one-time payment with an invoice as its
        receipt); None on LocalStripe, which has no Checkout."""
        if self.local:
            return None
        params: dict[str, Any] = {
            "customer": customer_id,
            "line_items": [{"price": price_id, "quantity": 1}],
            "metadata": dict(metadata),
            "success_url": success_url,
            "cancel_url": cancel_url,
        }
        if one_time:
            params["mode"] = "payment"
            params["invoice_creation"] = {
                "enabled": True,
                "invoice_data": {"metadata": dict(metadata)},
            }
        else:
            params["mode"] = "subscription"
            params["subscription_data"] = {"metadata": dict(metadata)}
        return str(self._call(self._v1.checkout.sessions, "create", params, key=key)["url"])

    def checkout_session(self, session_id: str) -> StripeCheckout:
        return StripeCheckout.parse(self._call(self._v1.checkout.sessions, "retrieve", session_id))

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
