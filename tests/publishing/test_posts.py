"""Posts: validated per platform, scheduled in the author's zone, published exactly once."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.contracts.x import XState
from tests.publishing.conftest import Club, dispatch, tweets_with
from visage.config import Settings
from visage.core.db import Database, utcnow
from visage.publishing.models import AccountStatus, Delivery, DeliveryStatus, SocialAccount

PARIS = ZoneInfo("Europe/Paris")


def test_a_post_scheduled_two_minutes_ahead_in_paris_is_published_once_at_that_time(
    club: Club,
    x_account: dict[str, Any],
    x_state: XState,
    database: Database,
    publish_jobs: Callable[[], None],
) -> None:
    local = (datetime.now(PARIS) + timedelta(minutes=2)).replace(tzinfo=None, microsecond=0)
    text = f"Club night highlights {uuid.uuid4().hex[:6]}"
    post = club.new_post(
        x_account["id"], text, scheduled_for=local.isoformat(), timezone="Europe/Paris"
    )
    due = local.replace(tzinfo=PARIS).astimezone(UTC)
    assert datetime.fromisoformat(post["scheduled_for"]) == due
    assert post["timezone"] == "Europe/Paris"
    assert post["status"] == "scheduled"
    assert post["scheduled_local"].startswith(local.isoformat())

    assert dispatch(database, due - timedelta(seconds=1)) == 0
    publish_jobs()
    assert tweets_with(x_state, text) == []

    assert dispatch(database, due + timedelta(seconds=1)) == 1
    assert dispatch(database, due + timedelta(seconds=2)) == 0  # already queued
    publish_jobs()
    published = club.ok("GET", f"/posts/{post['id']}")
    (delivery,) = published["deliveries"]
    assert published["status"] == "published"
    assert delivery["status"] == "published"
    assert (
        delivery["platform_url"]
        == f"https://x.com/clubvisage/status/{delivery['platform_post_id']}"
    )
    assert delivery["publish_attempts"] == 1

    assert dispatch(database, due + timedelta(minutes=5)) == 0
    publish_jobs()
    assert len(tweets_with(x_state, text)) == 1


def test_a_rate_limit_is_retried_after_its_reset(
    club: Club,
    x_account: dict[str, Any],
    x_state: XState,
    database: Database,
    publish_jobs: Callable[[], None],
) -> None:
    text = f"Race results {uuid.uuid4().hex[:6]}"
    post = club.new_post(x_account["id"], text)
    assert post["status"] == "draft"
    x_state.rate_limit_next, x_state.rate_limit_seconds = True, 90
    club.ok("POST", f"/posts/{post['id']}/publish-now")
    publish_jobs()

    waiting = club.ok("GET", f"/posts/{post['id']}")
    (delivery,) = waiting["deliveries"]
    assert delivery["status"] == "pending"
    assert delivery["last_error_code"] == "SOCIAL_003"
    assert delivery["publish_attempts"] == 1
    reset = datetime.fromisoformat(delivery["next_attempt_at"])
    assert reset > utcnow() + timedelta(seconds=60)
    assert club.ok("GET", "/posts/queue/status")["rate_limited"] == 1
    assert tweets_with(x_state, text) == []

    assert dispatch(database, reset - timedelta(seconds=5)) == 0
    assert dispatch(database, reset + timedelta(seconds=1)) == 1
    publish_jobs()
    done = club.ok("GET", f"/posts/{post['id']}")
    assert done["status"] == "published"
    assert done["deliveries"][0]["publish_attempts"] == 2
    assert len(tweets_with(x_state, text)) == 1


def test_a_timeout_is_unknown_and_resolved_without_a_second_post(
    club: Club,
    x_account: dict[str, Any],
    x_state: XState,
    database: Database,
    settings: Settings,
    publish_jobs: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = f"Gala dinner {uuid.uuid4().hex[:6]}"
    post = club.new_post(x_account["id"], text)
    monkeypatch.setattr(settings, "social_http_timeout_seconds", 1.0)
    x_state.delay_next_create = 3.0  # X creates the post but answers after our timeout
    requests_before = x_state.create_requests
    club.ok("POST", f"/posts/{post['id']}/publish-now")
    publish_jobs()

    unknown = club.ok("GET", f"/posts/{post['id']}")
    assert unknown["status"] == "unknown"
    assert unknown["deliveries"][0]["status"] == "unknown"
    assert club.ok("GET", "/posts/queue/status")["unknown"] >= 1
    assert club.call("POST", f"/posts/{post['id']}/publish-now").status_code == 409

    assert dispatch(database, utcnow() + timedelta(minutes=1)) >= 1
    publish_jobs()
    resolved = club.ok("GET", f"/posts/{post['id']}")
    (delivery,) = resolved["deliveries"]
    assert resolved["status"] == "published"
    assert delivery["publish_attempts"] == 1
    assert delivery["platform_post_id"] == tweets_with(x_state, text)[0]["id"]
    assert x_state.create_requests == requests_before + 1  # checked, never sent again
    assert len(tweets_with(x_state, text)) == 1
    with database.session() as session:
        row = session.scalars(
            select(Delivery).where(Delivery.post_id == uuid.UUID(post["id"]))
        ).one()
        assert row.queued_at is None
        assert row.idempotency_key


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("a" * 281, "length"),
        ("日本" * 71, "length"),  # 142 CJK characters weigh 284
        ("click here to win a bike", "banned_words"),
    ],
)
def test_content_breaking_x_rules_is_refused_with_content_003(
    club: Club, x_account: dict[str, Any], text: str, rule: str
) -> None:
    response = club.call("POST", "/posts", json={"account_ids": [x_account["id"]], "text": text})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "CONTENT_003"
    assert "x:" in error["message"]
    assert rule in error["message"]
    first = error["details"]["violations"][0]
    assert (first["platform"], first["rule"]) == ("x", rule)


def test_weighted_length_counts_urls_as_23_and_emoji_as_2(
    club: Club, x_account: dict[str, Any]
) -> None:
    url = "https://example.com/" + "a" * 200
    text = "b" * (280 - 23 - 1 - 2) + " " + url + "👍🏽"
    post = club.new_post(x_account["id"], text)
    assert post["deliveries"][0]["counted_length"] == 280


def test_a_wall_time_skipped_by_dst_is_refused(club: Club, x_account: dict[str, Any]) -> None:
    response = club.call(
        "POST",
        "/posts",
        json={
            "account_ids": [x_account["id"]],
            "text": "Spring party",
            "scheduled_for": "2027-03-28T02:30:00",
            "timezone": "Europe/Paris",
        },
    )
    assert response.status_code == 422
    assert "daylight" in response.json()["error"]["message"]
    bad_zone = club.call(
        "POST",
        "/posts",
        json={"account_ids": [x_account["id"]], "text": "x", "timezone": "Mars/Olympus"},
    )
    assert bad_zone.status_code == 422


def test_a_delivery_whose_worker_died_after_sending_is_checked_not_resent(
    club: Club,
    x_account: dict[str, Any],
    x_state: XState,
    database: Database,
    publish_jobs: Callable[[], None],
) -> None:
    text = f"Cup final {uuid.uuid4().hex[:6]}"
    post = club.new_post(x_account["id"], text)
    club.ok("POST", f"/posts/{post['id']}/publish-now")
    publish_jobs()
    assert len(tweets_with(x_state, text)) == 1
    # As if the worker had been killed after X created the post, before recording it.
    with database.session() as session:
        row = session.scalars(
            select(Delivery).where(Delivery.post_id == uuid.UUID(post["id"]))
        ).one()
        row.status, row.queued_at = DeliveryStatus.PUBLISHING, utcnow() - timedelta(hours=1)
        row.platform_post_id = None
    requests_before = x_state.create_requests
    assert dispatch(database, utcnow()) >= 1
    publish_jobs()
    again = club.ok("GET", f"/posts/{post['id']}")
    assert again["status"] == "published"
    assert again["deliveries"][0]["platform_post_id"] == tweets_with(x_state, text)[0]["id"]
    assert x_state.create_requests == requests_before


def test_posts_of_an_expired_account_wait_for_the_reconnection(
    club: Club,
    x_account: dict[str, Any],
    x_state: XState,
    database: Database,
    publish_jobs: Callable[[], None],
) -> None:
    text = f"Awards night {uuid.uuid4().hex[:6]}"
    post = club.new_post(x_account["id"], text)
    with database.session() as session:
        session.get_one(SocialAccount, uuid.UUID(x_account["id"])).status = AccountStatus.EXPIRED
    refused = club.call("POST", "/posts", json={"account_ids": [x_account["id"]], "text": "new"})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "CONTENT_001"
    club.ok("POST", f"/posts/{post['id']}/publish-now")
    publish_jobs()
    (waiting,) = club.ok("GET", f"/posts/{post['id']}")["deliveries"]
    assert waiting["status"] == "pending"
    assert waiting["last_error_code"] == "SOCIAL_004"
    assert tweets_with(x_state, text) == []

    assert club.connect("x")["id"] == x_account["id"]  # reconnected: the same account, ACTIVE
    assert dispatch(database, utcnow() + timedelta(minutes=16)) >= 1
    publish_jobs()
    assert club.ok("GET", f"/posts/{post['id']}")["status"] == "published"
    assert len(tweets_with(x_state, text)) == 1
