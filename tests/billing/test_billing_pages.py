"""The billing pages in Chromium, on LocalStripe: an owner prices a plan and subscribes a
member with a test card at the desk; a member pays through the card link (LocalStripe's
Stripe.js collects the card), sees it on their own page and replaces the card from there; the
desk refunds a one-time purchase from the member's page until its membership ends."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
import stripe
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select

from tests.billing.conftest import BillingGym
from tests.web.conftest import (
    WAIT_MS,
    Tokens,
    launch_chromium,
    open_ready,
    screenshot,
    signed_in,
    watch,
)
from visage.billing.models import BillingCustomer
from visage.core.db import Database
from visage.identity.models import Role, User
from visage.members.models import Member

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("webhooks_on")]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for this module only: a session-wide Playwright keeps an event loop running in
    the main thread, which later tests' own `asyncio.run` cannot share."""
    with sync_playwright() as driver:
        chromium = launch_chromium(driver)
        yield chromium
        chromium.close()


def enter_card(page: Page, number: str) -> None:
    """LocalStripe's Stripe.js card element: plain inputs named by their placeholders."""
    card = page.locator("[data-card-element]")
    card.get_by_placeholder("number").fill(number)
    card.get_by_placeholder("exp_month").fill("12")
    card.get_by_placeholder("exp_year").fill("31")
    card.get_by_placeholder("cvc").fill("123")
    card.get_by_placeholder("postal_code").fill("75001")


def test_owner_prices_a_plan_and_subscribes_a_member_at_the_desk(
    billing_gym: BillingGym,
    visage_server: str,
    browser: Browser,
    tokens_for: Callable[[User], Tokens],
) -> None:
    plan = billing_gym.call(
        "POST", "/plans", 201, json={"name": f"Gold {uuid.uuid4().hex[:4]}", "kind": "unlimited"}
    )
    member_id = billing_gym.member("Grace Hopper")
    context = signed_in(
        browser.new_context(viewport={"width": 1280, "height": 1000}),
        tokens_for(billing_gym.owner.user),
    )
    page = context.new_page()
    errors = watch(page)

    # The plan form carries the price: Stripe gets the product and price as the plan is made.
    open_ready(page, f"{visage_server}/app/plans")
    page.get_by_text("Create a plan").click()
    page.get_by_label("Name").fill("Yearly gold")
    page.get_by_label("Price (cents)").fill("39000")
    page.get_by_label("Billed").select_option(value="year")
    page.get_by_label("Trial days").fill("7")
    page.get_by_role("button", name="Create plan").click()
    expect(page.locator("#plans")).to_contain_text("€390.00 (Year), 7-day trial", timeout=WAIT_MS)
    yearly = next(p for p in billing_gym.call("GET", "/plans") if p["name"] == "Yearly gold")
    assert (yearly["billing_interval"], yearly["trial_days"]) == ("year", 7)
    assert yearly["stripe_price_id"]

    open_ready(page, f"{visage_server}/app/billing")
    expect(page.locator("[data-webhook-url]")).to_contain_text(
        "/api/v1/payments/webhook/", timeout=WAIT_MS
    )
    expect(page.locator("[data-stripe-mode]")).to_have_text("Localstripe")
    page.get_by_label("Plan", exact=True).select_option(value=plan["id"])
    page.get_by_label("Price (cents)").fill("3900")
    page.get_by_role("button", name="Save price").click()
    expect(page.locator("#billing-overview")).to_contain_text("€39.00", timeout=WAIT_MS)

    open_ready(page, f"{visage_server}/app/members/{member_id}")
    page.get_by_text("Subscribe with a card").click()
    page.locator("#sub-plan").select_option(value=plan["id"])
    page.get_by_role("button", name="Subscribe", exact=True).click()
    expect(page.locator("[data-billing-status]")).to_have_text("Active", timeout=WAIT_MS)
    expect(page.locator("[data-invoices]")).to_contain_text("€39.00")
    screenshot(page, "billing-member-tab")
    assert errors == []


def test_member_pays_through_the_card_link_and_sees_it_on_their_page(
    billing_gym: BillingGym,
    visage_server: str,
    browser: Browser,
    database: Database,
    make_user: Callable[..., User],
    tokens_for: Callable[[User], Tokens],
    stripe_client: stripe.StripeClient,
) -> None:
    plan_id = billing_gym.priced_plan(2500)
    member_id = billing_gym.member("Ada Lovelace")
    url = billing_gym.call("POST", f"/members/{member_id}/checkout", json={"plan_id": plan_id})[
        "url"
    ]
    assert url.startswith(f"{visage_server}/billing/card/")

    page = browser.new_context().new_page()
    errors = watch(page)
    page.goto(url)
    enter_card(page, "4242424242424242")
    page.get_by_role("button", name="Pay and subscribe").click()
    expect(page.locator("[data-outcome]")).to_have_text("Subscribed: welcome!", timeout=WAIT_MS)
    assert errors == []
    assert billing_gym.billing(member_id)["status"] == "active"
    assert billing_gym.front_desk(member_id)["reason"] == "GRANTED"

    member_user = make_user(billing_gym.owner.tenant, Role.MEMBER)
    with database.session() as session:
        session.get_one(Member, member_id).user_id = member_user.id
    mine = signed_in(browser.new_context(), tokens_for(member_user)).new_page()
    mine.goto(f"{visage_server}/app/me")
    expect(mine.locator("[data-billing-status]")).to_have_text("Active", timeout=WAIT_MS)
    expect(mine.locator("[data-invoices]")).to_contain_text("€25.00")
    expect(mine.locator("#billing button")).to_have_count(0)  # no refund or cancel for members

    with database.session() as session:
        customer_id = session.scalar(
            select(BillingCustomer.stripe_customer_id).where(BillingCustomer.member_id == member_id)
        )
    before = stripe_client.v1.customers.retrieve(
        customer_id
    ).invoice_settings.default_payment_method
    mine.get_by_role("button", name="Update my card").click()
    enter_card(mine, "5555555555554444")
    mine.get_by_role("button", name="Save my card").click()
    expect(mine.locator("[data-outcome]")).to_have_text(
        "Card saved: your next payments use it.", timeout=WAIT_MS
    )
    after = stripe_client.v1.customers.retrieve(customer_id).invoice_settings.default_payment_method
    assert after != before
    assert stripe_client.v1.payment_methods.retrieve(after).card.last4 == "4444"


def test_desk_refunds_a_purchase_in_part_then_in_full_and_its_membership_ends(
    billing_gym: BillingGym,
    visage_server: str,
    browser: Browser,
    database: Database,
    make_user: Callable[..., User],
    tokens_for: Callable[[User], Tokens],
) -> None:
    """A one-time purchase on LocalStripe has no invoice: its own row offers the refund."""
    plan_id = billing_gym.priced_plan(
        2000, kind="fixed_term", duration_days=30, billing_interval="one_time"
    )
    member_id = billing_gym.member("Katherine Johnson")
    billing_gym.subscribe(member_id, plan_id, "pm_card_visa")
    page = signed_in(browser.new_context(), tokens_for(billing_gym.owner.user)).new_page()
    errors = watch(page)
    page.on("dialog", lambda dialog: dialog.accept())  # the confirm step
    open_ready(page, f"{visage_server}/app/members/{member_id}")
    purchases = page.locator("[data-purchases]")
    expect(page.locator("#memberships")).to_contain_text("Valid", timeout=WAIT_MS)

    purchases.locator("summary", has_text="Refund").click()
    amount = purchases.get_by_label("Amount to refund (cents)")
    expect(amount).to_have_value("2000")  # in full unless the desk says less
    screenshot(page, "billing-purchase-refund")
    amount.fill("500")
    purchases.locator("form").get_by_role("button", name="Refund").click()
    expect(purchases.locator("[data-refunded]")).to_have_text("(refunded €5.00)", timeout=WAIT_MS)
    expect(page.locator("#memberships")).to_contain_text("Valid")

    member_user = make_user(billing_gym.owner.tenant, Role.MEMBER)
    with database.session() as session:
        session.get_one(Member, member_id).user_id = member_user.id
    mine = signed_in(browser.new_context(), tokens_for(member_user)).new_page()
    open_ready(mine, f"{visage_server}/app/me")
    expect(mine.locator("[data-purchases] [data-refunded]")).to_have_text(
        "(refunded €5.00)", timeout=WAIT_MS
    )
    expect(mine.locator("#billing button, #billing details")).to_have_count(0)

    purchases.locator("summary", has_text="Refund").click()
    expect(amount).to_have_value("1500")  # what is left
    purchases.locator("form").get_by_role("button", name="Refund").click()
    expect(purchases.locator("[data-refunded]")).to_have_text("(refunded €20.00)", timeout=WAIT_MS)
    expect(purchases.locator("details")).to_have_count(0)  # nothing left to refund
    expect(page.locator("#memberships .badge.denied")).to_be_visible(timeout=WAIT_MS)
    refused = billing_gym.front_desk(member_id)
    assert (refused["allowed"], refused["reason"]) == (False, "EXPIRED")
    assert errors == []
