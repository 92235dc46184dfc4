"""A worker `kill -9` in the middle of publishing a post (the platform has created it, its
answer has not come back): after recovery the post is published exactly once.

The WhatsApp counterpart (a worker killed during `sendText`: the message is never sent twice)
is tests/messaging/test_failures.py::test_worker_killed_mid_send_does_not_send_twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import TenantOwner
from tests.contracts import mastodon as mastodon_contract
from tests.contracts.oauth import AuthorizationServer
from tests.contracts.server import serve
from tests.polling import wait_until
from tests.publishing.conftest import Club
from tests.reliability.workers import kill_when, start_worker, stop_worker
from visage.config import Settings
from visage.core.db import Database
from visage.publishing.models import Delivery, DeliveryStatus

# The platform creates the status, then keeps the worker waiting this long for its answer.
HELD_ANSWER_SECONDS = 15


@pytest.fixture
def mastodon(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[mastodon_contract.MastodonState, dict[str, str]]]:
    """A Mastodon of the test's own; the settings (here and in worker processes) point at it."""
    state = mastodon_contract.MastodonState(
        AuthorizationServer("mastodon-client", "mastodon-secret", require_pkce=True)
    )
    with serve(mastodon_contract.create_app(state)) as base:
        values = {
            "client_id": "mastodon-client",
            "client_secret": "mastodon-secret",
            "authorize_url": f"{base}/oauth/authorize",
            "token_url": f"{base}/oauth/token",
            "api_base_url": base,
        }
        for name, value in values.items():
            monkeypatch.setattr(settings, f"mastodon_{name}", value)
        yield state, {f"MASTODON_{name.upper()}": value for name, value in values.items()}


def _delivery(database: Database, post_id: str) -> Delivery:
    with database.session() as session:
        return session.scalars(select(Delivery).where(Delivery.post_id == uuid.UUID(post_id))).one()


def test_worker_killed_mid_publish_publishes_once(
    client: TestClient,
    make_tenant_owner: Callable[[], TenantOwner],
    mastodon: tuple[mastodon_contract.MastodonState, dict[str, str]],
    database: Database,
) -> None:
    state, env = mastodon
    club = Club(client, make_tenant_owner())
    account = club.connect("mastodon")
    text = f"Derby day {uuid.uuid4().hex[:6]}"
    post = club.new_post(account["id"], text)
    state.delay_next_create = HELD_ANSWER_SECONDS
    club.ok("POST", f"/posts/{post['id']}/publish-now")

    def created() -> bool:
        return any(status["content"] == text for status in state.statuses)

    kill_when(start_worker("publishing", env=env), created)
    # The attempt was committed before the request: the evidence the next run checks.
    assert _delivery(database, post["id"]).status is DeliveryStatus.PUBLISHING

    rescuer = start_worker("publishing", env=env)
    try:
        wait_until(
            lambda: _delivery(database, post["id"]).status is DeliveryStatus.PUBLISHED,
            seconds=90,
            what="the rescuing worker to publish the post",
        )
    finally:
        stop_worker(rescuer)
    published = club.ok("GET", f"/posts/{post['id']}")
    assert published["status"] == "published"
    [status] = [s for s in state.statuses if s["content"] == text]
    assert published["deliveries"][0]["platform_post_id"] == status["id"]
    assert published["deliveries"][0]["publish_attempts"] == 1
