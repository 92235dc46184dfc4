"""AI captions: OpenAI-compatible first, Anthropic on 5xx/529, monthly credits, templates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.publishing.conftest import AiServers, Club
from visage.cli import app
from visage.config import Settings
from visage.core.db import Database
from visage.publishing import credits
from visage.publishing.models import AiCreditPeriod, AiGeneration


def _caption(club: Club, event_id: str, platform: str = "x") -> Any:
    return club.call(
        "POST", "/ai/captions", json={"event_id": event_id, "platform": platform, "tone": "warm"}
    )


def test_captions_come_from_the_openai_compatible_provider(
    club: Club, ai_servers: AiServers
) -> None:
    event = club.new_event("Autumn regatta")
    body = _caption(club, event["id"]).json()
    assert body["provider"] == "openai"
    assert body["captions"] == ["Caption one", "Caption two", "Caption three"]
    (request,) = ai_servers.openai.requests
    assert "Autumn regatta" in request["messages"][1]["content"]
    assert ai_servers.anthropic.requests == []
    assert body["credits_remaining"] == 99


def test_captions_fall_back_to_anthropic_when_the_first_answers_529(
    club: Club, ai_servers: AiServers
) -> None:
    ai_servers.openai.failures.append(529)
    ai_servers.anthropic.reply = "From the fallback"
    body = _caption(club, club.new_event("Autumn regatta")["id"]).json()
    assert body["provider"] == "anthropic"
    assert body["captions"] == ["From the fallback"]
    assert len(ai_servers.openai.requests) == 1  # not retried on the same provider


def test_both_providers_down_refunds_the_credit(
    club: Club, ai_servers: AiServers, database: Database
) -> None:
    ai_servers.openai.failures.append(503)
    ai_servers.anthropic.failures.append(529)
    response = _caption(club, club.new_event("Autumn regatta")["id"])
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "AI_001"
    with database.session() as session:
        period = session.scalars(
            select(AiCreditPeriod).where(AiCreditPeriod.tenant_id == club.owner.tenant.id)
        ).one()
        assert period.credits_used == 0
        states = session.scalars(
            select(AiGeneration.state).where(AiGeneration.tenant_id == club.owner.tenant.id)
        ).all()
        assert list(states) == ["refunded"]


def test_insufficient_quota_is_not_retried(club: Club, ai_servers: AiServers) -> None:
    ai_servers.openai.failures.append(429)
    response = _caption(club, club.new_event("Autumn regatta")["id"])
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "AI_002"
    assert error["details"]["provider"] == "openai"
    assert len(ai_servers.openai.requests) == 1
    assert ai_servers.anthropic.requests == []


def test_credits_alert_at_80_percent_and_run_out_with_402(
    club: Club,
    ai_servers: AiServers,
    settings: Settings,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    del ai_servers
    monkeypatch.setattr(settings, "ai_monthly_credits", 5)
    event = club.new_event("Autumn regatta")
    for used in range(1, 6):
        assert _caption(club, event["id"]).status_code == 200
        with database.session() as session:
            period = session.scalars(
                select(AiCreditPeriod).where(AiCreditPeriod.tenant_id == club.owner.tenant.id)
            ).one()
            assert (period.alert_sent_at is not None) == (used >= 4)
    exhausted = _caption(club, event["id"])
    assert exhausted.status_code == 402
    error = exhausted.json()["error"]
    assert error["code"] == "AI_003"
    assert "reset on" in error["message"]
    assert datetime.fromisoformat(error["details"]["resets_at"]).day == 1
    assert club.ok("GET", "/ai/credits")["remaining"] == 0


def test_without_a_provider_captions_come_from_templates(club: Club) -> None:
    body = _caption(club, club.new_event("Spring gala")["id"]).json()
    assert body["provider"] == "template"
    assert body["credits_remaining"] is None
    assert all("Spring gala" in caption and "2026-11-28" in caption for caption in body["captions"])


def test_the_month_starts_on_the_first_in_the_tenant_zone() -> None:
    paris = ZoneInfo("Europe/Paris")
    late_november_utc = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)  # already December in Paris
    assert credits.month_start(late_november_utc, paris) == date(2026, 12, 1)
    assert credits.month_start(late_november_utc, ZoneInfo("UTC")) == date(2026, 11, 1)
    assert credits.next_reset(date(2026, 12, 1), paris) == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)


def test_analyze_content_lists_issues_per_platform(club: Club) -> None:
    tags = " ".join(f"#tag{n}" for n in range(31))
    body = club.ok("POST", "/ai/analyze-content", json={"content": tags, "platform": "instagram"})
    assert not body["ok"]
    assert body["hashtags"] == 31
    assert [issue["rule"] for issue in body["issues"]] == ["hashtags"]
    fine = club.ok("POST", "/ai/analyze-content", json={"content": "Hello", "platform": "x"})
    assert fine["ok"]
    assert fine["counted_length"] == 5
    assert fine["limit"] == 280


def test_improve_content_without_a_provider_applies_the_rules(club: Club) -> None:
    tags = " ".join(f"#t{n}" for n in range(35))
    body = club.ok(
        "POST",
        "/ai/improve-content",
        json={"content": f"Buy followers now {tags}", "platform": "instagram"},
    )
    assert body["provider"] == "rules"
    assert body["content"].count("#") == 30
    assert "buy followers" not in body["content"].lower()


def test_improve_content_with_a_provider(club: Club, ai_servers: AiServers) -> None:
    ai_servers.openai.reply = "A livelier post!"
    body = club.ok("POST", "/ai/improve-content", json={"content": "post", "platform": "x"})
    assert body == {"content": "A livelier post!", "provider": "openai", "credits_remaining": 99}


def test_the_tenant_zone_and_its_own_allowance(club: Club, database: Database) -> None:
    assert club.ok("GET", "/social/settings") == {"timezone": "UTC"}
    assert club.ok("PUT", "/social/settings", json={"timezone": "Europe/Paris"}) == {
        "timezone": "Europe/Paris"
    }
    assert (
        club.call("PUT", "/social/settings", json={"timezone": "Nowhere/Land"}).status_code == 422
    )
    result = CliRunner().invoke(
        app, ["social", "credits", "--tenant", club.owner.tenant.slug, "--monthly", "7"]
    )
    assert result.exit_code == 0, result.output
    view = club.ok("GET", "/ai/credits")
    assert (view["limit"], view["remaining"]) == (7, 7)
    resets = datetime.fromisoformat(view["resets_at"]).astimezone(ZoneInfo("Europe/Paris"))
    assert (resets.day, resets.hour, resets.minute) == (1, 0, 0)


def test_a_long_post_is_cut_to_the_limit_quickly(club: Club) -> None:
    body = club.ok(
        "POST", "/ai/improve-content", json={"content": "word " * 12000, "platform": "x"}
    )
    assert body["content"].endswith("…")
    analysis = club.ok(
        "POST", "/ai/analyze-content", json={"content": body["content"], "platform": "x"}
    )
    assert analysis["ok"]
    assert 270 <= analysis["counted_length"] <= 280
