"""A new user connects the gym's WhatsApp from the web page (QR shown until WORKING), writes a
template, previews who gets it and who is skipped, sends it and sees the ticks turn to read;
then sends to an event's attendees."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.conftest import TenantOwner
from tests.contracts.waha import WahaContract
from tests.messaging.conftest import (
    configure,
    new_event,
    new_member,
    new_phone,
    ok,
    register_attendee,
    sent_to,
    set_messaging,
)
from tests.web.conftest import (
    WAIT_MS,
    Tokens,
    launch_chromium,
    open_ready,
    screenshot,
    signed_in,
    tokens_for,
    watch,
)

pytestmark = pytest.mark.browser

__all__ = ["tokens_for"]


@pytest.fixture
def chromium() -> Iterator[Browser]:
    """A browser of this test's own, closed with it: tests/web opens its own Playwright in the
    same thread, and two sync Playwrights cannot be open there at once."""
    with sync_playwright() as driver:
        browser = launch_chromium(driver)
        yield browser
        browser.close()


def _member(api: httpx.Client, owner: TenantOwner, name: str, *, whatsapp: bool) -> dict[str, Any]:
    phone = new_phone()
    member = new_member(api, owner.headers, full_name=name, phone=f"+{phone}")
    set_messaging(api, owner.headers, member, whatsapp=whatsapp)
    return {**member, "digits": phone}


def test_connect_and_send_a_template(
    api: httpx.Client,
    api_url: str,
    waha: WahaContract,
    chromium: Browser,
    make_tenant_owner: Callable[[], TenantOwner],
    tokens_for: Callable[..., Tokens],
    process: Callable[[], None],
) -> None:
    owner = make_tenant_owner()
    configure(api, owner.headers, quiet_start_hour=0, quiet_end_hour=0)
    ada = _member(api, owner, "Ada Lovelace", whatsapp=True)
    _member(api, owner, "Bob Nobody", whatsapp=False)
    context = signed_in(chromium.new_context(base_url=api_url), tokens_for(owner.user))
    page = context.new_page()
    errors = watch(page)
    open_ready(page, "/app/whatsapp")

    page.get_by_role("button", name="Connect WhatsApp").click()
    qr = page.locator("img[data-qr]")
    expect(qr).to_be_visible(timeout=WAIT_MS)
    screenshot(page, "whatsapp-qr")
    [session] = ok(api.get("/api/v1/messaging/sessions", headers=owner.headers))["items"]
    waha.scan(session["name"])
    expect(page.locator(f"[data-session='{session['name']}'] [data-status]")).to_have_text(
        "WORKING", timeout=WAIT_MS
    )
    expect(qr).to_have_count(0)
    waha.wait_all_delivered()
    process()

    page.get_by_text("Templates").click()
    page.get_by_label("Name").fill("class")
    page.locator("#wa-template-body").fill("Hi {first_name}, class at {time}!")
    page.get_by_role("button", name="Save template").click()
    expect(page.locator("#wa-template-outcome")).to_have_text("Template saved.")

    page.get_by_label("To").select_option("active")
    page.get_by_label("Template", exact=True).select_option(label="class")
    page.get_by_label("Template values").fill("time=7 pm")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#wa-recipients")).to_have_text("Ada Lovelace: “Hi Ada, class at 7 pm!”")
    expect(page.locator("#wa-skipped")).to_contain_text("Bob Nobody — This member has not opted in")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#wa-send-outcome")).to_have_text("Queued 1, skipped 1.")

    process()
    [sent] = sent_to(waha, ada["digits"])
    assert sent["text"] == "Hi Ada, class at 7 pm!"
    page.get_by_label("Member", exact=True).last.select_option(label="Ada Lovelace")
    ticks = page.locator("#wa-conversation [data-ticks]")
    expect(ticks).to_have_attribute("data-ticks", "sent", timeout=WAIT_MS)
    waha.wait_delivered(waha.ack(session["name"], sent["id"], 3))
    process()
    expect(ticks).to_have_attribute("data-ticks", "read", timeout=WAIT_MS)
    screenshot(page, "whatsapp-conversation")

    # An event's attendees: the one who chose WhatsApp gets it, the one who chose email is
    # skipped in the preview.
    event = new_event(api, owner.headers, "Summer run", event_date="2026-12-01")
    runner_phone = new_phone()
    register_attendee(api, event, "Rita Runner", whatsapp=runner_phone)
    register_attendee(api, event, "Emil Email")
    page.reload()
    page.get_by_label("To").select_option("event_attendees")
    page.get_by_label("Event", exact=True).select_option(label="Summer run (2026-12-01)")
    page.get_by_label("Template", exact=True).select_option(label="(no template: write the text)")
    page.get_by_role("button", name="Preview").click()
    # The refusal names the field by its label, as the page shows it.
    expect(page.locator("#wa-send-outcome")).to_contain_text("Text: ", timeout=WAIT_MS)
    page.locator("#wa-text").fill("Your race photos are online")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#wa-recipients")).to_have_text(
        "Rita Runner: “Your race photos are online”"
    )
    expect(page.locator("#wa-skipped")).to_contain_text("Emil Email — ")
    screenshot(page, "whatsapp-event-attendees")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#wa-send-outcome")).to_have_text("Queued 1, skipped 1.")
    process()
    assert [item["text"] for item in sent_to(waha, runner_phone)] == ["Your race photos are online"]
    assert errors == []
    context.close()
