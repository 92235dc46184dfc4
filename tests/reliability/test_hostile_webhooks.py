"""Hostile webhook deliveries (Stripe's and WAHA's endpoints take bodies from anyone): forged,
replayed, oversized and malformed bodies are refused, and nothing is stored or queued for them;
a genuine delivery sent twice is stored and queued once."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from visage.billing.models import WebhookEvent as StripeEvent
from visage.config import Settings
from visage.core.db import Database
from visage.messaging.models import WebhookEvent as WahaEvent

STRIPE_SECRET = "whsec_" + uuid.uuid4().hex
WAHA_SECRET = uuid.uuid4().hex
WEBHOOK_TASKS = ("billing.process_event", "messaging.process_webhook")


def stripe_signed(body: bytes, secret: str = STRIPE_SECRET, age: int = 0) -> dict[str, str]:
    """Stripe's scheme: `t=<unix time>,v1=<HMAC-SHA256 of "<t>.<body>">`."""
    timestamp = int(time.time()) - age
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return {"Stripe-Signature": f"t={timestamp},v1={signature.hexdigest()}"}


def waha_signed(body: bytes, secret: str = WAHA_SECRET) -> dict[str, str]:
    signature = hmac.new(secret.encode(), body, hashlib.sha512).hexdigest()
    return {"X-Webhook-Hmac": signature, "X-Webhook-Hmac-Algorithm": "sha512"}


@dataclass(frozen=True)
class Webhook:
    path: str
    sign: Callable[[bytes], dict[str, str]]
    refusal: tuple[int, str]
    event: Callable[[], bytes]


def _stripe_event() -> bytes:
    event = {"id": f"evt_{uuid.uuid4().hex}", "type": "invoice.paid", "data": {"object": {}}}
    return json.dumps(event).encode()


def _waha_event() -> bytes:
    envelope = {"id": f"evt_{uuid.uuid4().hex}", "event": "session.status", "session": "none"}
    return json.dumps({**envelope, "payload": {"status": "WORKING"}}).encode()


STRIPE = Webhook("/api/v1/payments/webhook", stripe_signed, (400, "BILLING_007"), _stripe_event)
WAHA = Webhook("/api/v1/webhooks/waha", waha_signed, (401, "MESSAGING_005"), _waha_event)


@dataclass(frozen=True)
class Traces:
    """What a delivery leaves behind: stored events and queued jobs."""

    stripe_events: int
    waha_events: int
    jobs: int


def traces(database: Database) -> Traces:
    with database.session() as session:
        return Traces(
            session.scalar(select(func.count()).select_from(StripeEvent)) or 0,
            session.scalar(select(func.count()).select_from(WahaEvent)) or 0,
            session.scalar(
                text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = ANY(:tasks)"),
                {"tasks": list(WEBHOOK_TASKS)},
            )
            or 0,
        )


@pytest.fixture
def secrets_set(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "stripe_webhook_secret", STRIPE_SECRET)
    monkeypatch.setattr(settings, "webhook_secret", WAHA_SECRET)


@pytest.fixture
def no_jobs_left(database: Database) -> Iterator[None]:
    """The accepted deliveries' jobs are for no real object: later tests' workers must not
    get them."""
    yield
    with database.session() as session:
        session.execute(
            text("DELETE FROM procrastinate_jobs WHERE task_name = ANY(:tasks)"),
            {"tasks": list(WEBHOOK_TASKS)},
        )


def hostile_bodies(webhook: Webhook, settings: Settings) -> list[tuple[str, bytes, dict[str, str]]]:
    event = webhook.event()
    oversized = event + b" " * settings.webhook_max_bytes
    return [
        ("unsigned", event, {}),
        ("forged", event, webhook.sign(b"another body")),
        ("wrong secret", event, {**webhook.sign(event), **_wrong_secret(webhook, event)}),
        ("changed after signing", event.replace(b"evt_", b"evt_x"), webhook.sign(event)),
        ("not JSON", b"\x00\xff not json", webhook.sign(b"\x00\xff not json")),
        ("a JSON list", b"[1, 2]", webhook.sign(b"[1, 2]")),
        ("JSON without an event", b'{"id": "evt_1"}', webhook.sign(b'{"id": "evt_1"}')),
        ("fields of the wrong type", _wrong_types, webhook.sign(_wrong_types)),
        ("signed but oversized", oversized, webhook.sign(oversized)),
    ]


_wrong_types = b'{"id": 1, "type": [], "event": {}, "data": {"object": 5}, "session": 2}'


def _wrong_secret(webhook: Webhook, body: bytes) -> dict[str, str]:
    return stripe_signed(body, "whsec_other") if webhook is STRIPE else waha_signed(body, "other")


@pytest.mark.usefixtures("secrets_set", "no_jobs_left")
@pytest.mark.parametrize("webhook", [STRIPE, WAHA], ids=["stripe", "waha"])
def test_hostile_deliveries_are_refused_without_a_trace(
    webhook: Webhook, client: TestClient, settings: Settings, database: Database
) -> None:
    before = traces(database)
    for name, body, headers in hostile_bodies(webhook, settings):
        response = client.post(
            webhook.path, content=body, headers={"Content-Type": "application/json", **headers}
        )
        if name == "signed but oversized":
            assert response.status_code == 413, response.text
            assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
            assert "WEBHOOK_MAX_BYTES" in response.json()["error"]["message"]
        else:
            code = response.json()["error"]["code"]
            assert (response.status_code, code) == webhook.refusal, (name, response.text)
    assert traces(database) == before


@pytest.mark.usefixtures("secrets_set", "no_jobs_left")
def test_a_stale_stripe_signature_is_a_refused_replay(
    client: TestClient, database: Database
) -> None:
    before = traces(database)
    event = _stripe_event()
    replayed = client.post(STRIPE.path, content=event, headers=stripe_signed(event, age=301))
    assert (replayed.status_code, replayed.json()["error"]["code"]) == STRIPE.refusal
    assert traces(database) == before


@pytest.mark.usefixtures("secrets_set", "no_jobs_left")
@pytest.mark.parametrize("webhook", [STRIPE, WAHA], ids=["stripe", "waha"])
def test_a_genuine_delivery_sent_twice_is_stored_and_queued_once(
    webhook: Webhook, client: TestClient, database: Database
) -> None:
    before = traces(database)
    event = webhook.event()
    for _ in range(2):
        response = client.post(webhook.path, content=event, headers=webhook.sign(event))
        assert response.status_code == 200, response.text
    after = traces(database)
    stored = (after.stripe_events - before.stripe_events, after.waha_events - before.waha_events)
    assert stored == ((1, 0) if webhook is STRIPE else (0, 1))
    assert after.jobs == before.jobs + 1


def test_a_webhook_body_declared_past_the_ceiling_is_refused_from_its_header(
    client: TestClient, settings: Settings
) -> None:
    """The ceiling is the webhooks' own, far below MAX_REQUEST_BYTES: 413 from the header."""
    declared = settings.webhook_max_bytes + 1
    assert declared < settings.max_request_bytes
    for webhook in (STRIPE, WAHA):
        response = client.post(
            webhook.path, content=b"{}", headers={"Content-Length": str(declared)}
        )
        assert response.status_code == 413, response.text
