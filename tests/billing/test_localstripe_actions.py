"""What a gym owner does with a subscription, on real LocalStripe: cancel at period end (the
paid period is kept), plan change, partial refund, invoices, cancel now."""

from __future__ import annotations

import pytest
import stripe

from tests.billing.conftest import BillingGym


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

    frozen = gym.call("POST", f"{path}/freeze", 422, json={})
    assert frozen["error"]["code"] == "BILLING_006"  # LocalStripe has no pause_collection

    now = gym.call("POST", f"{path}/cancel", json={"at_period_end": False})
    assert now["status"] == "canceled"
    assert gym.front_desk(member_id)["reason"] == "EXPIRED"
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
