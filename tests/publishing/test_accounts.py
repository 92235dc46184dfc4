"""Connecting accounts through the OAuth redirect, tokens sealed at rest, refresh, EXPIRED."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.contracts.x import XState
from tests.outbox import queued_emails
from tests.publishing.conftest import Club
from visage.cli import app
from visage.config import Settings
from visage.core.db import Database, utcnow
from visage.publishing import accounts
from visage.publishing.models import SocialAccount


def test_connect_x_through_the_full_oauth_redirect(
    club: Club, x_api: str, x_state: XState, database: Database
) -> None:
    authorize_url = club.ok("POST", "/social/accounts/x/connect")["authorize_url"]
    query = parse_qs(urlsplit(authorize_url).query)
    assert authorize_url.startswith(f"{x_api}/i/oauth2/authorize?")
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"]
    assert "offline.access" in query["scope"][0].split()
    consent = httpx.get(authorize_url, follow_redirects=False)
    back = urlsplit(consent.headers["location"])
    callback = club.client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert callback.status_code == 303
    (account,) = club.ok("GET", "/social/accounts")
    assert account["platform"] == "x"
    assert account["username"] == "clubvisage"
    assert account["status"] == "ACTIVE"
    assert account["token_expires_at"]
    with database.session() as session:
        row = session.get_one(SocialAccount, uuid.UUID(account["id"]))
        issued = x_state.oauth.access_tokens
        # Sealed at rest: no issued token appears in the stored bytes.
        assert not any(token.encode() in row.access_token for token in issued)
        assert accounts.credentials(row).access_token in issued
    # The state is single-use.
    replay = club.client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert replay.status_code == 400
    assert replay.json()["error"]["code"] == "SOCIAL_002"


def test_a_forged_state_is_refused(club: Club, x_api: str) -> None:
    del x_api
    response = club.client.get(
        "/api/v1/social/oauth/callback", params={"state": "forged", "code": "abc"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "SOCIAL_002"


def test_refresh_on_demand_then_expired_when_the_platform_refuses(
    club: Club, x_account: dict[str, Any], x_state: XState, database: Database
) -> None:
    refreshed = club.ok("PUT", f"/social/accounts/{x_account['id']}/refresh")
    assert refreshed["status"] == "ACTIVE"
    x_state.oauth.refresh_tokens.clear()  # the user revoked the app on X
    expired = club.ok("PUT", f"/social/accounts/{x_account['id']}/refresh")
    mails = queued_emails(database, club.owner.user.email)
    assert [mail for mail in mails if "Reconnect" in mail["subject"]]
    assert expired["status"] == "EXPIRED"
    assert "refresh" in expired["last_error"].lower()


def test_the_periodic_refresh_renews_tokens_about_to_expire(
    club: Club, x_account: dict[str, Any], session: Session, settings: Settings
) -> None:
    row = session.get_one(SocialAccount, uuid.UUID(x_account["id"]))
    before = accounts.credentials(row).access_token
    row.token_expires_at = utcnow() + timedelta(minutes=5)
    session.flush()
    run = accounts.refresh_expiring(session, settings, utcnow())
    assert run.refreshed >= 1
    assert accounts.credentials(row).access_token != before
    assert row.token_expires_at is not None
    assert row.token_expires_at > utcnow() + timedelta(hours=1)


def test_the_refresh_command_renews_expiring_tokens(
    club: Club, x_account: dict[str, Any], database: Database
) -> None:
    with database.session() as session:
        row = session.get_one(SocialAccount, uuid.UUID(x_account["id"]))
        row.token_expires_at = utcnow() + timedelta(minutes=1)
    result = CliRunner().invoke(app, ["social", "refresh-tokens"])
    assert result.exit_code == 0, result.output
    assert "Refreshed" in result.output
    refreshed = [a for a in club.ok("GET", "/social/accounts") if a["id"] == x_account["id"]]
    assert datetime.fromisoformat(refreshed[0]["token_expires_at"]) > utcnow() + timedelta(hours=1)
