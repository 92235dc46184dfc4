"""The inbound webhook: only deliveries signed with WEBHOOK_SECRET are stored, once each."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import func, select

from tests.contracts.waha import WahaContract
from tests.messaging.conftest import WEBHOOK_SECRET, Gym, message, ok, send
from visage.core.db import Database
from visage.messaging.models import WebhookEvent


def _stored(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(WebhookEvent)) or 0


def _failures(api: httpx.Client) -> float:
    for line in api.get("/metrics").text.splitlines():
        if line.startswith("visage_messaging_webhook_verification_failures_total"):
            return float(line.split()[-1])
    raise AssertionError("metric missing")


def _deliver(api: httpx.Client, body: bytes, headers: dict[str, str]) -> httpx.Response:
    """WAHA posts a webhook event: `headers` carry its signature, or not."""
    return api.post(
        "/api/v1/webhooks/waha",
        content=body,
        headers={"Content-Type": "application/json", **headers},
    )


def test_forged_or_missing_hmac_is_refused_and_changes_nothing(
    api: httpx.Client,
    waha: WahaContract,
    gym: Gym,
    opted_in_member: Callable[..., dict[str, Any]],
    process: Callable[[], None],
    database: Database,
) -> None:
    member = opted_in_member()
    queued = send(api, gym, member_id=member["id"], text="Hi")
    process()
    provider_id = message(api, gym, queued["id"])["provider_message_id"]
    body = json.dumps(
        {
            "id": f"evt_{uuid.uuid4().hex}",
            "event": "message.ack",
            "session": gym.session["name"],
            "payload": {"id": provider_id, "ack": 3, "fromMe": True},
        }
    ).encode()
    before, failures = _stored(database), _failures(api)
    forged = hmac.new(b"not the secret", body, hashlib.sha512).hexdigest()
    attempts = [
        {},
        {"X-Webhook-Hmac": forged, "X-Webhook-Hmac-Algorithm": "sha512"},
        {"X-Webhook-Hmac": hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()},
    ]
    for headers in attempts:
        refused = _deliver(api, body, headers)
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "MESSAGING_005"
    # Signed, but the body was changed on the way.
    good = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha512).hexdigest()
    signed = {"X-Webhook-Hmac": good, "X-Webhook-Hmac-Algorithm": "sha512"}
    tampered = _deliver(api, body.replace(b'"ack": 3', b'"ack": 4'), signed)
    assert tampered.status_code == 401
    process()
    assert _stored(database) == before
    assert message(api, gym, queued["id"])["status"] == "sent"
    assert _failures(api) == failures + 4

    assert ok(_deliver(api, body, signed)) == {"status": "accepted"}
    assert ok(_deliver(api, body, signed)) == {"status": "duplicate"}
    process()
    assert message(api, gym, queued["id"])["status"] == "read"


def test_metrics_count_messages_by_status(api: httpx.Client, gym: Gym) -> None:
    del gym
    text = api.get("/metrics").text
    assert 'visage_messages{direction="outbound",status=' in text


def test_webhooks_health(api: httpx.Client, waha: WahaContract, gym: Gym) -> None:
    del gym
    waha.wait_all_delivered()
    health = ok(api.get("/webhooks/health"))
    component = health["components"]["webhooks"]
    assert component["data"]["last_event_at"] is not None
    assert component["data"]["url"].endswith("/api/v1/webhooks/waha")
    waha_health = ok(api.get("/waha/health"))
    assert waha_health["components"]["waha"]["data"]["version"]
    assert "WORKING" in waha_health["components"]["waha"]["data"]["sessions"].values()
