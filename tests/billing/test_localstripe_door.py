"""What Stripe knows decides the door: real LocalStripe, real signed webhooks, the running
service and its worker, the kiosk's face check-in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from typing import Any

import pytest
import stripe
from sqlalchemy import func, select, text

from tests.billing.conftest import BillingGym, events_processed, wait_until
from visage.billing.models import WebhookEvent
from visage.core.db import Database
from visage.identity.models import AuditEvent

DECLINED_CARD = "4000000000000341"  # attaches, fails when charged (LocalStripe and Stripe)


def signed(payload: bytes, secret: str, *, timestamp: int | None = None) -> dict[str, str]:
    header = stripe.WebhookSignature.generate_signature_header(
        payload.decode(), secret, timestamp=timestamp
    )
    return {"Stripe-Signature": header, "Content-Type": "application/json"}


def event_body(event_type: str, obj: dict[str, Any], *, age_seconds: int = 0) -> tuple[str, bytes]:
    """A Stripe event (its id and JSON body) carrying `obj`, as Stripe would post it."""
    event_id = f"evt_{uuid.uuid4().hex}"
    event = {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": int(time.time()) - age_seconds,
        "data": {"object": obj},
    }
    return event_id, json.dumps(event).encode()


@pytest.mark.usefixtures("webhooks_on")
def test_visa_subscriber_gets_in_by_face_until_stripe_cancels(
    billing_gym: BillingGym, stripe_client: stripe.StripeClient
) -> None:
    plan_id = billing_gym.priced_plan()
    member_id = billing_gym.member("Barack Obama", face=True)

    subscribed = billing_gym.subscribe(member_id, plan_id, "pm_card_visa")
    assert subscribed["status"] == "active"
    assert subscribed["plan_id"] == plan_id
    assert subscribed["current_period_end"] is not None
    assert [invoice["status"] for invoice in subscribed["invoices"]] == ["paid"]
    assert subscribed["invoices"][0]["amount_paid"] == 4900

    at_door = billing_gym.kiosk("obama3.jpg")
    assert (at_door["allowed"], at_door["reason"]) == (True, "GRANTED")
    assert at_door["member"]["id"] == str(member_id)

    # Canceled in Stripe, not through Visage: only the webhook can tell the door.
    stripe_client.v1.subscriptions.cancel(subscribed["stripe_subscription_id"])
    wait_until(
        lambda: billing_gym.billing(member_id)["status"] == "canceled",
        what="customer.subscription.deleted to reach the membership",
    )
    refused = billing_gym.kiosk("obama3.jpg")
    assert (refused["allowed"], refused["reason"]) == (False, "EXPIRED")


@pytest.mark.usefixtures("webhooks_on")
def test_declined_card_is_refused_at_the_door_with_a_payment_reason(
    billing_gym: BillingGym, stripe_client: stripe.StripeClient
) -> None:
    plan_id = billing_gym.priced_plan()
    member_id = billing_gym.member()
    card = {"number": DECLINED_CARD, "exp_month": 12, "exp_year": 2031, "cvc": "123"}
    method = stripe_client.v1.payment_methods.create({"type": "card", "card": card})

    billing = billing_gym.subscribe(member_id, plan_id, method.id)
    assert billing["status"] == "incomplete"
    assert "First payment not completed" in billing["payment_problem"]
    assert "declined" in billing["payment_problem"]
    assert billing["invoices"][0]["status"] == "open"
    # The reason is kept as a code: each reader gets it in their language, Stripe's decline
    # message (in brackets) as Stripe gave it.
    french = {**billing_gym.owner.headers, "Accept-Language": "fr"}
    in_french = billing_gym.api.get(f"/members/{member_id}/billing", headers=french)
    assert in_french.status_code == 200, in_french.text
    reason = in_french.json()["payment_problem"]
    assert reason.startswith("Premier paiement non abouti : la carte a été refusée")
    assert reason.endswith(billing["payment_problem"][billing["payment_problem"].index("(") :])

    result = billing_gym.front_desk(member_id)
    assert (result["allowed"], result["reason"]) == (False, "OVERDUE")
    assert "payment" in result["message"].lower()
    dunning = billing_gym.call("GET", "/billing/dunning")
    assert [row["member_id"] for row in dunning] == [str(member_id)]
    assert dunning[0]["amount_due_cents"] == 4900
    page = billing_gym.api.base_url.join("/app/fragments/billing/overview")
    overview = billing_gym.api.get(page, headers=billing_gym.owner.headers)
    assert overview.status_code == 200, overview.text
    dunning_table = overview.text[overview.text.index("data-dunning") :]
    assert "<td>€49.00</td>" in dunning_table  # formatted like every other amount


@pytest.mark.parametrize("path", ["/payments/webhook/", "/payments/webhook"])
def test_unsigned_and_badly_signed_bodies_get_400_and_change_nothing(
    billing_gym: BillingGym, database: Database, webhook_secret: str, path: str
) -> None:
    with database.session() as session:
        before = session.scalar(select(func.count()).select_from(WebhookEvent))
    event = json.dumps({"id": f"evt_{uuid.uuid4().hex}", "type": "invoice.paid"}).encode()
    attempts = [
        (b"{}", {"Content-Type": "application/json"}),
        (event, signed(event, "whsec_not_ours")),
        (event, signed(event, webhook_secret, timestamp=int(time.time()) - 301)),
        (event + b" ", signed(event, webhook_secret)),  # the body changed after signing
    ]
    for body, headers in attempts:
        response = billing_gym.api.post(path, content=body, headers=headers)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "BILLING_007"
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(WebhookEvent)) == before


@pytest.mark.usefixtures("webhooks_on")
def test_the_same_event_twice_is_applied_once(
    billing_gym: BillingGym,
    stripe_client: stripe.StripeClient,
    database: Database,
    webhook_secret: str,
) -> None:
    _, subscription_id = billing_gym.subscribed_member()
    subscription = stripe_client.v1.subscriptions.retrieve(subscription_id).to_dict()
    event_id, body = event_body("customer.subscription.updated", subscription)
    for _ in range(2):
        response = billing_gym.api.post(
            "/payments/webhook/", content=body, headers=signed(body, webhook_secret)
        )
        assert response.status_code == 200, response.text
    wait_until(lambda: events_processed(database, event_id), what="the event's job")
    with database.session() as session:
        jobs = session.scalar(
            text(
                "SELECT count(*) FROM procrastinate_jobs "
                "WHERE task_name = 'billing.process_event' AND args->>'event_id' = :event_id"
            ),
            {"event_id": event_id},
        )
        stored = session.scalar(
            select(func.count()).select_from(WebhookEvent).where(WebhookEvent.event_id == event_id)
        )
    assert (jobs, stored) == (1, 1)


@pytest.mark.usefixtures("webhooks_on")
def test_a_stale_deleted_event_leaves_the_member_as_stripe_says(
    billing_gym: BillingGym,
    stripe_client: stripe.StripeClient,
    database: Database,
    webhook_secret: str,
) -> None:
    member_id, subscription_id = billing_gym.subscribed_member()
    stale = stripe_client.v1.subscriptions.retrieve(subscription_id).to_dict()
    stale |= {"status": "canceled", "ended_at": int(time.time())}
    event_id, body = event_body("customer.subscription.deleted", stale, age_seconds=120)
    response = billing_gym.api.post(
        "/payments/webhook", content=body, headers=signed(body, webhook_secret)
    )
    assert response.status_code == 200, response.text
    wait_until(lambda: events_processed(database, event_id), what="the stale event's job")
    assert billing_gym.billing(member_id)["status"] == "active"
    assert billing_gym.front_desk(member_id)["reason"] == "GRANTED"


@pytest.mark.usefixtures("webhooks_on")
def test_a_refund_event_is_checked_with_stripe_before_a_purchase_ends(
    billing_gym: BillingGym,
    stripe_client: stripe.StripeClient,
    database: Database,
    webhook_secret: str,
) -> None:
    plan_id = billing_gym.priced_plan(
        1800, kind="fixed_term", duration_days=30, billing_interval="one_time"
    )
    member_id = billing_gym.member()
    [purchase] = billing_gym.subscribe(member_id, plan_id, "pm_card_visa")["purchases"]
    intent = stripe_client.v1.payment_intents.retrieve(purchase["stripe_reference"])
    charge = intent.latest_charge.to_dict()

    def refund_event(obj: dict[str, Any]) -> None:
        # LocalStripe sends no `charge.refunded`: posted as Stripe would.
        event_id, body = event_body("charge.refunded", obj)
        response = billing_gym.api.post(
            "/payments/webhook/", content=body, headers=signed(body, webhook_secret)
        )
        assert response.status_code == 200, response.text
        wait_until(lambda: events_processed(database, event_id), what="charge.refunded's job")

    # Refunded in part in the Dashboard; a forged copy says in full: Stripe is asked.
    stripe_client.v1.refunds.create({"payment_intent": intent.id, "amount": 800})
    refund_event(charge | {"amount_refunded": 1800, "refunded": True})
    assert billing_gym.front_desk(member_id)["reason"] == "GRANTED"
    [shown] = billing_gym.billing(member_id)["purchases"]
    assert (shown["amount_refunded_cents"], shown["refundable_cents"]) == (800, 1000)

    # The other 1000 (named: LocalStripe refunds a charge's whole amount again without one).
    stripe_client.v1.refunds.create({"payment_intent": intent.id, "amount": 1000})
    refund_event(charge)  # a stale copy (nothing refunded) of the event Stripe would send
    refused = billing_gym.front_desk(member_id)
    assert (refused["allowed"], refused["reason"]) == (False, "EXPIRED")
    [shown] = billing_gym.billing(member_id)["purchases"]
    assert (shown["amount_refunded_cents"], shown["refundable_cents"]) == (1800, 0)
    with database.session() as session:
        ended = session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "billing.purchase_refunded",
                AuditEvent.target_id == purchase["membership_id"],
            )
        )
    assert ended is not None
    assert ended.details["charge_id"] == charge["id"]


@pytest.mark.usefixtures("webhooks_off")
def test_a_lost_cancellation_is_repaired_by_billing_sync(
    billing_gym: BillingGym,
    stripe_client: stripe.StripeClient,
    database: Database,
    billing_env: dict[str, str],
) -> None:
    member_id, subscription_id = billing_gym.subscribed_member()
    stripe_client.v1.subscriptions.cancel(subscription_id)
    time.sleep(2)  # LocalStripe posts its events after a second: none may arrive
    assert billing_gym.billing(member_id)["status"] == "active"
    assert billing_gym.front_desk(member_id)["allowed"] is True

    slug = billing_gym.owner.tenant.slug
    synced = subprocess.run(
        [sys.executable, "-m", "visage", "billing", "sync", "--tenant", slug],
        env={**os.environ, **billing_env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert "corrected 1" in synced.stdout

    assert billing_gym.billing(member_id)["status"] == "canceled"
    refused = billing_gym.front_desk(member_id)
    assert (refused["allowed"], refused["reason"]) == (False, "EXPIRED")
    with database.session() as session:
        drift = session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "billing.drift_corrected",
                AuditEvent.target_id == subscription_id,
            )
        )
    assert drift is not None
    assert drift.details["status"] == ["active", "canceled"]


def test_webhook_url_in_settings_and_sync_endpoint(billing_gym: BillingGym) -> None:
    settings = billing_gym.call("GET", "/billing/settings")
    assert settings["stripe_mode"] == "localstripe"
    assert settings["webhook_url"].endswith("/api/v1/payments/webhook/")
    assert settings["grace_days"] == 3
    assert billing_gym.call("PUT", "/billing/settings", json={"grace_days": 5})["grace_days"] == 5
    assert billing_gym.call("POST", "/billing/sync") == {"checked": 0, "corrected": 0, "adopted": 0}
    assert billing_gym.api.get("/billing/settings").status_code == 401  # signed in only
