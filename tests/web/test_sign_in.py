"""A new platform as its first users would use it: the super admin creates a tenant and its
owner; the owner signs in (errors in words) and reaches every page from the dashboard by
clicking, each loading without an error."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import TEST_PASSWORD
from tests.web.conftest import WAIT_MS, screenshot, wait_ready, watch
from visage.identity.models import Role, User

pytestmark = pytest.mark.browser

NAV_PAGES = [
    ("Check-ins", "Check-ins"),
    ("Members", "Members"),
    ("Plans", "Plans"),
    ("Events", "Events"),
    ("Users and roles", "Users and roles"),
    ("Kiosks", "Kiosks"),
    ("Audit log", "Audit log"),
    ("Settings", "Settings"),
]


def sign_in(page: Page, organization: str, login: str, password: str) -> None:
    page.get_by_label("Organization").fill(organization)
    page.get_by_label("Username or email").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_new_platform_signs_up_a_tenant_whose_owner_reaches_every_page(
    live_server: str,
    browser: Browser,
    make_user: Callable[..., User],
) -> None:
    admin = make_user(None, Role.SUPER_ADMIN)
    slug = f"riverside-{uuid.uuid4().hex[:6]}"
    owner_login = f"olivia-{uuid.uuid4().hex[:6]}"
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = watch(page)

    page.goto(f"{live_server}/")  # a browser at the root lands on the app, then on sign-in
    expect(page).to_have_url(f"{live_server}/app/login?next=%2Fapp%2F", timeout=WAIT_MS)
    sign_in(page, "", admin.username, "not the password")
    expect(page.locator("[data-outcome]")).to_contain_text("Invalid credentials", timeout=WAIT_MS)
    screenshot(page, "sign_in_error")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".lead")).to_contain_text("Platform administration", timeout=WAIT_MS)
    expect(page.get_by_role("navigation", name="Main")).not_to_contain_text("Members")

    page.get_by_role("link", name="Tenants", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tenants", timeout=WAIT_MS)
    wait_ready(page)
    page.get_by_text("Create a tenant").click()
    page.get_by_label("Name", exact=True).fill("Riverside Gym")
    page.get_by_label("Short name").fill(slug)
    page.get_by_role("button", name="Create tenant").click()
    row = page.get_by_role("row").filter(has_text=slug)
    row.get_by_text("Add an owner").click()
    row.get_by_label("Username").fill(owner_login)
    row.get_by_label("Email").fill(f"{owner_login}@example.com")
    row.get_by_label("Full name").fill("Olivia Owner")
    row.get_by_label("First password").fill(TEST_PASSWORD)
    row.get_by_role("button", name="Add owner").click()
    expect(row).to_contain_text("Owner added", timeout=WAIT_MS)
    screenshot(page, "tenants")
    page.get_by_role("link", name="Sign out").click()

    expect(page.locator("[data-flash]")).to_have_text("You are signed out.", timeout=WAIT_MS)
    sign_in(page, slug, owner_login, TEST_PASSWORD)
    expect(page).to_have_url(f"{live_server}/app/", timeout=WAIT_MS)
    expect(page.locator(".lead")).to_contain_text("Olivia Owner", timeout=WAIT_MS)
    expect(page.locator("#stats dl.figures")).to_contain_text("Inside now", timeout=WAIT_MS)
    screenshot(page, "dashboard")

    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Tenants")).to_have_count(0)
    for link, heading in NAV_PAGES:
        nav.get_by_role("link", name=link, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading, timeout=WAIT_MS)
        expect(page.locator(".fragment p.muted", has_text="Loading")).to_have_count(
            0, timeout=WAIT_MS
        )
        expect(page.locator("[role=alert]", has_text="Could not load")).to_have_count(0)
        screenshot(page, "page_" + link.lower().replace(" ", "_"))

    nav.get_by_role("link", name="Settings", exact=True).click()
    hours = page.locator("[data-opening-hours]")
    expect(hours.get_by_label("Time zone")).to_be_enabled(timeout=WAIT_MS)  # loaded
    hours.get_by_label("Time zone").fill("Europe/Amsterdam")
    hours.get_by_label("Monday opens").fill("06:00")
    hours.get_by_label("Monday closes").fill("22:00")
    hours.get_by_role("button", name="Save opening hours").click()
    expect(hours.locator("[data-outcome]")).to_have_text("Opening hours saved.", timeout=WAIT_MS)
    expect(hours.get_by_label("Time zone")).to_have_value("Europe/Amsterdam", timeout=WAIT_MS)
    faces = page.locator("[data-settings=faces]")
    expect(faces.get_by_label("Keep templates")).not_to_have_value("", timeout=WAIT_MS)
    faces.get_by_label("Match tolerance").fill("0.5")
    faces.get_by_role("button", name="Save").click()
    expect(faces.locator("[data-outcome]")).to_have_text("Saved.", timeout=WAIT_MS)
    screenshot(page, "settings")

    nav.get_by_role("link", name="Check-ins", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check-ins", timeout=WAIT_MS)
    wait_ready(page)  # the download button fetches with the session's token
    with page.expect_download(timeout=WAIT_MS) as csv_file:
        page.get_by_role("button", name="Download as CSV").click()
    assert csv_file.value.suggested_filename == "checkins.csv"
    assert Path(csv_file.value.path()).read_text().startswith("id,created_at,source")

    page.get_by_role("link", name="Sign out").click()
    expect(page.locator("[data-flash]")).to_have_text("You are signed out.", timeout=WAIT_MS)
    page.goto(f"{live_server}/app/members")
    expect(page).to_have_url(f"{live_server}/app/login?next=%2Fapp%2Fmembers", timeout=WAIT_MS)
    assert errors == []
