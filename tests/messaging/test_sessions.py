"""A tenant connects WhatsApp: the session starts with our signed webhook, waits for a scan
(QR served as PNG), turns WORKING when scanned; stop, restart, logout, delete."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.conftest import TenantOwner
from tests.contracts.waha import WahaContract
from tests.messaging.conftest import WEBHOOK_SECRET, ok
from visage.config import Settings


def _statuses(api: httpx.Client, owner: TenantOwner) -> dict[str, str]:
    listed = ok(api.get("/api/v1/messaging/sessions", headers=owner.headers))
    assert listed["live"] is True
    assert listed["missing"] == []
    return {item["id"]: item["status"] for item in listed["items"]}


def test_scan_qr_code_then_qr_then_working(
    api: httpx.Client,
    waha: WahaContract,
    make_tenant_owner: Callable[[], TenantOwner],
    process: Callable[[], None],
    messaging_settings: Settings,
) -> None:
    owner = make_tenant_owner()
    created = ok(
        api.post("/api/v1/messaging/sessions", json={"label": "Desk"}, headers=owner.headers), 201
    )
    config = waha.sessions[created["name"]].webhooks[0]
    assert config["url"] == f"{messaging_settings.public_base_url}/api/v1/webhooks/waha"
    assert config["events"] == ["message", "message.ack", "session.status"]
    assert config["hmac"] == {"key": WEBHOOK_SECRET}
    assert config["retries"]["attempts"] == 15

    waha.wait_all_delivered()
    process()
    assert _statuses(api, owner) == {created["id"]: "SCAN_QR_CODE"}
    first = api.get(f"/api/v1/messaging/sessions/{created['id']}/qr", headers=owner.headers)
    assert first.status_code == 200
    assert first.headers["content-type"] == "image/png"
    assert first.content.startswith(b"\x89PNG")
    # Codes expire: every fetch asks WAHA for the current one.
    second = api.get(f"/api/v1/messaging/sessions/{created['id']}/qr", headers=owner.headers)
    assert second.content != first.content

    waha.scan(created["name"])
    waha.wait_all_delivered()
    process()
    assert _statuses(api, owner) == {created["id"]: "WORKING"}
    refused = api.get(f"/api/v1/messaging/sessions/{created['id']}/qr", headers=owner.headers)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "MESSAGING_008"


def test_stop_restart_logout_delete(
    api: httpx.Client,
    waha: WahaContract,
    make_tenant_owner: Callable[[], TenantOwner],
    process: Callable[[], None],
) -> None:
    owner = make_tenant_owner()
    created = ok(api.post("/api/v1/messaging/sessions", json={}, headers=owner.headers), 201)
    waha.scan(created["name"])
    base = f"/api/v1/messaging/sessions/{created['id']}"
    assert ok(api.post(f"{base}/stop", headers=owner.headers))["status"] == "STOPPED"
    assert ok(api.post(f"{base}/restart", headers=owner.headers))["status"] == "WORKING"
    assert ok(api.post(f"{base}/logout", headers=owner.headers))["status"] == "STOPPED"
    assert ok(api.post(f"{base}/start", headers=owner.headers))["status"] == "SCAN_QR_CODE"
    assert api.post(f"{base}/explode", headers=owner.headers).status_code == 422
    assert api.delete(base, headers=owner.headers).status_code == 204
    assert created["name"] not in waha.sessions
    assert _statuses(api, owner) == {}
    waha.wait_all_delivered()
    process()


def test_sessions_are_per_tenant(
    api: httpx.Client, make_tenant_owner: Callable[[], TenantOwner]
) -> None:
    owner, stranger = make_tenant_owner(), make_tenant_owner()
    created = ok(api.post("/api/v1/messaging/sessions", json={}, headers=owner.headers), 201)
    assert _statuses(api, stranger) == {}
    qr = api.get(f"/api/v1/messaging/sessions/{created['id']}/qr", headers=stranger.headers)
    assert qr.status_code == 404


def test_wrong_waha_key_is_named(
    api: httpx.Client,
    make_tenant_owner: Callable[[], TenantOwner],
    messaging_settings: Settings,
) -> None:
    messaging_settings.waha_api_key = "wrong"
    owner = make_tenant_owner()
    refused = api.post("/api/v1/messaging/sessions", json={}, headers=owner.headers)
    assert refused.status_code == 502
    assert refused.json()["error"]["code"] == "MESSAGING_007"
    health = api.get("/health/waha")
    assert health.status_code == 503
    assert health.json()["failing"] == ["waha"]
    assert "WAHA_API_KEY" in health.json()["components"]["waha"]["fix"]


def test_no_webhook_secret_no_session(
    api: httpx.Client,
    make_tenant_owner: Callable[[], TenantOwner],
    messaging_settings: Settings,
) -> None:
    messaging_settings.webhook_secret = ""
    owner = make_tenant_owner()
    refused = api.post("/api/v1/messaging/sessions", json={}, headers=owner.headers)
    assert refused.status_code == 409
    assert refused.json()["error"]["details"] == {"missing": ["WEBHOOK_SECRET"]}
