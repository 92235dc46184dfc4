"""The API tokens page: a user creates a token, sees it once, uses it from a script, revokes it."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.web.conftest import WAIT_MS, Tokens, open_ready, screenshot, signed_in, watch
from visage.identity.models import Role, Tenant, User

pytestmark = pytest.mark.browser


def test_a_user_creates_uses_and_revokes_a_personal_api_token(
    browser: Browser,
    live_server: str,
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
    tokens_for: Callable[[User], Tokens],
) -> None:
    staff = make_user(make_tenant(), Role.STAFF)
    context = signed_in(
        browser.new_context(viewport={"width": 1280, "height": 900}), tokens_for(staff)
    )
    page = context.new_page()
    errors = watch(page)

    open_ready(page, f"{live_server}/app/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API tokens", timeout=WAIT_MS)
    expect(page.locator("#api-tokens")).to_contain_text("No API token yet", timeout=WAIT_MS)
    page.get_by_label("Name").fill("Nightly export")
    page.get_by_label("Expires after (days)").fill("7")
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#new-token [data-field=token]")
    expect(secret).to_contain_text("vst_", timeout=WAIT_MS)
    token = secret.inner_text().strip()
    expect(page.locator("#api-tokens")).to_contain_text("Nightly export", timeout=WAIT_MS)
    screenshot(page, "api_tokens")

    me = httpx.get(
        f"{live_server}/api/v1/auth/me", headers={"Authorization": f"Token {token}"}, timeout=60
    )
    assert (me.status_code, me.json()["username"]) == (200, staff.username)

    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke").click()
    expect(page.locator("#api-tokens")).to_contain_text("Revoked", timeout=WAIT_MS)
    after = httpx.get(
        f"{live_server}/api/v1/auth/me", headers={"Authorization": f"Token {token}"}, timeout=60
    )
    assert after.status_code == 401
    assert errors == []
    context.close()
