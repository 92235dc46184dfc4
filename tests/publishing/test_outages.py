"""A social platform or the AI provider down (its contract server stopped): the user action
that needs it gets a 503 naming it, scheduled posts wait and go out once when it is back, and
/health names the part as degraded."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.contracts import ai as ai_contract
from tests.contracts import bluesky as bluesky_contract
from tests.contracts import mastodon as mastodon_contract
from tests.contracts.server import Restartable
from tests.publishing.conftest import Club, dispatch, oauth_server, point_at
from visage.config import Settings
from visage.core.db import Database, utcnow


@pytest.fixture
def mastodon(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Restartable, mastodon_contract.MastodonState]]:
    """A Mastodon of this test's own, which it stops and starts again."""
    state = mastodon_contract.MastodonState(oauth_server("mastodon", pkce=True))
    server = Restartable(mastodon_contract.create_app(state))
    server.start()
    point_at(
        settings,
        "mastodon",
        server.base_url,
        "/oauth/authorize",
        "/oauth/token",
        set_setting=monkeypatch.setattr,
    )
    monkeypatch.setattr(settings, "social_retry_seconds", 1.0)
    try:
        yield server, state
    finally:
        server.stop()


def _dispatch_and_run(database: Database, publish_jobs: Callable[[], None]) -> None:
    """The minute's dispatcher, a few minutes on (every scheduled post is due), then the worker."""
    dispatch(database, utcnow() + timedelta(minutes=5))
    publish_jobs()


def _assert_refused_while_down(response: httpx.Response, code: str, component: str) -> None:
    assert response.status_code == 503
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["details"]["component"] == component


def _health(club: Club) -> dict[str, Any]:
    body: dict[str, Any] = club.client.get("/health").json()
    return body


def test_a_platform_down_then_back(
    club: Club,
    mastodon: tuple[Restartable, mastodon_contract.MastodonState],
    database: Database,
    publish_jobs: Callable[[], None],
) -> None:
    server, state = mastodon
    account = club.connect("mastodon")
    text = f"Season opener {uuid.uuid4().hex[:6]}"
    soon = (utcnow() + timedelta(minutes=1)).isoformat()
    scheduled = club.new_post(account["id"], text, scheduled_for=soon)
    urgent = club.new_post(account["id"], "Now!")
    # A second connection got as far as the platform's consent page when it went down.
    authorize_url = club.ok("POST", "/social/accounts/mastodon/connect")["authorize_url"]
    back = urlsplit(httpx.get(authorize_url, follow_redirects=False).headers["location"])

    server.stop()
    refused = club.call("POST", f"/posts/{urgent['id']}/publish-now")
    _assert_refused_while_down(refused, "SOCIAL_006", "mastodon")
    assert club.ok("GET", f"/posts/{urgent['id']}")["status"] == "draft"
    callback = club.client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert callback.status_code == 503
    assert callback.json()["error"]["code"] == "SOCIAL_006"

    for _ in range(2):  # the scheduled post comes due while the platform is down: it waits
        _dispatch_and_run(database, publish_jobs)
    waiting = club.ok("GET", f"/posts/{scheduled['id']}")
    assert waiting["status"] == "scheduled"
    (delivery,) = waiting["deliveries"]
    assert delivery["status"] == "pending"
    assert delivery["last_error_code"] == "SOCIAL_006"
    assert delivery["publish_attempts"] == 0  # nothing was sent: not an attempt
    assert delivery["next_attempt_at"] is not None
    health = _health(club)
    assert "mastodon" in health["warnings"]
    assert health["components"]["mastodon"]["data"]["degraded"] is True
    assert "mastodon" not in health.get("failing", [])

    server.start()
    assert "mastodon" not in _health(club).get("warnings", [])
    for _ in range(2):
        _dispatch_and_run(database, publish_jobs)
    published = club.ok("GET", f"/posts/{scheduled['id']}")
    assert published["status"] == "published"
    assert published["deliveries"][0]["publish_attempts"] == 1
    assert len([s for s in state.statuses if s["content"] == text]) == 1
    # The interrupted connection completes with the same state; publish now works again.
    assert club.client.get(f"{back.path}?{back.query}", follow_redirects=False).status_code == 303
    club.ok("POST", f"/posts/{urgent['id']}/publish-now")
    publish_jobs()
    assert club.ok("GET", f"/posts/{urgent['id']}")["status"] == "published"


def test_the_ai_provider_down_then_back(
    club: Club, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = Restartable(ai_contract.create_openai_app(ai_contract.AiState(), "sk-test"))
    server.start()
    monkeypatch.setattr(settings, "openai_base_url", f"{server.base_url}/v1")
    monkeypatch.setattr(settings, "openai_api_key", "sk-test")
    event = club.new_event("Winter cup")
    body = {"event_id": event["id"], "platform": "x", "tone": "warm"}
    try:
        assert club.call("POST", "/ai/captions", json=body).status_code == 200
        server.stop()
        refused = club.call("POST", "/ai/captions", json=body)
        _assert_refused_while_down(refused, "AI_001", "ai")
        health = _health(club)
        assert "ai" in health["warnings"]
        assert health["components"]["ai"]["data"]["providers"] == {"openai": False}
        server.start()
        assert "ai" not in _health(club).get("warnings", [])
        assert club.call("POST", "/ai/captions", json=body).status_code == 200
    finally:
        server.stop()


def test_connecting_bluesky_while_it_is_down(
    club: Club, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = bluesky_contract.BlueskyState()
    server = Restartable(bluesky_contract.create_app(state))
    server.start()
    monkeypatch.setattr(settings, "bluesky_api_base_url", server.base_url)
    body = {"identifier": bluesky_contract.HANDLE, "app_password": state.password}
    server.stop()
    try:
        refused = club.call("POST", "/social/accounts/bluesky/app-password", json=body)
        _assert_refused_while_down(refused, "SOCIAL_006", "bluesky")
        assert club.ok("GET", "/social/accounts") == []
        server.start()
        connected = club.ok("POST", "/social/accounts/bluesky/app-password", json=body)
        assert connected["platform"] == "bluesky"
    finally:
        server.stop()
