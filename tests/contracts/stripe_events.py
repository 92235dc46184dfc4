"""A contract server for the Stripe features LocalStripe lacks: Prices, Checkout Sessions,
trials, renewals, failed renewals, `pause_collection`, `customer.subscription.updated`.

A real HTTP server on a free port that answers the subset of the Stripe API the gateway uses,
in the current shape (API version 2025-03-31 "basil" and later: the billing period on the
subscription items, an invoice's subscription under `parent.subscription_details`, its payments
as InvoicePayments), honours `Idempotency-Key`, and posts events signed exactly as Stripe
signs them (`stripe.WebhookSignature.generate_signature_header`). The HTTP side (and the
faults a test drives on it) is tests/contracts/stripe_http.py.

Followed documentation:
- https://docs.stripe.com/api/subscriptions/object and /api/subscriptions/update
  (`pause_collection`, `cancel_at_period_end`, `proration_behavior`, items)
- https://docs.stripe.com/api/prices/create (immutable prices, `recurring.interval`)
- https://docs.stripe.com/api/checkout/sessions/create (`mode=subscription`,
  `subscription_data.metadata`) and https://docs.stripe.com/payments/checkout/fulfill-orders
  (`checkout.session.completed`)
- https://docs.stripe.com/billing/subscriptions/trials (`trial_period_days` -> `trialing`,
  `customer.subscription.trial_will_end`)
- https://docs.stripe.com/billing/subscriptions/overview#subscription-statuses and
  https://docs.stripe.com/billing/subscriptions/webhooks (renewal: `invoice.paid`; failure:
  `invoice.payment_failed`, status `past_due`)
- https://docs.stripe.com/billing/subscriptions/pause-payment
- https://docs.stripe.com/api/invoice-payment/list, https://docs.stripe.com/api/refunds/create
  (a refund raises the charge's `amount_refunded` and sends `charge.refunded`:
  https://docs.stripe.com/api/events/types#event_types-charge.refunded)
- https://docs.stripe.com/api/invoices/create, /api/invoices/pay, /api/invoices/void and
  https://docs.stripe.com/invoicing/integration (a one-off invoice from pending invoice items,
  `pending_invoice_items_behavior=include`); https://docs.stripe.com/billing/invoices/subscription
  (pending invoice items go on a subscription's first invoice)
- https://docs.stripe.com/payments/checkout/one-time-payments and
  https://docs.stripe.com/payments/checkout/receipts (`mode=payment`, `invoice_creation`,
  `payment_status=paid`, its `payment_intent`), https://docs.stripe.com/api/checkout/sessions/
  retrieve and /api/checkout/sessions/list (by `payment_intent`)
- https://docs.stripe.com/billing/subscriptions/trials/free-trials-without-payment-method
  (status `paused`, `customer.subscription.paused` / `.resumed`)
- https://docs.stripe.com/billing/subscriptions/overview#requires-action and
  https://docs.stripe.com/billing/migration/strong-customer-authentication
  (`invoice.payment_action_required`: the bank asks the customer to authenticate)
- https://docs.stripe.com/api/idempotent_requests, https://docs.stripe.com/webhooks#verify-events
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import stripe

from tests.contracts.stripe_http import Holds, Listener, missing

MONTH_SECONDS = 30 * 24 * 3600
PREFIXES = {
    "products": "prod",
    "prices": "price",
    "customers": "cus",
    "invoiceitems": "ii",
    "refunds": "re",
}


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


class StripeContract:
    """The server's state and the test's controls over it (what time and banks do)."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        self.idempotent: dict[str, tuple[int, dict[str, Any]]] = {}
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.idempotency_keys: list[str | None] = []
        self.webhook_url = ""
        self.webhook_secret = ""
        self.lock = threading.RLock()
        self.url = ""
        # Paths whose next answer is lost after the work is done (a timeout on the way back).
        self.lose_next_answer: set[str] = set()
        self.holds = Holds()
        self.listener: Listener | None = None
        self.sent: list[tuple[str, str]] = []  # (event id, type), in the order sent

    # ------------------------------------------------------------ events

    def emit(self, event_type: str, obj: dict[str, Any]) -> str:
        """Sign and post an event now, as Stripe does; returns its id."""
        event = {
            "id": _new_id("evt"),
            "object": "event",
            "api_version": "2025-03-31.basil",
            "created": int(time.time()),
            "type": event_type,
            "data": {"object": obj},
        }
        payload = json.dumps(event)
        header = stripe.WebhookSignature.generate_signature_header(payload, self.webhook_secret)
        response = httpx.post(
            self.webhook_url,
            content=payload,
            headers={"Stripe-Signature": header, "Content-Type": "application/json"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        self.sent.append((str(event["id"]), event_type))
        return str(event["id"])

    # ------------------------------------------------------------ objects

    def _of(self, kind: str, **match: Any) -> list[dict[str, Any]]:
        return [
            o
            for o in self.objects.values()
            if o.get("object") == kind and all(o.get(k) == v for k, v in match.items())
        ]

    def _pending_items(self, customer: str) -> list[dict[str, Any]]:
        return [i for i in self._of("invoiceitem", customer=customer) if not i.get("invoice")]

    def _new_invoice(
        self, customer: str, amount: int, currency: str, **fields: Any
    ) -> dict[str, Any]:
        for item in self._pending_items(customer):
            amount += int(item["amount"])
            item["invoice"] = "pending"
        invoice: dict[str, Any] = {
            "id": _new_id("in"),
            "object": "invoice",
            "customer": customer,
            "status": "draft",
            "amount_due": amount,
            "amount_paid": 0,
            "currency": currency,
            "created": int(time.time()),
            "hosted_invoice_url": f"{self.url}/invoices/receipt",
            "metadata": {},
            "parent": None,
            **fields,
        }
        for item in self._of("invoiceitem", invoice="pending"):
            item["invoice"] = invoice["id"]
        self.objects[invoice["id"]] = invoice
        return invoice

    def _pay(self, invoice: dict[str, Any]) -> str | None:
        """The card is charged: a PaymentIntent, its charge, the InvoicePayment (basil);
        returns the PaymentIntent (None: nothing was owed)."""
        amount = int(invoice["amount_due"])
        invoice |= {"status": "paid", "amount_paid": amount}
        if not amount:
            return None
        intent, charge = _new_id("pi"), _new_id("ch")
        self.objects[charge] = {
            "id": charge,
            "object": "charge",
            "amount": amount,
            "amount_refunded": 0,
            "refunded": False,
            "currency": invoice["currency"],
            "customer": invoice["customer"],
            "payment_intent": intent,
        }
        self.objects[intent] = {
            "id": intent,
            "object": "payment_intent",
            "amount": amount,
            "status": "succeeded",
            "latest_charge": charge,
        }
        self.objects[_new_id("inpay")] = {
            "object": "invoice_payment",
            "invoice": invoice["id"],
            "status": "paid",
            "payment": {"type": "payment_intent", "payment_intent": intent},
        }
        return intent

    def _invoice(self, subscription: dict[str, Any], *, paid: bool) -> dict[str, Any]:
        price = self.objects[subscription["items"]["data"][0]["price"]["id"]]
        amount = 0 if subscription["status"] == "trialing" else int(price["unit_amount"])
        parent = {
            "type": "subscription_details",
            "subscription_details": {"subscription": subscription["id"]},
        }
        invoice = self._new_invoice(
            subscription["customer"], amount, price["currency"], parent=parent
        )
        if paid or invoice["amount_due"] == 0:
            self._pay(invoice)
        else:
            invoice["status"] = "open"
        subscription["latest_invoice"] = invoice["id"]
        return invoice

    def _subscription(self, params: dict[str, Any]) -> dict[str, Any]:
        now = int(time.time())
        trial_days = int(params.get("trial_period_days") or 0)
        price_id = params["items"][0]["price"]
        end = now + (trial_days * 86400 if trial_days else MONTH_SECONDS)
        subscription: dict[str, Any] = {
            "id": _new_id("sub"),
            "object": "subscription",
            "customer": params["customer"],
            "status": "trialing" if trial_days else "active",
            "metadata": params.get("metadata") or {},
            "cancel_at_period_end": False,
            "pause_collection": None,
            "trial_end": end if trial_days else None,
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": _new_id("si"),
                        "object": "subscription_item",
                        "price": self.objects[price_id],
                        "current_period_start": now,
                        "current_period_end": end,
                    }
                ],
            },
        }
        self.objects[subscription["id"]] = subscription
        self._invoice(subscription, paid=True)
        return subscription

    # ------------------------------------------------------------ what time and banks do

    def renew(
        self, subscription_id: str, *, paid: bool, action_required: bool = False
    ) -> dict[str, Any]:
        """The period ends: Stripe invoices the next one and charges the card (which fails, or
        which the bank wants the member to confirm: 3-D Secure)."""
        with self.lock:
            subscription = self.objects[subscription_id]
            item = subscription["items"]["data"][0]
            item["current_period_start"] = item["current_period_end"]
            item["current_period_end"] += MONTH_SECONDS
            subscription["status"] = "active" if paid else "past_due"
            invoice = self._invoice(subscription, paid=paid)
        if paid:
            self.emit("invoice.paid", invoice)
        elif action_required:
            self.emit("invoice.payment_action_required", invoice)
        else:
            self.emit("invoice.payment_failed", invoice)
        self.emit("customer.subscription.updated", subscription)
        return invoice

    def confirm_payment(self, invoice_id: str) -> None:
        """The member confirmed the payment with their bank (3-D Secure): the invoice is paid,
        and its subscription, owing nothing more, is active again."""
        with self.lock:
            invoice = self.objects[invoice_id]
            self._pay(invoice)
            subscription = self.objects[invoice["parent"]["subscription_details"]["subscription"]]
            if subscription["latest_invoice"] == invoice_id:
                subscription["status"] = "active"
        self.emit("invoice.paid", invoice)
        self.emit("customer.subscription.updated", subscription)

    def end_trial_soon(self, subscription_id: str) -> str:
        return self.emit("customer.subscription.trial_will_end", self.objects[subscription_id])

    def pause(self, subscription_id: str) -> str:
        """The trial ended without a payment method: Stripe pauses the subscription."""
        with self.lock:
            subscription = self.objects[subscription_id]
            subscription["status"] = "paused"
        return self.emit("customer.subscription.paused", subscription)

    def resume(self, subscription_id: str) -> str:
        with self.lock:
            subscription = self.objects[subscription_id]
            subscription["status"] = "active"
        return self.emit("customer.subscription.resumed", subscription)

    def complete_checkout(self, session_id: str) -> dict[str, Any]:
        """The member paid on the Checkout page: a subscription, or a one-time payment (with
        its invoice, whose own `invoice.paid` Stripe also sends)."""
        with self.lock:
            session = self.objects[session_id]
            price = self.objects[session["line_items"][0]["price"]]
            if session["mode"] == "payment":
                invoice_data = session["invoice_creation"]["invoice_data"]
                made = self._new_invoice(
                    session["customer"],
                    int(price["unit_amount"]),
                    price["currency"],
                    metadata=invoice_data.get("metadata") or {},
                )
                session |= {
                    "payment_intent": self._pay(made),
                    "invoice": made["id"],
                    "amount_total": made["amount_paid"],
                    "currency": made["currency"],
                }
            else:
                params = {
                    "customer": session["customer"],
                    "items": [{"price": price["id"]}],
                    "metadata": session["subscription_data"].get("metadata") or {},
                }
                made = self._subscription(params)
                session["subscription"] = made["id"]
            session |= {"status": "complete", "payment_status": "paid"}
        self.emit("checkout.session.completed", session)
        if session["mode"] == "payment":
            self.emit("invoice.paid", made)
        return made

    # ------------------------------------------------------------ the API

    def handle(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, Any]:
        self.requests.append((method, path, params))
        parts = path.strip("/").split("/")[1:]  # without "v1"
        if parts[:2] == ["checkout", "sessions"]:
            parts = ["checkout", *parts[2:]]
        kind, object_id = parts[0], (parts[1] if len(parts) > 1 else None)
        if kind == "balance":
            return 200, {"object": "balance", "available": []}
        if kind == "payment_methods" and str(object_id).startswith("pm_card_"):
            # Test tokens: attaching one makes a new PaymentMethod (docs.stripe.com/testing).
            method_id = _new_id("pm")
            self.objects[method_id] = {"id": method_id, "object": "payment_method", **params}
            return 200, self.objects[method_id]
        if method == "GET" and object_id is None:
            return 200, self._list(kind, params)
        if method == "GET":
            found = self.objects.get(str(object_id))
            return (200, found) if found else (404, missing(str(object_id)))
        if object_id is None:
            return 200, self._create(kind, params)
        obj = self.objects.get(object_id)
        if obj is None:
            return 404, missing(object_id)
        if kind == "payment_methods" and parts[-1] == "attach":
            obj |= {"customer": params["customer"]}
            return 200, obj
        if kind == "invoices" and len(parts) == 3:
            return self._invoice_action(obj, parts[2])
        if method == "DELETE" and kind == "subscriptions":
            obj["status"] = "canceled"
            self._later("customer.subscription.deleted", obj)
            return 200, obj
        if kind == "subscriptions":
            self._update_subscription(obj, params)
            self._later("customer.subscription.updated", obj)
            return 200, obj
        obj |= {k: v for k, v in params.items() if k != "active"}
        if "active" in params:
            obj["active"] = params["active"] == "true"
        return 200, obj

    def _invoice_action(self, invoice: dict[str, Any], action: str) -> tuple[int, Any]:
        if action == "pay" and invoice["status"] in ("draft", "open"):
            self._pay(invoice)
            self._later("invoice.paid", invoice)
            return 200, invoice
        if action == "void" and invoice["status"] in ("draft", "open"):
            invoice["status"] = "void"
            return 200, invoice
        error = {"type": "invalid_request_error", "message": f"Invoice is {invoice['status']}"}
        return 400, {"error": error}

    def _later(self, event_type: str, obj: dict[str, Any]) -> None:
        # Stripe sends events after answering the request that caused them.
        snapshot = json.loads(json.dumps(obj))
        threading.Timer(0.3, self.emit, (event_type, snapshot)).start()

    def _create(self, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        if kind == "subscriptions":
            return self._subscription(params)
        if kind == "invoices":
            assert params.get("pending_invoice_items_behavior") == "include"
            currency = self._pending_currency(params["customer"])
            metadata = params.get("metadata") or {}
            return self._new_invoice(params["customer"], 0, currency, metadata=metadata)
        if kind == "checkout":
            session = {
                "id": _new_id("cs"),
                "object": "checkout.session",
                **params,
                "status": "open",
                "payment_status": "unpaid",
                "subscription": None,
                "invoice": None,
                "payment_intent": None,
            }
            session["url"] = f"{self.url}/checkout/{session['id']}"
            self.objects[session["id"]] = session
            return session
        obj: dict[str, Any] = {"id": _new_id(PREFIXES[kind]), "object": kind.rstrip("s"), **params}
        if kind == "prices":
            obj |= {"unit_amount": int(params["unit_amount"]), "active": True}
        if kind == "invoiceitems":
            obj |= {"amount": int(params["amount"]), "invoice": None}
        if kind == "refunds":
            obj |= self._refund(params)
        self.objects[obj["id"]] = obj
        return obj

    def _pending_currency(self, customer: str) -> str:
        items = self._of("invoiceitem", customer=customer)
        return str(items[-1]["currency"]) if items else "eur"

    def _refund(self, params: dict[str, Any]) -> dict[str, Any]:
        intent = self.objects[params["payment_intent"]]
        charge = self.objects[intent["latest_charge"]]
        amount = int(params.get("amount") or charge["amount"] - charge["amount_refunded"])
        assert charge["amount_refunded"] + amount <= charge["amount"], "more than was paid"
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        self._later("charge.refunded", charge)
        return {"amount": amount, "status": "succeeded", "charge": charge["id"]}

    def _update_subscription(self, subscription: dict[str, Any], params: dict[str, Any]) -> None:
        if "cancel_at_period_end" in params:
            subscription["cancel_at_period_end"] = params["cancel_at_period_end"] == "true"
        if "pause_collection" in params:
            pause = params["pause_collection"]
            subscription["pause_collection"] = (
                {"behavior": pause["behavior"], "resumes_at": int(pause.get("resumes_at") or 0)}
                if pause
                else None
            )
        for item in params.get("items") or []:
            current = subscription["items"]["data"][0]
            assert item["id"] == current["id"], "unknown subscription item"
            current["price"] = self.objects[item["price"]]

    def _list(self, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        kinds = {
            "subscriptions": "subscription",
            "invoices": "invoice",
            "invoice_payments": "invoice_payment",
            "checkout": "checkout.session",
        }
        rows = self._of(kinds[kind])
        for name in ("customer", "invoice", "payment_intent"):
            if name in params:
                rows = [o for o in rows if o.get(name) == params[name]]
        if "payment" in params:
            intent = params["payment"]["payment_intent"]
            rows = [o for o in rows if o["payment"].get("payment_intent") == intent]
        return {"object": "list", "data": rows, "has_more": False, "url": f"/v1/{kind}"}

    # ------------------------------------------------------------ reachability

    def stop(self) -> None:
        """Stripe unreachable: connections to the contract's port are refused."""
        assert self.listener is not None
        self.listener.stop()

    def start(self) -> None:
        assert self.listener is not None
        self.listener.start()


@contextmanager
def serve(port: int) -> Iterator[StripeContract]:
    contract = StripeContract()
    contract.url = f"http://127.0.0.1:{port}"
    contract.listener = Listener(contract, port)
    contract.listener.start()
    try:
        yield contract
    finally:
        contract.listener.stop()
