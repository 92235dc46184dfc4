"""What a gym owner does with a subscription, on real LocalStripe: cancel at period end (the
paid period is kept), plan change, partial refund, invoices, cancel now; plans priced through
the plan API; setup fees; one-time plans bought at the desk, and refunded by their payment."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import stripe

from tests.billing.conftest import BillingGym

DECLINED_CARD = "4000000000000341"  # attaches, fails when charged


@pytest.mark.usefixtures("webhooks_on")
def test_owner_actions_reach_stripe_and_the_door(
    billing_gym: BillingGym, stripe_client: stripe.StripeClient
) -> None:
    gym = billing_gym
    member_id = gym.member()
    billing = gym.subscribe(member_id, gym.priced_plan(), "pm_card_visa")
    subscription_id = billing["stripe_subscription_id"]
    path = f"/members/{member_id}/subscription"

    at_end = gym.call("POST", f"{path}/cancel", json={"at_period_end": True})
    assert (at_end["status"], at_end["cancel_at_period_end"]) == ("active", True)
    assert stripe_client.v1.subscriptions.retrieve(subscription_id).cancel_at_period_end
    assert gym.front_desk(member_id)["reason"] == "GRANTED"  # the paid period is kept

    other = gym.priced_plan(2900)
    changed = gym.call("POST", f"{path}/plan", json={"plan_id": other})
    assert changed["plan_id"] == other
    remote = stripe_client.v1.subscriptions.retrieve(subscription_id).to_dict()
    price_id = gym.call("GET", f"/plans/{other}/price")["stripe_price_id"]
    assert remote["items"]["data"][0]["plan"]["id"] == price_id

    invoice = changed["invoices"][0]
    refund = gym.call(
        "POST",
        f"/members/{member_id}/refunds",
        201,
        json={"invoice_id": invoice["id"], "amount_cents": 900},
    )
    assert stripe_client.v1.refunds.retrieve(refund["refund_id"]).amount == 900
    shown = gym.billing(member_id)["invoices"][0]
    assert (shown["id"], shown["amount_refunded"]) == (invoice["id"], 900)
    too_much = {"invoice_id": invoice["id"], "amount_cents": invoice["amount_paid"]}
    refused = gym.call("POST", f"/members/{member_id}/refunds", 409, json=too_much)
    assert refused["error"]["code"] == "BILLING_009"  # 900 of it is refunded already
    assert refused["error"]["details"] == {"refundable_cents": invoice["amount_paid"] - 900}
    assert f"At most {invoice['amount_paid'] - 900} cents" in refused["error"]["message"]
    tab = f"/app/fragments/members/{member_id}/billing"
    french = gym.page(tab, headers={"Accept-Language": "fr"})
    assert re.search(r"<span data-refunded>\(9,00\s€ remboursés\)</span>", french), french

    frozen = gym.call("POST", f"{path}/freeze", 422, json={})
    assert frozen["error"]["code"] == "BILLING_006"  # LocalStripe has no pause_collection

    now = gym.call("POST", f"{path}/cancel", json={"at_period_end": False})
    assert now["status"] == "canceled"
    assert gym.front_desk(member_id)["reason"] == "EXPIRED"
    assert "Renews" not in gym.page(tab)  # a canceled subscription renews nothing
    gym.call("POST", f"{path}/cancel", 404, json={})


def test_subscribing_needs_a_priced_plan_and_a_known_member(billing_gym: BillingGym) -> None:
    gym = billing_gym
    plan = gym.call("POST", "/plans", 201, json={"name": "Unpriced", "kind": "unlimited"})
    member_id = gym.member()
    body = {"plan_id": plan["id"], "payment_method": "pm_card_visa"}
    refused = gym.call("POST", f"/members/{member_id}/subscriptions", 409, json=body)
    assert refused["error"]["code"] == "BILLING_002"
    unknown = "00000000-0000-0000-0000-000000000000"
    body["plan_id"] = gym.priced_plan()
    gym.call("POST", f"/members/{unknown}/subscriptions", 404, json=body)
    bad_method = {"plan_id": body["plan_id"], "payment_method": "4242424242424242"}
    gym.call("POST", f"/members/{member_id}/subscriptions", 422, json=bad_method)
    assert gym.billing(member_id)["status"] == "none"


def test_a_plan_carries_its_price_and_stripe_follows_each_change(
    billing_gym: BillingGym, stripe_client: stripe.StripeClient
) -> None:
    gym = billing_gym
    body = {
        "name": "Gold yearly",
        "kind": "unlimited",
        "price_cents": 39000,
        "currency": "EUR",
        "billing_interval": "year",
        "trial_days": 7,
        "setup_fee_cents": 2500,
    }
    plan = gym.call("POST", "/plans", 201, json=body)
    assert (plan["price_cents"], plan["currency"], plan["billing_interval"]) == (
        39000,
        "eur",
        "year",
    )
    assert (plan["trial_days"], plan["setup_fee_cents"]) == (7, 2500)
    remote = stripe_client.v1.plans.retrieve(plan["stripe_price_id"])  # LocalStripe: a Plan
    assert (remote.amount, remote.interval, remote.product) == (
        39000,
        "year",
        plan["stripe_product_id"],
    )
    listed = {p["id"]: p for p in gym.call("GET", "/plans")}
    assert listed[plan["id"]]["price_cents"] == 39000
    assert (
        gym.call("GET", f"/plans/{plan['id']}/price")["stripe_price_id"] == plan["stripe_price_id"]
    )

    path = f"/plans/{plan['id']}"
    cheaper = gym.call("PATCH", path, json={"price_cents": 29000})
    assert cheaper["stripe_price_id"] != plan["stripe_price_id"]
    assert cheaper["stripe_product_id"] == plan["stripe_product_id"]
    assert (cheaper["trial_days"], cheaper["billing_interval"]) == (7, "year")  # kept
    assert stripe_client.v1.plans.retrieve(cheaper["stripe_price_id"]).amount == 29000

    renamed = gym.call("PATCH", path, json={"name": "Gold (yearly)", "trial_days": None})
    assert renamed["stripe_price_id"] == cheaper["stripe_price_id"]  # same terms, same price
    assert renamed["trial_days"] is None
    assert stripe_client.v1.products.retrieve(plan["stripe_product_id"]).name == "Gold (yearly)"
    assert gym.call("GET", path)["price_cents"] == 29000

    unpriced = gym.call("POST", "/plans", 201, json={"name": "Desk only", "kind": "unlimited"})
    assert (unpriced["price_cents"], unpriced["stripe_price_id"]) == (None, None)
    no_amount = {"name": "Half", "kind": "unlimited", "billing_interval": "year"}
    assert gym.call("POST", "/plans", 422, json=no_amount)["error"]["code"] == "VALIDATION_ERROR"
    once_with_trial = {"billing_interval": "one_time", "trial_days": 3}
    refused = gym.call(
        "PATCH", f"/plans/{unpriced['id']}", 422, json={"price_cents": 1, **once_with_trial}
    )
    assert "one-time" in refused["error"]["message"]
    assert gym.call("GET", f"/plans/{unpriced['id']}")["price_cents"] is None


@pytest.mark.usefixtures("webhooks_on")
def test_a_setup_fee_goes_on_the_first_invoice_only(billing_gym: BillingGym) -> None:
    member_id, _ = billing_gym.subscribed_member(setup_fee_cents=1500)
    invoices = billing_gym.billing(member_id)["invoices"]
    assert [(i["status"], i["amount_paid"]) for i in invoices] == [("paid", 4900 + 1500)]


@pytest.mark.usefixtures("webhooks_on")
def test_a_one_time_plan_is_bought_once_at_the_desk_for_its_term(
    billing_gym: BillingGym, stripe_client: stripe.StripeClient
) -> None:
    gym = billing_gym
    plan_id = gym.priced_plan(
        2500, kind="fixed_term", duration_days=10, billing_interval="one_time"
    )
    member_id = gym.member()
    bought = gym.subscribe(member_id, plan_id, "pm_card_visa")
    assert bought["status"] == "none"  # no subscription: one charge
    [purchase] = bought["purchases"]
    assert (purchase["plan_id"], purchase["amount_cents"]) == (plan_id, 2500)
    # LocalStripe cannot invoice without a subscription: the charge is a PaymentIntent there
    # (an invoice on Stripe: test_stripe_contract.py).
    intent = stripe_client.v1.payment_intents.retrieve(purchase["stripe_reference"])
    assert (intent.status, intent.amount, intent.metadata["visage_plan"]) == (
        "succeeded",
        2500,
        plan_id,
    )
    [membership] = gym.call("GET", f"/members/{member_id}/memberships")
    today = datetime.now(UTC).date()
    assert membership["ends_on"] == str(today + timedelta(days=9))
    assert gym.front_desk(member_id)["reason"] == "GRANTED"

    declined = gym.member()
    card = {"number": DECLINED_CARD, "exp_month": 12, "exp_year": 2031, "cvc": "123"}
    method = stripe_client.v1.payment_methods.create({"type": "card", "card": card})
    body = {"plan_id": plan_id, "payment_method": method.id}
    refused = gym.call("POST", f"/members/{declined}/subscriptions", 402, json=body)
    assert refused["error"]["code"] == "BILLING_004"
    assert gym.billing(declined)["purchases"] == []
    assert gym.call("GET", f"/members/{declined}/memberships") == []
    assert gym.front_desk(declined)["reason"] == "NO_MEMBERSHIP"


@pytest.mark.usefixtures("webhooks_on")
def test_a_member_buys_a_one_time_plan_through_the_card_link(
    billing_gym: BillingGym, stripe_client: stripe.StripeClient
) -> None:
    gym = billing_gym
    plan_id = gym.priced_plan(1500, kind="visit_pack", visits=5, billing_interval="one_time")
    member_id = gym.member()
    url = gym.call("POST", f"/members/{member_id}/checkout", json={"plan_id": plan_id})["url"]
    page = gym.api.get(url)  # the card page (LocalStripe has no Checkout)
    assert page.status_code == 200
    assert ">Pay</button>" in page.text
    secret = page.text.split('data-client-secret="', 1)[1].split('"', 1)[0]
    # What LocalStripe's Stripe.js does on the page: confirm the SetupIntent with the card.
    stripe_client.v1.setup_intents.confirm(
        secret.split("_secret_")[0], {"payment_method": "pm_card_visa"}
    )
    token = url.rsplit("/", 1)[1]
    bought = gym.call("POST", f"/payments/card/{token}", 201)
    assert bought["status"] == "none"
    [purchase] = bought["purchases"]
    assert (purchase["plan_id"], purchase["amount_cents"]) == (plan_id, 1500)
    [membership] = gym.call("GET", f"/members/{member_id}/memberships")
    assert membership["visits_remaining"] == 5
    assert gym.front_desk(member_id)["reason"] == "GRANTED"


@pytest.mark.usefixtures("webhooks_on")
def test_a_one_time_purchase_is_refunded_by_its_payment_and_in_full_ends_it(
    billing_gym: BillingGym, stripe_client: stripe.StripeClient
) -> None:
    gym = billing_gym
    plan_id = gym.priced_plan(2000, kind="visit_pack", visits=8, billing_interval="one_time")
    member_id = gym.member()
    [purchase] = gym.subscribe(member_id, plan_id, "pm_card_visa")["purchases"]
    intent = purchase["stripe_reference"]  # LocalStripe: a PaymentIntent, no invoice
    path = f"/members/{member_id}/refunds"

    part = gym.call("POST", path, 201, json={"payment_intent_id": intent, "amount_cents": 500})
    assert (part["invoice_id"], part["payment_intent_id"], part["amount_cents"]) == (
        None,
        intent,
        500,
    )
    assert stripe_client.v1.refunds.retrieve(part["refund_id"]).amount == 500
    assert gym.front_desk(member_id)["reason"] == "GRANTED"  # a partial refund keeps access
    [shown] = gym.billing(member_id)["purchases"]
    assert shown["payment_intent_id"] == intent  # the desk refunds it by this, not an invoice
    assert (shown["amount_cents"], shown["amount_refunded_cents"], shown["refundable_cents"]) == (
        2000,
        500,
        1500,
    )
    too_much = gym.call("POST", path, 409, json={"payment_intent_id": intent, "amount_cents": 1600})
    assert too_much["error"]["code"] == "BILLING_009"

    other = gym.member()
    not_theirs = gym.call(
        "POST", f"/members/{other}/refunds", 404, json={"payment_intent_id": intent}
    )
    assert not_theirs["error"]["code"] == "BILLING_008"
    both = {"payment_intent_id": intent, "invoice_id": "in_123"}
    assert gym.call("POST", path, 422, json=both)["error"]["code"] == "VALIDATION_ERROR"

    rest = gym.call("POST", path, 201, json={"payment_intent_id": intent})
    assert rest["amount_cents"] == 1500
    refunds = stripe_client.v1.refunds.list({"payment_intent": intent}).data
    assert sorted(refund.amount for refund in refunds) == [500, 1500]
    refused = gym.front_desk(member_id)
    assert (refused["allowed"], refused["reason"]) == (False, "EXPIRED")
    [membership] = gym.call("GET", f"/members/{member_id}/memberships")
    assert membership["payment_status"] == "lapsed"
    [shown] = gym.billing(member_id)["purchases"]
    assert (shown["amount_refunded_cents"], shown["refundable_cents"]) == (2000, 0)
    gym.call("POST", path, 409, json={"payment_intent_id": intent})  # nothing left to refund
