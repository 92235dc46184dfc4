"""Billing against real components: LocalStripe on a free port, driven by the official stripe
SDK, posting real signed webhooks to a real `visage serve` (API + one Procrastinate worker) on
the test database. Nothing of ours and nothing of LocalStripe's is mocked."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from sqlalchemy import text

from tests.conftest import TenantOwner, free_port
from tests.images import face_bytes
from tests.polling import wait_until  # the billing test modules import it from here
from visage.billing.models import WebhookEvent
from visage.core.db import Database
from visage.core.live_server import serve_subprocess

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "billing"
WEBHOOK_NAME = "visage"
SECRET_KEY = "sk_test_local"
PUBLIC_KEY = "pk_test_local"


def _stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def localstripe_url() -> Iterator[str]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = (ARTIFACTS / "localstripe.log").open("w")
    executable = Path(sys.executable).with_name("localstripe")
    process = subprocess.Popen(
        [str(executable), "--port", str(port), "--from-scratch"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            assert process.poll() is None, "localstripe exited; see localstripe.log"
            try:
                return httpx.get(f"{url}/js.stripe.com/v3/", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(up, seconds=30, what="LocalStripe")
        yield url
    finally:
        _stop(process)
        log.close()


@pytest.fixture(scope="session")
def webhook_secret() -> str:
    return f"whsec_{secrets.token_hex(16)}"


@pytest.fixture(scope="session")
def billing_env(localstripe_url: str, webhook_secret: str) -> dict[str, str]:
    return {
        "USE_LOCALSTRIPE": "true",
        "LOCALSTRIPE_URL": localstripe_url,
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_PUBLIC_KEY": PUBLIC_KEY,
        "STRIPE_WEBHOOK_SECRET": webhook_secret,
    }


# LocalStripe posts its events a second after the request that caused them.
LATE_EVENT_SECONDS = 1.5


def unfinished_jobs(database: Database) -> list[Any]:
    with database.session() as session:
        return list(
            session.execute(
                text(
                    "SELECT id, task_name, attempts, args FROM procrastinate_jobs "
                    "WHERE status IN ('todo', 'doing')"
                )
            ).all()
        )


def drain(database: Database) -> None:
    """Let the server's worker finish every job this module caused (webhook events, emails):
    later tests run their own workers over the same queue."""
    time.sleep(LATE_EVENT_SECONDS)
    wait_until(
        lambda: not unfinished_jobs(database),
        seconds=90,
        what=lambda: f"jobs left unfinished: {unfinished_jobs(database)}",
    )


def events_processed(database: Database, *event_ids: str) -> bool:
    with database.session() as session:
        events = [session.get(WebhookEvent, event_id) for event_id in event_ids]
        return all(event is not None and event.processed_at is not None for event in events)


@contextmanager
def running_visage(
    database: Database, extra_env: dict[str, str], name: str, *, workers: int = 1
) -> Iterator[str]:
    """`visage serve` with `workers` workers on the test database, configured by `extra_env`
    (no worker: the test runs and kills its own)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / f"{name}.log"
    with serve_subprocess(workers=workers, env=extra_env, log_path=log_path) as served:
        yield served.base_url
        drain(database)


@pytest.fixture(scope="module")
def visage_server(database: Database, billing_env: dict[str, str]) -> Iterator[str]:
    """Visage on LocalStripe, for one module: servers configured for another Stripe (the
    contract server) must not share the job queue with it."""
    with running_visage(database, billing_env, "server") as base_url:
        yield base_url


def register_webhook(localstripe_url: str, url: str, secret: str, events: list[str] | None) -> None:
    body: dict[str, Any] = {"url": url, "secret": secret}
    if events is not None:
        body["events"] = events
    response = httpx.post(f"{localstripe_url}/_config/webhooks/{WEBHOOK_NAME}", json=body)
    assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def webhook_url(visage_server: str) -> str:
    return f"{visage_server}/api/v1/payments/webhook/"


@pytest.fixture
def webhooks_on(localstripe_url: str, webhook_url: str, webhook_secret: str) -> None:
    """LocalStripe signs and posts every event to Visage."""
    register_webhook(localstripe_url, webhook_url, webhook_secret, None)


@pytest.fixture
def webhooks_off(localstripe_url: str, webhook_url: str, webhook_secret: str) -> Iterator[None]:
    """LocalStripe sends nothing (an endpoint that lost its events); restored after the test."""
    register_webhook(localstripe_url, webhook_url, webhook_secret, [])
    yield
    register_webhook(localstripe_url, webhook_url, webhook_secret, None)


@pytest.fixture(scope="session")
def stripe_client(localstripe_url: str) -> stripe.StripeClient:
    """The official SDK, on LocalStripe: what a gym owner does in the Stripe Dashboard."""
    return stripe.StripeClient(
        SECRET_KEY, base_addresses={"api": localstripe_url}, max_network_retries=0
    )


@dataclass
class BillingGym:
    """A tenant on the running server, and shortcuts over its JSON API."""

    api: httpx.Client
    owner: TenantOwner
    faces: dict[uuid.UUID, str] = field(default_factory=dict)

    def call(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        response = self.api.request(method, path, headers=self.owner.headers, **kwargs)
        assert response.status_code == expect, response.text
        return response.json() if response.content else None

    def priced_plan(self, price_cents: int = 4900, kind: str = "unlimited", **terms: Any) -> str:
        """A new plan priced through the plan API itself."""
        body = {
            "name": f"Plan {uuid.uuid4().hex[:6]}",
            "kind": kind,
            "price_cents": price_cents,
            "currency": "eur",
            **terms,
        }
        plan = self.call("POST", "/plans", 201, json=body)
        assert plan["stripe_price_id"]
        return str(plan["id"])

    def member(self, name: str = "Ada Member", *, face: bool = False) -> uuid.UUID:
        body = {"full_name": name, "email": f"{uuid.uuid4().hex[:8]}@example.com"}
        member_id = uuid.UUID(self.call("POST", "/members", 201, json=body)["id"])
        if face:
            consent = {"text_version": "v1", "method": "paper"}
            self.call("POST", f"/members/{member_id}/consent", 201, json=consent)
            files = [("images", (p, face_bytes(p), "image/jpeg")) for p in ("obama.jpg",)]
            self.call("POST", f"/members/{member_id}/faces", 201, files=files)
        return member_id

    def subscribe(self, member_id: uuid.UUID, plan_id: str, payment_method: str) -> Any:
        body = {"plan_id": plan_id, "payment_method": payment_method}
        return self.call("POST", f"/members/{member_id}/subscriptions", 201, json=body)

    def subscribed_member(self, **terms: Any) -> tuple[uuid.UUID, str]:
        """A new member subscribed with pm_card_visa to a new priced plan; its subscription id."""
        member_id = self.member()
        billing = self.subscribe(member_id, self.priced_plan(**terms), "pm_card_visa")
        return member_id, str(billing["stripe_subscription_id"])

    def page(self, path: str, headers: dict[str, str] | None = None) -> str:
        """A web page or fragment of the running server, as the owner sees it."""
        url = self.api.base_url.copy_with(path=path)
        response = self.api.get(url, headers={**self.owner.headers, **(headers or {})})
        assert response.status_code == 200, response.text
        return response.text

    def billing(self, member_id: uuid.UUID) -> Any:
        return self.call("GET", f"/members/{member_id}/billing")

    def front_desk(self, member_id: uuid.UUID) -> Any:
        return self.call("POST", "/checkins/manual", json={"member_id": str(member_id)})

    def kiosk(self, photo: str) -> Any:
        device = self.call("POST", "/devices", 201, json={"name": "Door"})
        files = {"image": (photo, face_bytes(photo), "image/jpeg")}
        response = self.api.post("/checkins", files=files, headers={"X-API-Key": device["api_key"]})
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def billing_gym(
    visage_server: str, make_tenant_owner: Callable[[], TenantOwner]
) -> Iterator[BillingGym]:
    with httpx.Client(base_url=f"{visage_server}/api/v1", timeout=120) as api:
        yield BillingGym(api, make_tenant_owner())


# A login session of a user, as the web tests make them.
from tests.web.conftest import tokens_for  # noqa: E402, F401
