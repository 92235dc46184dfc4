"""Facebook Pages, Instagram, LinkedIn and Mastodon: connected through their OAuth redirect
and published to, each against its contract server."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from PIL import Image

from tests.contracts.bluesky import HANDLE, BlueskyState
from tests.contracts.graph import GraphState
from tests.contracts.linkedin import LinkedInState
from tests.contracts.mastodon import MastodonState
from tests.events.conftest import compose
from tests.publishing.conftest import Club, dispatch
from visage.config import Settings
from visage.core.db import Database, utcnow


def _photo(club: Club) -> str:
    wide = compose("hopper.jpg", "biden.jpg", "obama.jpg")
    return club.upload_photo(club.new_event("Tournament")["id"], wide)


def _published_after_a_silence(
    club: Club,
    account_id: str,
    text: str,
    photo_ids: list[str],
    database: Database,
    publish_jobs: Callable[[], None],
) -> dict[str, Any]:
    """Publish while the platform creates the post but answers after our timeout: the post is
    unknown until the next dispatch resolves it. The post as it is then, published."""
    result = club.publish(account_id, text, photo_ids, publish_jobs)
    assert result["status"] == "unknown"
    assert dispatch(database, utcnow() + timedelta(minutes=1)) >= 1
    publish_jobs()
    resolved: dict[str, Any] = club.ok("GET", f"/posts/{result['id']}")
    assert resolved["status"] == "published"
    return resolved


def test_facebook_page_photo_post(
    club: Club, facebook_api: str, facebook_state: GraphState, publish_jobs: Callable[[], None]
) -> None:
    del facebook_api
    account = club.connect("facebook")
    assert account["username"] == "Club Visage Page"
    assert account["token_expires_at"] is None
    text = f"Tournament day {uuid.uuid4().hex[:6]}"
    result = club.publish(account["id"], text, [_photo(club)], publish_jobs)
    (delivery,) = result["deliveries"]
    assert result["status"] == "published", delivery
    (post,) = [p for p in facebook_state.posts if p["message"] == text]
    assert delivery["platform_post_id"] == post["id"]
    assert len(post["attached"]) == 1


def test_facebook_rate_limit_code_32_waits_for_the_usage_header(
    club: Club,
    facebook_api: str,
    facebook_state: GraphState,
    database: Database,
    publish_jobs: Callable[[], None],
) -> None:
    del facebook_api
    account = club.connect("facebook")
    facebook_state.rate_limit_next, facebook_state.regain_minutes = True, 12
    text = f"Limits {uuid.uuid4().hex[:6]}"
    result = club.publish(account["id"], text, [], publish_jobs)
    (delivery,) = result["deliveries"]
    assert delivery["status"] == "pending"
    assert delivery["last_error_code"] == "SOCIAL_003"
    wait = datetime.fromisoformat(delivery["next_attempt_at"]) - utcnow()
    assert timedelta(minutes=11) < wait <= timedelta(minutes=12)
    assert dispatch(database, utcnow() + timedelta(minutes=13)) >= 1
    publish_jobs()
    assert club.ok("GET", f"/posts/{result['id']}")["status"] == "published"
    assert len([p for p in facebook_state.posts if p["message"] == text]) == 1


def test_instagram_container_then_media_publish_with_a_cropped_public_copy(
    club: Club,
    instagram_api: str,
    instagram_state: GraphState,
    settings: Settings,
    publish_jobs: Callable[[], None],
) -> None:
    del instagram_api
    account = club.connect("instagram")
    assert account["username"] == "club.visage"
    assert account["token_expires_at"]
    text = f"Finals #club {uuid.uuid4().hex[:6]}"
    result = club.publish(account["id"], text, [_photo(club)], publish_jobs)
    assert result["status"] == "published", result
    (media,) = [m for m in instagram_state.media if m["caption"] == text]
    assert result["deliveries"][0]["platform_url"] == media["permalink"]
    image_url = media["container"]["image_url"]
    assert image_url.startswith(settings.public_base_url)
    copy = club.client.get(urlsplit(image_url).path)
    assert copy.status_code == 200
    assert copy.headers["content-type"] == "image/jpeg"
    width, height = Image.open(io.BytesIO(copy.content)).size
    assert 0.8 <= width / height <= 1.91  # the 1200x800 photo fits Instagram's range as is
    refreshed = club.ok("PUT", f"/social/accounts/{account['id']}/refresh")
    assert refreshed["status"] == "ACTIVE"


def test_instagram_needs_a_photo(club: Club, instagram_api: str) -> None:
    del instagram_api
    account = club.connect("instagram")
    response = club.call(
        "POST", "/posts", json={"account_ids": [account["id"]], "text": "No photo"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"]["violations"][0]["rule"] == "images"


def test_linkedin_post_urn_from_the_restli_header(
    club: Club, linkedin_api: str, linkedin_state: LinkedInState, publish_jobs: Callable[[], None]
) -> None:
    del linkedin_api
    account = club.connect("linkedin")
    text = f"Our members at the regional finals {uuid.uuid4().hex[:6]}"
    result = club.publish(account["id"], text, [_photo(club)], publish_jobs)
    (delivery,) = result["deliveries"]
    assert result["status"] == "published", delivery
    (post,) = [p for p in linkedin_state.posts if p["commentary"] == text]
    assert delivery["platform_post_id"] == post["id"]
    assert post["id"].startswith("urn:li:share:")
    assert post["content"]["media"]["id"] in linkedin_state.images


def test_mastodon_timeout_is_resolved_with_the_idempotency_key(
    club: Club,
    mastodon_api: str,
    mastodon_state: MastodonState,
    settings: Settings,
    database: Database,
    publish_jobs: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    del mastodon_api
    account = club.connect("mastodon")
    monkeypatch.setattr(settings, "social_http_timeout_seconds", 1.0)
    mastodon_state.delay_next_create = 3.0
    text = f"Club news {uuid.uuid4().hex[:6]}"
    resolved = _published_after_a_silence(club, account["id"], text, [], database, publish_jobs)
    (status,) = [s for s in mastodon_state.statuses if s["content"] == text]
    assert resolved["deliveries"][0]["platform_url"] == status["url"]


def test_bluesky_app_password_post_and_a_silence_resolved_by_its_record_key(
    club: Club,
    bluesky_api: str,
    bluesky_state: BlueskyState,
    settings: Settings,
    database: Database,
    publish_jobs: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    del bluesky_api
    wrong = club.call(
        "POST",
        "/social/accounts/bluesky/app-password",
        json={"identifier": HANDLE, "app_password": "nope"},
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"]["code"] == "SOCIAL_002"
    via_oauth = club.call("POST", "/social/accounts/bluesky/connect")
    assert via_oauth.status_code == 409
    assert "app-password" in via_oauth.json()["error"]["message"]
    account = club.ok(
        "POST",
        "/social/accounts/bluesky/app-password",
        json={"identifier": HANDLE, "app_password": bluesky_state.password},
    )
    assert account["username"] == HANDLE
    assert account["token_expires_at"]
    assert club.ok("PUT", f"/social/accounts/{account['id']}/refresh")["status"] == "ACTIVE"

    text = f"Summer cup {uuid.uuid4().hex[:6]}"
    monkeypatch.setattr(settings, "social_http_timeout_seconds", 1.0)
    bluesky_state.delay_next_create = 3.0
    requests_before = bluesky_state.create_requests
    photo_ids = [_photo(club)]
    resolved = _published_after_a_silence(
        club, account["id"], text, photo_ids, database, publish_jobs
    )
    (rkey,) = [key for key, record in bluesky_state.records.items() if record["text"] == text]
    assert resolved["deliveries"][0]["platform_url"].endswith(f"/post/{rkey}")
    assert bluesky_state.create_requests == requests_before + 1
    (image,) = bluesky_state.records[rkey]["embed"]["images"]
    assert len(bluesky_state.blobs[image["image"]["ref"]["$link"]]) <= 1_000_000


def test_linkedin_organization_pages_are_connected_beside_the_member(
    club: Club,
    linkedin_api: str,
    linkedin_state: LinkedInState,
    settings: Settings,
    publish_jobs: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    del linkedin_api
    monkeypatch.setattr(settings, "linkedin_organization_pages", True)
    authorize_url = club.ok("POST", "/social/accounts/linkedin/connect")["authorize_url"]
    assert "w_organization_social" in authorize_url
    club.connect_from(authorize_url)
    accounts = {a["username"]: a for a in club.ok("GET", "/social/accounts")}
    assert set(accounts) == {"Club Visage", "Visage Sports Club"}
    text = f"Club news from the page {uuid.uuid4().hex[:6]}"
    result = club.publish(accounts["Visage Sports Club"]["id"], text, [], publish_jobs)
    assert result["status"] == "published"
    (post,) = [p for p in linkedin_state.posts if p["commentary"] == text]
    assert post["author"] == "urn:li:organization:2414183"
