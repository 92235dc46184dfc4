"""Billing under faults, with the real parts stopped and started (issue 17, item 3): a `visage
worker` killed with -9 while it applies a Stripe webhook, and Stripe unreachable. The API runs
without a worker of its own (`visage serve --workers 0`); the tests start, kill and restart
real `visage worker` processes (tests/reliability/workers.py), on every queue (the notice a
webhook sends is an email job). Stripe is the contract server,
which can hold a request in flight and refuse connections for a while, its state kept."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from tests.billing.conftest import (
    BillingGym,
    drain,
    events_processed,
    running_visage,
    wait_until,
)
from tests.conftest import TenantOwner, free_port
from tests.contracts.stripe_events import StripeContract, serve
from tests.reliability.workers import job_status, kill_when, start_worker, stop_worker
from visage.config import Settings
from visage.core.db import Database

PROCESS_TASK = "billing.process_event"


@pytest.fixture(scope="module")
def contract() -> Iterator[StripeContract]:
    with serve(free_port()) as server:
        server.webhook_secret = f"whsec_{secrets.token_hex(16)}"
        yield server


@pytest.fixture(scope="module")
def stripe_env(contract: StripeContract) -> dict[str, str]:
    return {
        "USE_LOCALSTRIPE": "false",
        "STRIPE_API_BASE": contract.url,
        "STRIPE_SECRET_KEY": "sk_test_contract",
        "STRIPE_PUBLIC_KEY": "pk_test_contract",
        "STRIPE_WEBHOOK_SECRET": contract.webhook_secret,
    }


@pytest.fixture(scope="module")
def api_only(
    database: Database, contract: StripeContract, stripe_env: dict[str, str]
) -> Iterator[str]:
    with running_visage(database, stripe_env, "faults-server", workers=0) as base_url:
        contract.webhook_url = f"{base_url}/api/v1/payments/webhook/"
        yield base_url


@pytest.fixture
def gym(api_only: str, make_tenant_owner: Callable[[], TenantOwner]) -> Iterator[BillingGym]:
    with httpx.Client(base_url=f"{api_only}/api/v1", timeout=120) as api:
        yield BillingGym(api, make_tenant_owner())


def _job(database: Database, event_id: str) -> tuple[str, int] | None:
    with database.session() as session:
        row = session.execute(
            text(
                "SELECT status::text, attempts FROM procrastinate_jobs "
                "WHERE task_name = :task AND args->>'event_id' = :event_id"
            ),
            {"task": PROCESS_TASK, "event_id": event_id},
        ).one_or_none()
    return (str(row[0]), int(row[1])) if row else None


def _emails_to(settings: Settings, address: str) -> int:
    mail_dir = Path(settings.visage_data_dir) / "mail"
    return sum(1 for p in mail_dir.glob("*.eml") if address in p.read_text())


def test_a_worker_killed_while_applying_a_webhook_applies_it_once_after_recovery(
    gym: BillingGym,
    contract: StripeContract,
    database: Database,
    stripe_env: dict[str, str],
    settings: Settings,
) -> None:
    member_id, subscription_id = gym.subscribed_member()
    email = gym.call("GET", f"/members/{member_id}")["email"]
    refetch = f"/v1/subscriptions/{subscription_id}"
    contract.holds.hold(refetch)
    contract.renew(subscription_id, paid=False)  # invoice.payment_failed, subscription.updated
    event_ids = [event_id for event_id, _ in contract.sent[-2:]]

    # The job has taken its event and is asking Stripe for the subscription: kill it there.
    try:
        kill_when(
            start_worker(env=stripe_env),
            lambda: refetch in contract.holds.arrived,
            seconds=120,
        )
    finally:
        contract.holds.release(refetch)
    assert sorted(str(job_status(database, PROCESS_TASK, "event_id", e)) for e in event_ids) == [
        "doing",
        "todo",
    ]
    assert gym.billing(member_id)["status"] == "active"  # nothing applied yet

    rescuer = start_worker(env=stripe_env)
    try:
        wait_until(
            lambda: all(
                job_status(database, PROCESS_TASK, "event_id", e) == "succeeded" for e in event_ids
            ),
            seconds=180,
            what="the rescuer finishing both events",
        )
        wait_until(lambda: _emails_to(settings, email), what="the failed-payment notice")
        drain(database)
    finally:
        stop_worker(rescuer)
    assert events_processed(database, *event_ids)
    billing = gym.billing(member_id)
    assert billing["status"] == "past_due"
    assert "grace period until" in billing["payment_problem"]
    assert len(gym.call("GET", f"/members/{member_id}/memberships")) == 1
    assert _emails_to(settings, email) == 1  # the failed-payment notice, once
    assert gym.front_desk(member_id)["reason"] == "GRANTED"  # within the grace period


def test_stripe_unreachable_answers_503_naming_it_and_the_queued_webhook_resumes(
    gym: BillingGym,
    contract: StripeContract,
    database: Database,
    stripe_env: dict[str, str],
    api_only: str,
) -> None:
    member_id, subscription_id = gym.subscribed_member()
    plan_id = gym.priced_plan()
    newcomer = gym.member()
    worker = start_worker(env=stripe_env, quick_failover=False)
    try:
        contract.stop()
        try:
            body = {"plan_id": plan_id, "payment_method": "pm_card_visa"}
            for action, payload in (("subscriptions", body), ("checkout", {"plan_id": plan_id})):
                refused = gym.api.post(
                    f"/members/{newcomer}/{action}", json=payload, headers=gym.owner.headers
                )
                assert refused.status_code == 503, refused.text
                error = refused.json()["error"]
                assert (error["code"], error["details"]) == ("BILLING_005", {"component": "stripe"})
                assert "Stripe" in error["message"]
                assert refused.headers["Retry-After"]
            health = httpx.get(f"{api_only}/health", timeout=60)
            assert health.status_code == 503
            assert "stripe" in health.json()["failing"]
            assert health.json()["components"]["stripe"]["ok"] is False

            # Canceled in Stripe; its webhook arrives while Stripe cannot be asked about it.
            contract.objects[subscription_id]["status"] = "canceled"
            event_id = contract.emit(
                "customer.subscription.deleted", contract.objects[subscription_id]
            )
            wait_until(
                lambda: (_job(database, event_id) or ("", 0))[1] >= 1,
                seconds=120,
                what="a first attempt that could not reach Stripe",
            )
            assert _job(database, event_id)[0] == "todo"  # waiting for its retry  # type: ignore[index]
            assert gym.front_desk(member_id)["reason"] == "GRANTED"  # nothing applied blind
        finally:
            contract.start()

        wait_until(lambda: events_processed(database, event_id), seconds=180, what="the retry")
        assert gym.billing(member_id)["status"] == "canceled"
        assert gym.front_desk(member_id)["reason"] == "EXPIRED"
        assert httpx.get(f"{api_only}/health", timeout=60).json()["components"]["stripe"]["ok"]
        assert gym.billing(newcomer)["status"] == "none"  # the refused sale left nothing behind
        assert gym.subscribe(newcomer, plan_id, "pm_card_visa")["status"] == "active"
        drain(database)
    finally:
        stop_worker(worker)
