"""Publishing fixtures: the platforms' contract servers (real HTTP on free ports), the
settings pointed at them, a club with connected accounts, and a worker over the queue."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import TenantOwner
from tests.contracts import ai as ai_contract
from tests.contracts import bluesky as bluesky_contract
from tests.contracts import graph as graph_contract
from tests.contracts import linkedin as linkedin_contract
from tests.contracts import mastodon as mastodon_contract
from tests.contracts import x as x_contract
from tests.contracts.oauth import AuthorizationServer
from tests.contracts.server import serve, shared
from visage.config import Settings
from visage.core.db import Database
from visage.publishing import posts


def oauth_server(platform: str, *, pkce: bool) -> AuthorizationServer:
    return AuthorizationServer(f"{platform}-client", f"{platform}-secret", require_pkce=pkce)


def point_at(
    settings: Settings,
    platform: str,
    base: str,
    authorize: str,
    token: str,
    set_setting: Callable[[Settings, str, str], object] = setattr,
) -> None:
    """The platform's OAuth client and URLs aimed at its contract server at `base`: for the
    session by default, for one test with `set_setting=monkeypatch.setattr`."""
    for name, value in {
        "client_id": f"{platform}-client",
        "client_secret": f"{platform}-secret",
        "authorize_url": f"{base}{authorize}",
        "token_url": f"{base}{token}",
        "api_base_url": base,
    }.items():
        set_setting(settings, f"{platform}_{name}", value)


# The X contract server is shared by the publishing, health and web (browser) tests.
X_STATE = x_contract.XState(oauth_server("x", pkce=True))


@pytest.fixture(scope="session")
def x_state() -> x_contract.XState:
    return X_STATE


@pytest.fixture(scope="session")
def x_api(settings: Settings) -> str:
    base = shared("x", lambda: x_contract.create_app(X_STATE))
    point_at(settings, "x", base, "/i/oauth2/authorize", "/2/oauth2/token")
    return base


@pytest.fixture
def x_account(club: Club, x_api: str) -> dict[str, Any]:
    """The club's X account, connected through the OAuth redirect."""
    del x_api
    return club.connect("x")


@pytest.fixture(scope="session")
def mastodon_state() -> mastodon_contract.MastodonState:
    return mastodon_contract.MastodonState(oauth_server("mastodon", pkce=True))


@pytest.fixture(scope="session")
def mastodon_api(
    settings: Settings, mastodon_state: mastodon_contract.MastodonState
) -> Iterator[str]:
    with serve(mastodon_contract.create_app(mastodon_state)) as base:
        point_at(settings, "mastodon", base, "/oauth/authorize", "/oauth/token")
        yield base


@pytest.fixture(scope="session")
def linkedin_state() -> linkedin_contract.LinkedInState:
    return linkedin_contract.LinkedInState(oauth_server("linkedin", pkce=False))


@pytest.fixture(scope="session")
def linkedin_api(
    settings: Settings, linkedin_state: linkedin_contract.LinkedInState
) -> Iterator[str]:
    with serve(linkedin_contract.create_app(linkedin_state)) as base:
        linkedin_state.base_url = base
        point_at(settings, "linkedin", base, "/oauth/v2/authorization", "/oauth/v2/accessToken")
        yield base


@pytest.fixture(scope="session")
def facebook_state() -> graph_contract.GraphState:
    return graph_contract.GraphState(oauth_server("facebook", pkce=False))


@pytest.fixture(scope="session")
def facebook_api(settings: Settings, facebook_state: graph_contract.GraphState) -> Iterator[str]:
    with serve(graph_contract.create_facebook_app(facebook_state)) as base:
        point_at(settings, "facebook", base, "/dialog/oauth", "/oauth/access_token")
        yield base


@pytest.fixture(scope="session")
def instagram_state() -> graph_contract.GraphState:
    return graph_contract.GraphState(oauth_server("instagram", pkce=False))


@pytest.fixture(scope="session")
def instagram_api(settings: Settings, instagram_state: graph_contract.GraphState) -> Iterator[str]:
    with serve(graph_contract.create_instagram_app(instagram_state)) as base:
        point_at(settings, "instagram", base, "/oauth/authorize", "/oauth/access_token")
        yield base


@pytest.fixture(scope="session")
def bluesky_state() -> bluesky_contract.BlueskyState:
    return bluesky_contract.BlueskyState()


@pytest.fixture(scope="session")
def bluesky_api(settings: Settings, bluesky_state: bluesky_contract.BlueskyState) -> Iterator[str]:
    with serve(bluesky_contract.create_app(bluesky_state)) as base:
        settings.bluesky_api_base_url = base
        yield base


@pytest.fixture
def publish_jobs(run_jobs: Callable[..., None]) -> Callable[[], None]:
    """Run every queued publishing job with a real Procrastinate worker."""
    return lambda: run_jobs(queues=["publishing"])


@dataclass
class Club:
    client: TestClient
    owner: TenantOwner

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.request(method, f"/api/v1{path}", headers=self.owner.headers, **kwargs)

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.call(method, path, **kwargs)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    def new_event(self, name: str = "Club race") -> dict[str, Any]:
        body = {"name": name, "slug": f"ev-{uuid.uuid4().hex[:8]}", "event_date": "2026-11-28"}
        event: dict[str, Any] = self.ok("POST", "/events", json=body)
        return event

    def upload_photo(self, event_id: str, photo: bytes) -> str:
        files = [("files", ("photo.jpg", photo, "image/jpeg"))]
        photo_id: str = self.ok("POST", f"/events/{event_id}/photos", files=files)["files"][0][
            "photo_id"
        ]
        return photo_id

    def new_post(self, account_id: str, text: str, **fields: Any) -> dict[str, Any]:
        """A post to the one account (a draft unless `fields` schedule it)."""
        body = {"account_ids": [account_id], "text": text, **fields}
        post: dict[str, Any] = self.ok("POST", "/posts", json=body)
        return post

    def publish(
        self, account_id: str, text: str, photo_ids: list[str], run: Callable[[], None]
    ) -> dict[str, Any]:
        """Create the post, publish it now, run the worker; the post as it is then."""
        post = self.new_post(account_id, text, photo_ids=photo_ids)
        self.ok("POST", f"/posts/{post['id']}/publish-now")
        run()
        result: dict[str, Any] = self.ok("GET", f"/posts/{post['id']}")
        return result

    def connect(self, platform: str) -> dict[str, Any]:
        """The whole OAuth redirect: our authorize URL, the platform's consent redirect, our
        callback. Returns the connected account."""
        authorize_url = self.ok("POST", f"/social/accounts/{platform}/connect")["authorize_url"]
        self.connect_from(authorize_url)
        accounts = [a for a in self.ok("GET", "/social/accounts") if a["platform"] == platform]
        assert len(accounts) == 1
        return accounts[0]

    def connect_from(self, authorize_url: str) -> None:
        """The platform's consent redirect, then our callback."""
        consent = httpx.get(authorize_url, follow_redirects=False)
        assert consent.status_code == 302, consent.text
        back = urlsplit(consent.headers["location"])
        assert back.path == "/api/v1/social/oauth/callback"
        callback = self.client.get(f"{back.path}?{back.query}", follow_redirects=False)
        assert callback.status_code == 303, callback.text


@pytest.fixture
def club(client: TestClient, make_tenant_owner: Callable[[], TenantOwner]) -> Club:
    return Club(client, make_tenant_owner())


def dispatch(database: Database, now: datetime) -> int:
    """The minute's dispatcher as if it ran at `now`: how many deliveries it queued."""
    with database.session() as session:
        return posts.dispatch_due(session, now)


def tweets_with(x_state: x_contract.XState, text: str) -> list[dict[str, Any]]:
    return [tweet for tweet in x_state.tweets if tweet["text"] == text]


@dataclass
class AiServers:
    openai: ai_contract.AiState
    anthropic: ai_contract.AiState


@pytest.fixture(scope="session")
def ai_urls() -> Iterator[tuple[ai_contract.AiState, ai_contract.AiState, str, str]]:
    openai_state, anthropic_state = ai_contract.AiState(), ai_contract.AiState()
    with (
        serve(ai_contract.create_openai_app(openai_state, "sk-test")) as openai_base,
        serve(ai_contract.create_anthropic_app(anthropic_state, "ant-test")) as anthropic_base,
    ):
        yield openai_state, anthropic_state, openai_base, anthropic_base


@pytest.fixture
def ai_servers(
    ai_urls: tuple[ai_contract.AiState, ai_contract.AiState, str, str],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> AiServers:
    """Both AI providers configured (for this test only), their scripted failures cleared."""
    openai_state, anthropic_state, openai_base, anthropic_base = ai_urls
    for state in (openai_state, anthropic_state):
        state.failures.clear()
        state.requests.clear()
    monkeypatch.setattr(settings, "openai_base_url", f"{openai_base}/v1")
    monkeypatch.setattr(settings, "openai_api_key", "sk-test")
    monkeypatch.setattr(settings, "anthropic_base_url", anthropic_base)
    monkeypatch.setattr(settings, "anthropic_api_key", "ant-test")
    return AiServers(openai_state, anthropic_state)
