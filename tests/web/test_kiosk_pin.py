"""Face + PIN on the kiosk page: Chromium's fake camera shows a face two members share (the
face cannot tell them apart), the kiosk asks for a PIN without naming anyone, the PIN pad
decides, and only then the member is welcomed by name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Playwright, expect

from tests.images import FACES_DIR
from tests.web.conftest import WAIT_MS, Tokens, expect_ok, screenshot
from tests.web.test_kiosk import camera_browser, kiosk_page, write_y4m
from visage.identity.models import Role, Tenant, User

pytestmark = pytest.mark.browser


def member_with_pin(api: httpx.Client, owner: Tokens, name: str, pin: str, plan_id: str) -> None:
    headers = owner.headers
    member = expect_ok(api.post("/members", json={"full_name": name}, headers=headers))
    path = f"/members/{member['id']}"
    consent = {"text_version": "2026-11", "method": "paper"}
    expect_ok(api.post(f"{path}/consent", json=consent, headers=headers))
    with (FACES_DIR / "obama.jpg").open("rb") as photo:
        files = {"images": ("obama.jpg", photo, "image/jpeg")}
        expect_ok(api.post(f"{path}/faces", files=files, headers=headers))
    expect_ok(api.post(f"{path}/memberships", json={"plan_id": plan_id}, headers=headers))
    assert api.put(f"{path}/pin", json={"pin": pin}, headers=headers).status_code == 204


def test_the_kiosk_asks_for_a_pin_and_welcomes_only_once_it_matches(
    live_server: str,
    playwright: Playwright,
    api: httpx.Client,
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
    tokens_for: Callable[[User], Tokens],
    tmp_path: Path,
) -> None:
    owner = tokens_for(make_user(make_tenant(), Role.TENANT_OWNER))
    headers = owner.headers
    plan = expect_ok(
        api.post("/plans", json={"name": "Unlimited", "kind": "unlimited"}, headers=headers)
    )
    member_with_pin(api, owner, "Obama One", "1234", plan["id"])
    member_with_pin(api, owner, "Obama Two", "5678", plan["id"])
    mode = expect_ok(
        api.put("/faces/settings", json={"kiosk_mode": "face_then_pin"}, headers=headers)
    )
    assert mode["effective_kiosk_mode"] == "face_then_pin"
    kiosk_key = expect_ok(api.post("/devices", json={"name": "Door"}, headers=headers))["api_key"]
    camera = write_y4m(FACES_DIR / "obama3.jpg", tmp_path / "door.y4m")
    chromium = camera_browser(playwright, camera)
    try:
        page, errors = kiosk_page(chromium, live_server, kiosk_key)
        banner = page.locator("[data-kiosk-banner]")
        expect(banner).to_have_attribute("data-state", "pin", timeout=WAIT_MS)
        expect(banner).to_contain_text("Enter your PIN")
        expect(banner).not_to_contain_text("Obama")
        pad = page.locator("[data-kiosk-pin]")
        expect(pad).to_be_visible()
        screenshot(page, "kiosk_pin_pad")

        for digit in "5678":
            pad.get_by_role("button", name=digit, exact=True).click()
        pad.get_by_role("button", name="OK").click()
        expect(banner).to_have_attribute("data-state", "granted", timeout=WAIT_MS)
        expect(banner).to_contain_text("Welcome, Obama Two!")
        expect(pad).to_be_hidden()
        screenshot(page, "kiosk_pin_welcome")
        assert errors == []
    finally:
        chromium.close()
