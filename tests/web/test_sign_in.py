"""Signing in as a new owner would: errors in words, then every page reachable from the
dashboard by clicking, each loading without an error."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, expect

from tests.conftest import TEST_PASSWORD
from tests.web.conftest import WAIT_MS, screenshot, watch
from visage.identity.models import Role, Tenant, User

pytestmark = pytest.mark.browser

NAV_PAGES = [
    ("Check-ins", "Check-ins"),
    ("Members", "Members"),
    ("Plans", "Plans"),
    ("Events", "Events"),
    ("Users and roles", "Users and roles"),
    ("Kiosks", "Kiosks"),
    ("Audit log", "Audit log"),
]


def test_sign_in_then_every_page_is_reachable_from_the_dashboard(
    live_server: str,
    browser: Browser,
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
) -> None:
    tenant = make_tenant("Riverside Gym")
    owner = make_user(tenant, Role.TENANT_OWNER, full_name="Olivia Owner")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = watch(page)

    page.goto(f"{live_server}/")  # a browser at the root lands on the app, then on sign-in
    expect(page).to_have_url(f"{live_server}/app/login?next=%2Fapp%2F", timeout=WAIT_MS)
    page.get_by_label("Organization").fill(tenant.slug)
    page.get_by_label("Username or email").fill(owner.username)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("[data-outcome]")).to_contain_text("Invalid credentials", timeout=WAIT_MS)
    screenshot(page, "sign_in_error")

    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server}/app/", timeout=WAIT_MS)
    expect(page.locator(".lead")).to_contain_text("Olivia Owner", timeout=WAIT_MS)
    expect(page.locator("#stats dl.figures")).to_contain_text("Inside now", timeout=WAIT_MS)
    screenshot(page, "dashboard")

    nav = page.get_by_role("navigation", name="Main")
    for link, heading in NAV_PAGES:
        nav.get_by_role("link", name=link, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading, timeout=WAIT_MS)
        expect(page.locator(".fragment p.muted", has_text="Loading")).to_have_count(
            0, timeout=WAIT_MS
        )
        expect(page.locator("[role=alert]", has_text="Could not load")).to_have_count(0)
        screenshot(page, "page_" + link.lower().replace(" ", "_"))

    page.get_by_role("link", name="Sign out").click()
    expect(page.locator("[data-flash]")).to_have_text("You are signed out.", timeout=WAIT_MS)
    page.goto(f"{live_server}/app/members")
    expect(page).to_have_url(f"{live_server}/app/login?next=%2Fapp%2Fmembers", timeout=WAIT_MS)
    assert errors == []
