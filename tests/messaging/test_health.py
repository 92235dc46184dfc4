"""`visage doctor` and /health/waha on WhatsApp's settings; the QR stored at SCAN_QR_CODE."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from sqlalchemy import select

from tests.conftest import TenantOwner
from tests.contracts.waha import WahaContract
from tests.messaging.conftest import ok
from visage.config import Settings
from visage.core.db import Database
from visage.health.checks import check_messaging_settings
from visage.messaging.models import WhatsAppSession


def test_doctor_checks_url_key_and_secret(messaging_settings: Settings) -> None:
    assert check_messaging_settings(messaging_settings).ok
    messaging_settings.webhook_secret = "short"
    weak = check_messaging_settings(messaging_settings)
    assert not weak.ok
    assert "WEBHOOK_SECRET is weak" in weak.detail
    messaging_settings.waha_api_key = ""
    half = check_messaging_settings(messaging_settings)
    assert not half.ok
    assert "WAHA_API_KEY" in half.detail
    messaging_settings.waha_base_url = ""
    messaging_settings.webhook_secret = ""
    off = check_messaging_settings(messaging_settings)
    assert off.ok
    for variable in ("WAHA_BASE_URL", "WAHA_API_KEY", "WEBHOOK_SECRET"):
        assert variable in off.detail


def test_whatsapp_off_says_which_variables_to_set(
    api: httpx.Client,
    make_tenant_owner: Callable[[], TenantOwner],
    messaging_settings: Settings,
) -> None:
    """A new install: the WhatsApp page and /health/waha name what to set, rather than
    blaming an unreachable WAHA that was never configured."""
    messaging_settings.waha_base_url = ""
    messaging_settings.webhook_secret = ""
    owner = make_tenant_owner()
    listed = ok(api.get("/api/v1/messaging/sessions", headers=owner.headers))
    assert listed == {"items": [], "live": False, "missing": ["WAHA_BASE_URL", "WEBHOOK_SECRET"]}
    waha = ok(api.get("/health/waha"))["components"]["waha"]
    assert "WAHA_BASE_URL, WAHA_API_KEY and WEBHOOK_SECRET" in waha["detail"]


def test_doctor_names_an_unreachable_waha(messaging_settings: Settings) -> None:
    messaging_settings.waha_base_url = "http://127.0.0.1:9"
    result = check_messaging_settings(messaging_settings)
    assert not result.ok
    assert "unreachable" in result.detail
    assert "WAHA_BASE_URL" in result.fix


def test_qr_is_stored_at_each_scan_qr_code_event(
    api: httpx.Client,
    waha: WahaContract,
    make_tenant_owner: Callable[[], TenantOwner],
    process: Callable[[], None],
    database: Database,
) -> None:
    owner = make_tenant_owner()
    created = ok(api.post("/api/v1/messaging/sessions", json={}, headers=owner.headers), 201)
    waha.wait_all_delivered()
    process()
    with database.session() as session:
        row = session.scalar(select(WhatsAppSession).where(WhatsAppSession.id == created["id"]))
        assert row is not None
        assert row.status == "SCAN_QR_CODE"
        assert row.qr_png is not None
        assert row.qr_png.startswith(b"\x89PNG")
    assert ok(api.get("/health/waha"))["components"]["waha"]["data"]["sessions"][
        created["name"]
    ] == ("SCAN_QR_CODE")
