"""Social publishing in the browser, as a new club owner would: connect X through its OAuth
redirect, open an event's gallery, pick a photo, see the blurred preview and the counted
length, take a suggested caption, publish, and watch the post reach `published`."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.contracts.x import XState
from tests.events.conftest import compose
from tests.images import face_bytes
from tests.web.conftest import (
    WAIT_MS,
    Tokens,
    expect_ok,
    open_ready,
    screenshot,
    signed_in,
    watch,
)
from visage.identity.models import Role, Tenant, User

pytestmark = pytest.mark.browser


def test_from_an_event_gallery_to_a_published_post(
    live_server: str,
    browser: Browser,
    x_state: XState,
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
    tokens_for: Callable[[User], Tokens],
) -> None:
    owner = tokens_for(make_user(make_tenant(), Role.TENANT_OWNER))
    with httpx.Client(base_url=f"{live_server}/api/v1", timeout=120, headers=owner.headers) as api:
        event = expect_ok(
            api.post(
                "/events",
                json={
                    "name": "Club race",
                    "slug": f"race-{uuid.uuid4().hex[:8]}",
                    "event_date": date.today().isoformat(),
                },
            )
        )
        member = expect_ok(api.post("/members", json={"full_name": "Barack Obama"}))
        expect_ok(
            api.post(
                f"/members/{member['id']}/consent", json={"text_version": "v1", "method": "web"}
            )
        )
        expect_ok(
            api.post(
                f"/members/{member['id']}/faces",
                files=[("images", ("o.jpg", face_bytes("obama.jpg"), "image/jpeg"))],
            )
        )
        expect_ok(api.put(f"/members/{member['id']}/publicity", json={"consent": True}))
        expect_ok(
            api.post(
                f"/events/{event['id']}/photos",
                files=[
                    ("files", ("finish-line.jpg", compose("obama2.jpg", "biden.jpg"), "image/jpeg"))
                ],
            )
        )

    context = signed_in(browser.new_context(base_url=live_server), owner)
    page = context.new_page()
    errors = watch(page)
    open_ready(page, "/app/publishing")
    expect(page.locator("[data-posts]")).to_have_text("No posts yet.", timeout=WAIT_MS)
    page.get_by_role("button", name="X", exact=True).click()
    expect(page.get_by_text("X connected.")).to_be_visible(timeout=WAIT_MS)
    account_row = page.locator("[data-account='x']")
    expect(account_row).to_contain_text("clubvisage")
    expect(account_row).to_contain_text("ACTIVE")

    open_ready(page, f"/app/events/{event['id']}")
    page.get_by_role("link", name="Post highlights").click()
    page.locator("[data-photo-choice]").first.check(timeout=WAIT_MS)
    page.get_by_label("X · clubvisage").check()
    page.get_by_role("button", name="Suggest a caption").click()
    expect(page.locator("[data-ai-outcome]")).to_contain_text("template", timeout=WAIT_MS)
    caption = page.get_by_label("Post text").input_value()
    assert "Club race" in caption
    text = f"{caption} {uuid.uuid4().hex[:4]}"
    page.get_by_label("Post text").fill(text)
    expect(page.locator("[data-counted-length='x']")).to_contain_text(
        f"{len(text)} / 280", timeout=WAIT_MS
    )
    preview = page.locator("[data-preview='x'] img[data-faces-blurred]")
    expect(preview).to_have_attribute("data-faces-blurred", "1", timeout=WAIT_MS)
    screenshot(page, "publishing-composer")

    page.get_by_role("button", name="Publish").click()
    page.wait_for_url("**/app/publishing", timeout=WAIT_MS)
    row = page.locator("[data-post]").filter(has_text=text)
    expect(row.locator("[data-post-status]")).to_have_text("published", timeout=WAIT_MS)
    screenshot(page, "publishing-posts")
    assert errors == []
    (tweet,) = [t for t in x_state.tweets if t["text"] == text]
    assert len(x_state.media_of(tweet)) == 1
    context.close()
