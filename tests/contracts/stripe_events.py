"""A contract server for the Stripe features LocalStripe lacks: Prices, Checkout Sessions,
trials, renewals, failed renewals, `pause_collection`, `customer.subscription.updated`.

A real HTTP server on a free port that answers the subset of the Stripe API the gateway uses,
in the current shape (API version 2025-03-31 "basil" and later: the billing period on the
subscription items, an invoice's subscription under `parent.subscription_details`, its payments
as InvoicePayments), honours `Idempotency-Key`, and posts events signed exactly as Stripe
signs them (`stripe.WebhookSignature.generate_signature_header`).

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
- https://docs.stripe.com/api/idempotent_requests, https://docs.stripe.com/webhooks#verify-events
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import stripe

MONTH_SECONDS = 30 * 24 * 3600


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """`items[0][price]=p&metadata[a]=b` -> {"items": [{"price": "p"}], "metadata": {"a": "b"}}."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def lists(node: Any) -> Any:
        if isinstance(node, dict):
            if node and all(k.isdigit() for k in node):
                return [lists(node[k]) for k in sorted(node, key=int)]
            return {k: lists(v) for k, v in node.items()}
        return node

    return dict(lists(root))


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
        return str(event["id"])

    # ------------------------------------------------------------ objects

    def _invoice(self, subscription: dict[str, Any], *, paid: bool) -> dict[str, Any]:
        price = self.objects[subscription["items"]["data"][0]["price"]["id"]]
        amount = 0 if subscription["status"] == "trialing" else int(price["unit_amount"])
        invoice = {
            "id": _new_id("in"),
            "object": "invoice",
            "customer": subscription["customer"],
            "status": "paid" if paid or amount == 0 else "open",
            "amount_due": amount,
            "amount_paid": amount if paid else 0,
            "currency": price["currency"],
            "created": int(time.time()),
            "hosted_invoice_url": f"{self.url}/invoices/receipt",
            "parent": {
                "type": "subscription_details",
                "subscription_details": {"subscription": subscription["id"]},
            },
        }
        self.objects[invoice["id"]] = invoice
        if paid and amount:
            intent = _new_id("pi")
            self.objects[_new_id("inpay")] = {
                "object": "invoice_payment",
                "invoice": invoice["id"],
                "status": "paid",
                "payment": {"type": "payment_intent", "payment_intent": intent},
            }
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

    def renew(self, subscription_id: str, *, paid: bool) -> dict[str, Any]:
        """The period ends: Stripe invoices the next one and charges the card."""
        with self.lock:
            subscription = self.objects[subscription_id]
            item = subscription["items"]["data"][0]
            item["current_period_start"] = item["current_period_end"]
            item["current_period_end"] += MONTH_SECONDS
            subscription["status"] = "active" if paid else "past_due"
            invoice = self._invoice(subscription, paid=paid)
        self.emit("invoice.paid" if paid else "invoice.payment_failed", invoice)
        self.emit("customer.subscription.updated", subscription)
        return invoice

    def end_trial_soon(self, subscription_id: str) -> None:
        self.emit("customer.subscription.trial_will_end", self.objects[subscription_id])

    def complete_checkout(self, session_id: str) -> dict[str, Any]:
        """The member paid on the Checkout page."""
        with self.lock:
            session = self.objects[session_id]
            params = {
                "customer": session["customer"],
                "items": [{"price": session["line_items"][0]["price"]}],
                "metadata": session["subscription_data"].get("metadata") or {},
            }
            subscription = self._subscription(params)
            session |= {"status": "complete", "subscription": subscription["id"]}
        self.emit("checkout.session.completed", session)
        return subscription

    # ------------------------------------------------------------ the API

    def handle(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, Any]:
        self.requests.append((method, path, params))
        parts = path.strip("/").split("/")[1:]  # without "v1"
        kind, object_id = parts[0], (parts[1] if len(parts) > 1 else None)
        if kind == "balance":
            return 200, {"object": "balance", "available": []}
        if kind == "checkout" and method == "POST" and len(parts) == 2:
            return 200, self._create("checkout", params)
        if kind == "payment_methods" and str(object_id).startswith("pm_card_"):
            # Test tokens: attaching one makes a new PaymentMethod (docs.stripe.com/testing).
            method_id = _new_id("pm")
            self.objects[method_id] = {"id": method_id, "object": "payment_method", **params}
            return 200, self.objects[method_id]
        if method == "GET" and object_id is None:
            return 200, self._list(kind, params)
        if method == "GET":
            found = self.objects.get(str(object_id))
            return (200, found) if found else (404, _missing(str(object_id)))
        if object_id is None:
            return 200, self._create(kind, params)
        obj = self.objects.get(object_id)
        if obj is None:
            return 404, _missing(object_id)
        if kind == "payment_methods" and parts[-1] == "attach":
            obj |= {"customer": params["customer"]}
            return 200, obj
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

    def _later(self, event_type: str, obj: dict[str, Any]) -> None:
        # Stripe sends events after answering the request that caused them.
        snapshot = json.loads(json.dumps(obj))
        threading.Timer(0.3, self.emit, (event_type, snapshot)).start()

    def _create(self, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        prefixes = {
            "products": "prod",
            "prices": "price",
            "customers": "cus",
            "invoiceitems": "ii",
            "refunds": "re",
        }
        if kind == "subscriptions":
            return self._subscription(params)
        if kind == "checkout":
            session = {
                "id": _new_id("cs"),
                "object": "checkout.session",
                **params,
                "status": "open",
                "subscription": None,
            }
            session["url"] = f"{self.url}/checkout/{session['id']}"
            self.objects[session["id"]] = session
            return session
        obj: dict[str, Any] = {"id": _new_id(prefixes[kind]), "object": kind.rstrip("s"), **params}
        if kind == "prices":
            obj |= {"unit_amount": int(params["unit_amount"]), "active": True}
        if kind == "refunds":
            obj |= {"amount": int(params["amount"]), "status": "succeeded"}
        self.objects[obj["id"]] = obj
        return obj

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
        }
        rows = [o for o in self.objects.values() if o.get("object") == kinds[kind]]
        for name in ("customer", "invoice"):
            if name in params:
                rows = [o for o in rows if o.get(name) == params[name]]
        return {"object": "list", "data": rows, "has_more": False, "url": f"/v1/{kind}"}


def _missing(object_id: str) -> dict[str, Any]:
    message = f"No such object: '{object_id}'"
    return {"error": {"type": "invalid_request_error", "message": message}}


def _handler(contract: StripeContract) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method: str) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            params = unflatten(parse_qsl(url.query) + parse_qsl(body, keep_blank_values=True))
            if not self.headers.get("Authorization", "").startswith("Bearer sk_"):
                status, answer = 401, {"error": {"type": "invalid_request_error"}}
            else:
                key = self.headers.get("Idempotency-Key") if method == "POST" else None
                if method == "POST":
                    contract.idempotency_keys.append(key)
                with contract.lock:
                    if key and key in contract.idempotent:
                        status, answer = contract.idempotent[key]
                    else:
                        status, answer = contract.handle(method, url.path, params)
                        if key:
                            contract.idempotent[key] = (status, answer)
            if method == "POST" and url.path in contract.lose_next_answer:
                contract.lose_next_answer.discard(url.path)
                self.close_connection = True
                return
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def do_DELETE(self) -> None:
            self._answer("DELETE")

        def log_message(self, *_: Any) -> None:
            return

    return Handler


@contextmanager
def serve(port: int) -> Iterator[StripeContract]:
    contract = StripeContract()
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(contract))
    contract.url = f"http://127.0.0.1:{port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield contract
    finally:
        server.shutdown()
        server.server_close()
