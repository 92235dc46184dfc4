"""What LocalStripe cannot show, against the Stripe contract server (tests/contracts/
stripe_events.py) and a running Visage configured for it as for Stripe itself (no
USE_LOCALSTRIPE): Prices, trials, renewals paid and failed with the grace period, the
failed-payment email, pause_collection, plan change with proration, Checkout (subscription
and one-time), refunds; and each webhook event kind, re-fetched from Stripe: a stale copy
of an event never overrides what Stripe says now."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tests.billing.conftest import BillingGym, events_processed, running_visage, wait_until
from tests.conftest import TenantOwner, free_port
from tests.contracts.stripe_events import StripeContract, serve
from visage.billing.models import Subscription
from visage.billing.reasons import CONFIRM_WITH_BANK
from visage.config import Settings
from visage.core.db import Database
from visage.identity.models import AuditEvent


@pytest.fixture(scope="module")
def contract() -> Iterator[StripeContract]:
    with serve(free_port()) as server:
        yield server


@pytest.fixture(scope="module")
def contract_visage(database: Database, contract: StripeContract) -> Iterator[str]:
    contract.webhook_secret = f"whsec_{secrets.token_hex(16)}"
    env = {
        "USE_LOCALSTRIPE": "false",
        "STRIPE_API_BASE": contract.url,
        "STRIPE_SECRET_KEY": "sk_test_contract",
        "STRIPE_PUBLIC_KEY": "pk_test_contract",
        "STRIPE_WEBHOOK_SECRET": contract.webhook_secret,
    }
    with running_visage(database, env, "contract-server") as base_url:
        contract.webhook_url = f"{base_url}/api/v1/payments/webhook/"
        yield base_url


@pytest.fixture
def gym(contract_visage: str, make_tenant_owner: Callable[[], TenantOwner]) -> Iterator[BillingGym]:
    with httpx.Client(base_url=f"{contract_visage}/api/v1", timeout=120) as api:
        yield BillingGym(api, make_tenant_owner())


def test_prices_recur_and_a_new_amount_archives_the_old_price(
    gym: BillingGym, contract: StripeContract
) -> None:
    plan_id = gym.priced_plan(4900, billing_interval="year")
    first = gym.call("GET", f"/plans/{plan_id}/price")
    price = contract.objects[first["stripe_price_id"]]
    assert (price["unit_amount"], price["recurring"]) == (4900, {"interval": "year"})

    second = gym.call("PATCH", f"/plans/{plan_id}", json={"price_cents": 5900})
    assert second["stripe_price_id"] != first["stripe_price_id"]
    assert second["stripe_product_id"] == first["stripe_product_id"]
    assert contract.objects[first["stripe_price_id"]]["active"] is False


def test_one_customer_per_member_even_across_subscriptions(
    gym: BillingGym, contract: StripeContract
) -> None:
    member_id, subscription_id = gym.subscribed_member()
    gym.call("POST", f"/members/{member_id}/subscription/cancel", json={"at_period_end": False})
    gym.subscribe(member_id, gym.priced_plan(), "pm_card_visa")
    customers = {
        o["customer"]
        for o in contract.objects.values()
        if o.get("object") == "subscription"
        and o["metadata"].get("visage_member") == str(member_id)
    }
    assert len(customers) == 1
    posts = [p for m, path, p in contract.requests if m == "POST" and path == "/v1/customers"]
    assert sum(1 for p in posts if p["metadata"]["visage_member"] == str(member_id)) == 1
    assert contract.objects[subscription_id]["status"] == "canceled"


def test_a_trial_opens_the_door_and_its_end_warning_is_audited(
    gym: BillingGym, contract: StripeContract, database: Database
) -> None:
    member_id, subscription_id = gym.subscribed_member(trial_days=14)
    created = [p for m, path, p in contract.requests if (m, path) == ("POST", "/v1/subscriptions")]
    assert created[-1]["trial_period_days"] == "14"
    assert gym.billing(member_id)["status"] == "trialing"
    assert gym.billing(member_id)["invoices"][0]["amount_due"] == 0
    assert gym.front_desk(member_id)["reason"] == "GRANTED"
    event_id = contract.end_trial_soon(subscription_id)
    wait_until(lambda: events_processed(database, event_id), what="trial_will_end")
    assert gym.billing(member_id)["status"] == "trialing"
    assert gym.front_desk(member_id)["reason"] == "GRANTED"
    trial_end = contract.objects[subscription_id]["trial_end"]
    with database.session() as session:
        notice = session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "billing.trial_ending",
                AuditEvent.target_id == subscription_id,
            )
        )
    assert notice is not None
    assert notice.details["trial_end"] == datetime.fromtimestamp(trial_end, UTC).isoformat()


def test_paused_freezes_resumed_opens_and_a_stale_pause_changes_nothing(
    gym: BillingGym, contract: StripeContract, database: Database
) -> None:
    member_id, subscription_id = gym.subscribed_member()
    contract.pause(subscription_id)
    wait_until(lambda: gym.billing(member_id)["status"] == "paused", what="paused")
    refused = gym.front_desk(member_id)
    assert (refused["allowed"], refused["reason"]) == (False, "FROZEN")
    paused_copy = json.loads(json.dumps(contract.objects[subscription_id]))

    contract.resume(subscription_id)
    wait_until(lambda: gym.billing(member_id)["status"] == "active", what="resumed")
    assert gym.front_desk(member_id)["reason"] == "GRANTED"

    # A late copy of the pause: the job asks Stripe, which says active.
    late = contract.emit("customer.subscription.paused", paused_copy)
    wait_until(lambda: events_processed(database, late), what="the late pause")
    assert gym.billing(member_id)["status"] == "active"
    assert gym.front_desk(member_id)["reason"] == "GRANTED"


def mail_text(path: Path) -> str:
    """A written email's recipient and decoded text (bodies with "€" are quoted-printable)."""
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(("plain",))
    return f"{message['To']}\n{body.get_content() if body else ''}"


def test_a_payment_the_bank_must_confirm_tells_the_member_and_the_desk(
    gym: BillingGym, contract: StripeContract, settings: Settings, database: Database
) -> None:
    member_id, subscription_id = gym.subscribed_member()
    contract.renew(subscription_id, paid=False, action_required=True)
    wait_until(
        lambda: "confirm the payment" in (gym.billing(member_id)["payment_problem"] or ""),
        what="payment_action_required",
    )
    assert gym.billing(member_id)["status"] == "past_due"
    email = gym.call("GET", f"/members/{member_id}")["email"]
    mail_dir = Path(settings.visage_data_dir) / "mail"
    wait_until(
        lambda: [
            p for p in mail_dir.glob("*.eml") if email in (text := mail_text(p)) and "bank" in text
        ],
        what="the notice to the member",
    )


def test_the_banks_request_outlasts_later_events_until_paid_or_superseded(
    gym: BillingGym, contract: StripeContract, database: Database
) -> None:
    member_id, subscription_id = gym.subscribed_member()

    def applied(*sent: str) -> None:
        wait_until(lambda: events_processed(database, *sent), what=f"the jobs of {sent}")

    def stored_fact() -> str | None:
        with database.session() as session:
            row = session.scalar(
                select(Subscription).where(Subscription.stripe_subscription_id == subscription_id)
            )
            assert row is not None
            return row.action_required_invoice_id

    waiting = contract.renew(subscription_id, paid=False, action_required=True)
    applied(*(event_id for event_id, _ in contract.sent[-2:]))
    # Stripe's subscription never says the bank asked: a later event must not lose the reason.
    applied(contract.emit("customer.subscription.updated", contract.objects[subscription_id]))
    assert stored_fact() == waiting["id"]
    assert CONFIRM_WITH_BANK in gym.billing(member_id)["payment_problem"]

    contract.confirm_payment(waiting["id"])
    applied(*(event_id for event_id, _ in contract.sent[-2:]))
    paid = gym.billing(member_id)
    assert (paid["status"], paid["payment_problem"], stored_fact()) == ("active", None, None)

    contract.renew(subscription_id, paid=False, action_required=True)
    applied(*(event_id for event_id, _ in contract.sent[-2:]))
    assert CONFIRM_WITH_BANK in gym.billing(member_id)["payment_problem"]
    contract.renew(subscription_id, paid=False)  # a newer invoice, declined: what is owed now
    applied(*(event_id for event_id, _ in contract.sent[-2:]))
    superseded = gym.billing(member_id)["payment_problem"]
    assert "grace period" in superseded
    assert CONFIRM_WITH_BANK not in superseded
    assert stored_fact() is None


def test_renewals_paid_then_failed_grace_then_overdue_with_an_email(
    gym: BillingGym, contract: StripeContract, settings: Settings
) -> None:
    member_id, subscription_id = gym.subscribed_member()
    first_end = gym.billing(member_id)["current_period_end"]

    contract.renew(subscription_id, paid=True)
    wait_until(lambda: gym.billing(member_id)["current_period_end"] != first_end, what="renewal")
    assert gym.billing(member_id)["status"] == "active"

    contract.renew(subscription_id, paid=False)
    wait_until(lambda: gym.billing(member_id)["status"] == "past_due", what="failed renewal")
    assert gym.front_desk(member_id)["reason"] == "GRANTED"  # within the 3-day grace
    assert "grace period until" in gym.billing(member_id)["payment_problem"]
    dunning = gym.call("GET", "/billing/dunning")
    assert [(row["member_id"], row["amount_due_cents"]) for row in dunning] == [
        (str(member_id), 4900)
    ]
    email = gym.call("GET", f"/members/{member_id}")["email"]
    mail_dir = Path(settings.visage_data_dir) / "mail"
    wait_until(
        lambda: any(email in p.read_text() for p in mail_dir.glob("*.eml")),
        what="the failed-payment email",
    )

    gym.call("PUT", "/billing/settings", json={"grace_days": 0})
    gym.call("POST", "/billing/sync")
    refused = gym.front_desk(member_id)
    assert (refused["allowed"], refused["reason"]) == (False, "OVERDUE")


def test_freeze_pauses_collection_until_the_resume_date(
    gym: BillingGym, contract: StripeContract
) -> None:
    member_id, subscription_id = gym.subscribed_member()
    resumes_on = (datetime.now(UTC) + timedelta(days=14)).date()
    frozen = gym.call(
        "POST", f"/members/{member_id}/subscription/freeze", json={"resumes_on": str(resumes_on)}
    )
    pause = contract.objects[subscription_id]["pause_collection"]
    assert pause["behavior"] == "void"
    assert datetime.fromtimestamp(pause["resumes_at"], UTC).date() == resumes_on
    assert frozen["paused_until"].startswith(str(resumes_on))
    assert gym.front_desk(member_id)["reason"] == "FROZEN"

    resumed = gym.call("POST", f"/members/{member_id}/subscription/resume")
    assert resumed["paused_until"] is None
    assert contract.objects[subscription_id]["pause_collection"] is None
    assert gym.front_desk(member_id)["reason"] == "GRANTED"


def test_plan_change_prorates(gym: BillingGym, contract: StripeContract) -> None:
    member_id, subscription_id = gym.subscribed_member()
    bigger = gym.priced_plan(9900)
    changed = gym.call("POST", f"/members/{member_id}/subscription/plan", json={"plan_id": bigger})
    assert changed["plan_id"] == bigger
    updates = [
        p
        for m, path, p in contract.requests
        if path == f"/v1/subscriptions/{subscription_id}" and m == "POST"
    ]
    assert updates[-1]["proration_behavior"] == "create_prorations"
    price_id = gym.call("GET", f"/plans/{bigger}/price")["stripe_price_id"]
    assert contract.objects[subscription_id]["items"]["data"][0]["price"]["id"] == price_id


def test_checkout_completed_subscribes_the_member(
    gym: BillingGym, contract: StripeContract
) -> None:
    member_id = gym.member()
    plan_id = gym.priced_plan()
    url = gym.call("POST", f"/members/{member_id}/checkout", json={"plan_id": plan_id})["url"]
    assert url.startswith(f"{contract.url}/checkout/cs_")
    assert gym.front_desk(member_id)["reason"] == "NO_MEMBERSHIP"

    contract.complete_checkout(url.rsplit("/", 1)[1])
    wait_until(lambda: gym.billing(member_id)["status"] == "active", what="checkout webhook")
    assert gym.billing(member_id)["plan_id"] == plan_id
    assert gym.front_desk(member_id)["reason"] == "GRANTED"


def test_a_one_time_plan_bought_at_the_desk_is_one_paid_invoice(
    gym: BillingGym, contract: StripeContract, database: Database
) -> None:
    member_id = gym.member()
    plan_id = gym.priced_plan(
        2500, kind="fixed_term", duration_days=30, billing_interval="one_time"
    )
    sent_before = len(contract.sent)
    bought = gym.subscribe(member_id, plan_id, "pm_card_visa")
    [purchase] = bought["purchases"]
    [invoice] = bought["invoices"]
    assert (invoice["id"], invoice["status"], invoice["amount_paid"]) == (
        purchase["stripe_reference"],
        "paid",
        2500,
    )
    assert contract.objects[invoice["id"]]["metadata"]["visage_plan"] == plan_id
    paid_event = wait_until(
        lambda: [e for e, kind in contract.sent[sent_before:] if kind == "invoice.paid"],
        what="invoice.paid",
    )
    wait_until(lambda: events_processed(database, *paid_event), what="invoice.paid's job")
    assert len(gym.billing(member_id)["purchases"]) == 1  # the event found it granted
    assert gym.front_desk(member_id)["reason"] == "GRANTED"


def test_a_one_time_plan_bought_through_checkout_is_granted_once(
    gym: BillingGym, contract: StripeContract, database: Database
) -> None:
    member_id = gym.member()
    plan_id = gym.priced_plan(9000, kind="visit_pack", visits=10, billing_interval="one_time")
    price_id = gym.call("GET", f"/plans/{plan_id}")["stripe_price_id"]
    assert "recurring" not in contract.objects[price_id]
    url = gym.call("POST", f"/members/{member_id}/checkout", json={"plan_id": plan_id})["url"]
    session_id = url.rsplit("/", 1)[1]
    assert contract.objects[session_id]["mode"] == "payment"

    # A forged copy that says "paid" for a session Stripe says is still open grants nothing.
    forged = json.loads(json.dumps(contract.objects[session_id])) | {"payment_status": "paid"}
    early = contract.emit("checkout.session.completed", forged)
    wait_until(lambda: events_processed(database, early), what="the early event")
    assert gym.billing(member_id)["purchases"] == []

    contract.complete_checkout(session_id)  # checkout.session.completed, then invoice.paid
    wait_until(lambda: gym.billing(member_id)["purchases"], what="checkout webhook")
    sent = [event_id for event_id, _ in contract.sent[-2:]]
    wait_until(lambda: events_processed(database, *sent), what="both events")
    [purchase] = gym.billing(member_id)["purchases"]
    assert (purchase["stripe_reference"], purchase["amount_cents"]) == (session_id, 9000)
    [membership] = gym.call("GET", f"/members/{member_id}/memberships")
    assert membership["visits_remaining"] == 10
    assert gym.front_desk(member_id)["reason"] == "GRANTED"


def test_refunds_partial_and_never_more_than_paid(
    gym: BillingGym, contract: StripeContract
) -> None:
    member_id, _ = gym.subscribed_member()
    invoice = gym.billing(member_id)["invoices"][0]
    assert (invoice["status"], invoice["amount_paid"]) == ("paid", 4900)
    body = {"invoice_id": invoice["id"], "amount_cents": 1000}
    refund = gym.call("POST", f"/members/{member_id}/refunds", 201, json=body)
    assert contract.objects[refund["refund_id"]]["amount"] == 1000
    too_much = {"invoice_id": invoice["id"], "amount_cents": 4000}
    error = gym.call("POST", f"/members/{member_id}/refunds", 409, json=too_much)
    assert error["error"]["code"] == "BILLING_009"
    assert gym.billing(member_id)["invoices"][0]["amount_refunded"] == 1000


def test_a_refund_made_in_stripe_shows_on_the_invoice(
    gym: BillingGym, contract: StripeContract, database: Database
) -> None:
    member_id, _ = gym.subscribed_member()
    invoice_id = gym.billing(member_id)["invoices"][0]["id"]
    [payment] = [
        o for o in contract.objects.values() if o.get("invoice") == invoice_id and "payment" in o
    ]
    intent = payment["payment"]["payment_intent"]
    # In the Dashboard, not through Visage: only `charge.refunded` tells us.
    contract.handle("POST", "/v1/refunds", {"payment_intent": intent, "amount": "1500"})
    wait_until(
        lambda: gym.billing(member_id)["invoices"][0]["amount_refunded"] == 1500,
        what="charge.refunded",
    )
    charge = contract.objects[contract.objects[intent]["latest_charge"]]
    assert [e for e in contract.requests if e[1] == f"/v1/charges/{charge['id']}"]  # re-fetched


def refunded_purchases(database: Database, membership_id: str) -> list[AuditEvent]:
    with database.session() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "billing.purchase_refunded",
                    AuditEvent.target_id == membership_id,
                )
            )
        )


def test_a_one_time_purchase_refunded_in_full_in_stripe_ends_its_membership(
    gym: BillingGym, contract: StripeContract, database: Database
) -> None:
    member_id = gym.member()
    plan_id = gym.priced_plan(
        3000, kind="fixed_term", duration_days=30, billing_interval="one_time"
    )
    [purchase] = gym.subscribe(member_id, plan_id, "pm_card_visa")["purchases"]
    [payment] = [
        o
        for o in contract.objects.values()
        if o.get("invoice") == purchase["stripe_reference"] and "payment" in o
    ]
    intent = payment["payment"]["payment_intent"]

    # In the Dashboard, not through Visage: only `charge.refunded` tells us.
    contract.handle("POST", "/v1/refunds", {"payment_intent": intent, "amount": "1000"})
    wait_until(
        lambda: gym.billing(member_id)["invoices"][0]["amount_refunded"] == 1000,
        what="the partial refund",
    )
    assert gym.front_desk(member_id)["reason"] == "GRANTED"  # a partial refund keeps access
    assert refunded_purchases(database, purchase["membership_id"]) == []

    contract.handle("POST", "/v1/refunds", {"payment_intent": intent})  # the other 2000
    wait_until(lambda: refunded_purchases(database, purchase["membership_id"]), what="the end")
    refused = gym.front_desk(member_id)
    assert (refused["allowed"], refused["reason"]) == (False, "EXPIRED")
    assert gym.billing(member_id)["invoices"][0]["amount_refunded"] == 3000
    [ended] = refunded_purchases(database, purchase["membership_id"])
    assert (ended.actor_id, ended.details["stripe_reference"]) == (
        None,
        purchase["stripe_reference"],
    )


def test_a_checkout_purchase_refunded_at_the_desk_ends_once(
    gym: BillingGym, contract: StripeContract, database: Database
) -> None:
    member_id = gym.member()
    plan_id = gym.priced_plan(1200, kind="visit_pack", visits=4, billing_interval="one_time")
    url = gym.call("POST", f"/members/{member_id}/checkout", json={"plan_id": plan_id})["url"]
    contract.complete_checkout(url.rsplit("/", 1)[1])
    [purchase] = wait_until(lambda: gym.billing(member_id)["purchases"], what="the purchase")
    [invoice] = gym.billing(member_id)["invoices"]

    body = {"invoice_id": invoice["id"]}  # the whole payment
    sent_before = len(contract.sent)
    refund = gym.call("POST", f"/members/{member_id}/refunds", 201, json=body)
    assert (refund["invoice_id"], refund["amount_cents"]) == (invoice["id"], 1200)
    refused = gym.front_desk(member_id)
    assert (refused["allowed"], refused["reason"]) == (False, "EXPIRED")
    # Stripe's own `charge.refunded` for it arrives later and finds the membership ended.
    refunded = wait_until(
        lambda: [e for e, kind in contract.sent[sent_before:] if kind == "charge.refunded"],
        what="charge.refunded",
    )
    wait_until(lambda: events_processed(database, *refunded), what="its job")
    [ended] = refunded_purchases(database, purchase["membership_id"])
    assert ended.actor_id is not None  # the desk's refund, not the event's
    again = gym.call("POST", f"/members/{member_id}/refunds", 409, json=body)
    assert again["error"]["code"] == "BILLING_009"


def member_subscriptions(contract: StripeContract, member_id: uuid.UUID) -> list[dict[str, object]]:
    return [
        o
        for o in contract.objects.values()
        if o.get("object") == "subscription"
        and o["metadata"].get("visage_member") == str(member_id)
    ]


def test_a_lost_answer_is_retried_with_the_same_key_and_charges_once(
    gym: BillingGym, contract: StripeContract
) -> None:
    plan_id = gym.priced_plan()
    member_id = gym.member()
    contract.lose_next_answer.add("/v1/subscriptions")
    assert gym.subscribe(member_id, plan_id, "pm_card_visa")["status"] == "active"
    assert len(member_subscriptions(contract, member_id)) == 1
    assert None not in contract.idempotency_keys  # every POST to Stripe carries a key


def test_a_subscription_stripe_made_but_we_never_recorded_is_adopted_not_duplicated(
    gym: BillingGym, contract: StripeContract
) -> None:
    plan_id = gym.priced_plan()
    member_id = gym.member()
    gym.call("POST", f"/members/{member_id}/checkout", json={"plan_id": plan_id})  # the customer
    customer = contract.objects[
        next(p for m, path, p in reversed(contract.requests) if path == "/v1/checkout/sessions")[
            "customer"
        ]
    ]
    price_id = gym.call("GET", f"/plans/{plan_id}/price")["stripe_price_id"]
    # An earlier attempt: Stripe made the subscription, our transaction never committed.
    contract.handle(
        "POST",
        "/v1/subscriptions",
        {
            "customer": customer["id"],
            "items": [{"price": price_id}],
            "metadata": {"visage_member": str(member_id), "visage_plan": plan_id},
        },
    )
    assert gym.subscribe(member_id, plan_id, "pm_card_visa")["status"] == "active"
    assert len(member_subscriptions(contract, member_id)) == 1
