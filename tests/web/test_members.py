"""A front desk adds a member, records consent and enrolls face photos from files (the API's
refusal of a photo without a face is shown in words next to the picture), then changes its own
password."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, expect

from tests.conftest import TEST_PASSWORD
from tests.images import FACES_DIR
from tests.web.conftest import (
    WAIT_MS,
    Tokens,
    open_ready,
    screenshot,
    signed_in,
    wait_ready,
    watch,
)
from visage.identity.models import Role, Tenant, User

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a brand new passphrase for the desk"


def test_add_member_record_consent_and_enroll_from_files(
    live_server: str,
    browser: Browser,
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
    tokens_for: Callable[[User], Tokens],
    tmp_path: Path,
) -> None:
    tenant = make_tenant()
    staff = make_user(tenant, Role.STAFF)
    context = signed_in(
        browser.new_context(viewport={"width": 1280, "height": 1000}), tokens_for(staff)
    )
    page = context.new_page()
    errors = watch(page)
    no_face = tmp_path / "wall.jpg"
    Image.new("RGB", (400, 400), (128, 128, 128)).save(no_face)

    open_ready(page, f"{live_server}/app/members")
    page.get_by_text("Add a member").click()
    page.get_by_label("Full name").fill("Barack Obama")
    page.get_by_label("Email").fill("barack@example.com")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Barack Obama", timeout=WAIT_MS)

    page.get_by_label("The member has read this text and agrees").check()
    page.get_by_role("button", name="Record consent").click()
    expect(page.locator("#member")).to_contain_text("Given", timeout=WAIT_MS)
    expect(page.locator("#consent-form")).to_be_hidden()

    page.get_by_text("Edit details").click()
    page.get_by_label("Phone").fill("+1 202 456 1111")
    page.get_by_role("button", name="Save details").click()
    expect(page.locator("#member dl")).to_contain_text("+1 202 456 1111", timeout=WAIT_MS)

    picture_answer = page.locator("[data-enroll-outcome]")
    page.get_by_label("From a file").set_input_files(no_face)
    expect(picture_answer).to_contain_text("No face", timeout=WAIT_MS)
    screenshot(page, "enroll_no_face")

    page.get_by_label("From a file").set_input_files(FACES_DIR / "obama.jpg")
    expect(picture_answer).to_contain_text("Face added", timeout=WAIT_MS)
    page.get_by_label("From a file").set_input_files(FACES_DIR / "obama2.jpg")
    expect(page.locator("[data-face-count-text]")).to_have_text("2", timeout=WAIT_MS)
    expect(page.locator("[data-templates] img[src^='blob:']")).to_have_count(2)
    screenshot(page, "member_enrolled")

    open_ready(page, f"{live_server}/app/members")
    page.get_by_label("Search members").fill("obama")
    row = page.get_by_role("row", name="Barack Obama")
    expect(row).to_contain_text("2 photos", timeout=WAIT_MS)

    page.get_by_role("link", name="my account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My account", timeout=WAIT_MS)
    wait_ready(page)  # the password form's address names the user
    page.get_by_label("Current password").fill(TEST_PASSWORD)
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_label("Type it again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("[data-outcome]")).to_contain_text("Password changed", timeout=WAIT_MS)
    login = {"username": staff.username, "tenant": tenant.slug, "password": NEW_PASSWORD}
    assert httpx.post(f"{live_server}/api/v1/auth/login", json=login).status_code == 200
    assert errors == []
    context.close()
