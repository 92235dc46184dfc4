"""The curls of the five troubleshooting guides, replayed with real `curl` against a live Visage.

Each command is copied from its guide (these tests must pass without the guides beside them),
with only the host and port mapped to the test server and the guide's placeholders (`{id}`,
`{admin-token}`, `your-refresh-token`, `ton_photographe`, ...) filled in. Routes of billing,
messaging and publishing (WiWebb's `/payments/webhook/`, `/waha/health`, AllIN's `/api/health`)
are replayed by those domains' tests; the guides' calls to third parties (Twitter, OpenAI,
WAHA itself) are not Visage's.
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest

from tests.conftest import TEST_PASSWORD
from tests.guides.conftest import Reader
from visage.config import Settings
from visage.core.db import Database
from visage.identity import api_tokens
from visage.identity.models import Role, User
from visage.identity.principal import ClientInfo
from visage.identity.service import ensure_super_admin, user_principal

GUIDE_HOSTS = re.compile(
    r"https?://(?:localhost:(?:8000|3000|5000)|g62bncafk2\.eu-west-3\.awsapprunner\.com)"
)


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: str


def run_curl(command: str, base_url: str, fill: dict[str, str]) -> Answer:
    """Run the guide's command with bash and curl: hosts mapped, placeholders filled."""
    command = GUIDE_HOSTS.sub(base_url, command.replace("\\\n", " "))
    for placeholder, value in fill.items():
        command = command.replace(placeholder, value)
    result = subprocess.run(
        ["bash", "-c", f"{command} -sS -D /dev/stderr -w '\\n%{{http_code}}'"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, (command, result.stderr)
    body, _, status = result.stdout.rpartition("\n")
    try:
        parsed: Any = json.loads(body) if body.strip() else None
    except json.JSONDecodeError:
        parsed = body
    return Answer(int(status), parsed, result.stderr)


@dataclass(frozen=True)
class SeedCurl:
    guide: str
    command: str
    status: int
    # Given the filled-in values and the answer: is it the guide's expected answer?
    expect: Callable[[Any, Answer], bool]


def _error(code: str, *words: str) -> Callable[[Any, Answer], bool]:
    def check(_: Any, answer: Answer) -> bool:
        error = answer.body["error"]
        return error["code"] == code and all(word in error["message"] for word in words)

    return check


def _keys(*names: str) -> Callable[[Any, Answer], bool]:
    def check(_: Any, answer: Answer) -> bool:
        return set(names) <= answer.body.keys()

    return check


def _the_member(fill: Any, answer: Answer) -> bool:
    return bool(answer.body["id"] == fill["{id}"] and answer.body["is_active"] is True)


SEED_CURLS = [
    # PowerGym, "Health Check"
    SeedCurl(
        "PowerGym",
        "curl http://localhost:8000/",
        200,
        lambda _, a: a.body["message"] == "API is running",
    ),
    # Messaging API, "Health Check Commands" and "Monitoring Commands"
    SeedCurl("Messaging API", "curl http://localhost:3000/health", 200, _keys("status")),
    SeedCurl(
        "Messaging API",
        "curl http://localhost:3000/health/db",
        200,
        lambda _, a: a.body["components"]["database"]["data"]["connected"],
    ),
    SeedCurl(
        "Messaging API",
        "curl http://localhost:3000/metrics",
        200,
        lambda _, a: "visage_http_requests_total" in a.body,
    ),
    # Messaging API, "JWT Token Expired"
    SeedCurl(
        "Messaging API",
        """curl -X POST http://localhost:3000/auth/refresh \\
     -H "Content-Type: application/json" \\
     -d '{"refreshToken": "your-refresh-token"}'""",
        200,
        _keys("access_token", "refresh_token"),
    ),
    SeedCurl(
        "Messaging API",
        """curl -X POST http://localhost:3000/auth/login \\
     -H "Content-Type: application/json" \\
     -d '{"email": "user@example.com", "password": "password123"}'""",
        200,
        _keys("access_token", "refresh_token"),
    ),
    # Messaging API, "Rate Limiting on Login": "Look for X-RateLimit-Reset header"
    SeedCurl(
        "Messaging API",
        "curl -I http://localhost:3000/auth/login",
        405,
        lambda _, a: "x-ratelimit-reset:" in a.headers.lower(),
    ),
    # WiWebb, "401 Unauthorized"
    SeedCurl(
        "WiWebb",
        """curl -X POST http://localhost:8000/api/v1/auth/login/ \\
      -H "Content-Type: application/json" \\
      -d '{"username":"admin","password":"yourpassword"}'""",
        200,
        _keys("access_token", "refresh_token"),
    ),
    SeedCurl(
        "WiWebb",
        """curl -X GET http://localhost:8000/api/v1/users/{id}/ \\
      -H "Authorization: Token {admin-token}\"""",
        200,
        _the_member,
    ),
    SeedCurl(
        "WiWebb",
        """curl -X POST http://localhost:8000/api/v1/users/{id}/activate/ \\
      -H "Authorization: Token {admin-token}" \\
      -d '{"is_active": true}'""",
        200,
        _the_member,
    ),
    # WiWebb, "403 Forbidden"
    SeedCurl(
        "WiWebb",
        """curl -X GET http://localhost:8000/api/v1/auth/user/ \\
      -H "Authorization: Token {your-token}\"""",
        200,
        lambda fill, a: a.body["role"] == "tenant_owner",
    ),
    SeedCurl(
        "WiWebb",
        """curl -X GET http://localhost:8000/api/v1/tenants/me/ \\
      -H "Authorization: Token {your-token}\"""",
        200,
        lambda fill, a: a.body["slug"] == fill["tenant_slug"],
    ),
    # WiWebb, "Login Fails with Correct Credentials"
    SeedCurl(
        "WiWebb",
        """curl -X POST http://localhost:8000/api/v1/auth/password/reset/ \\
      -H "Content-Type: application/json" \\
      -d '{"email":"your@email.com"}'""",
        202,
        _keys("detail"),
    ),
    # WiWebb, "API Calls Failing from Frontend"
    SeedCurl(
        "WiWebb",
        """curl http://localhost:8000/api/v1/auth/user/ \\
      -H "Authorization: Token {your-token}\"""",
        200,
        _keys("username", "tenant", "permissions"),
    ),
    # WiWebb, "Slow API Responses": the guide sends no credentials; Visage says which to send.
    SeedCurl(
        "WiWebb",
        'curl "http://localhost:8000/api/v1/users/?page=1&page_size=20"',
        401,
        _error("AUTH_004", "Authorization: Token"),
    ),
    SeedCurl(
        "WiWebb",
        'curl "http://localhost:8000/api/v1/users/?page=1&page_size=20" '
        '-H "Authorization: Token {your-token}"',
        200,
        lambda _, a: (a.body["page"], a.body["page_size"]) == (1, 20),
    ),
    SeedCurl(
        "WiWebb",
        'curl "http://localhost:8000/api/v1/users/?tenant=1" '
        '-H "Authorization: Token {your-token}"',
        200,
        _keys("items", "total"),
    ),
    # WiWebb, "Token format incorrect": Bearer with a token that is not a JWT
    SeedCurl(
        "WiWebb",
        'curl http://localhost:8000/api/v1/auth/user/ -H "Authorization: Bearer abc123def456"',
        401,
        _error("AUTH_004", "Authorization: Token <token>"),
    ),
    # FindMe, "Étape 2" and "Étape 3"
    SeedCurl(
        "FindMe",
        "curl https://g62bncafk2.eu-west-3.awsapprunner.com/api/health-check",
        200,
        lambda _, a: (
            a.body["status"] == "healthy"
            and a.body["database"]["connected"]
            and a.body["database"]["event_id_column_exists"]
            and {"users_email_event_unique", "users_username_event_unique"}
            <= set(a.body["database"]["composite_constraints"])
            and a.body["message"] == "All checks passed"
        ),
    ),
    SeedCurl(
        "FindMe",
        """curl -X POST https://g62bncafk2.eu-west-3.awsapprunner.com/api/login \\
  -H "Content-Type: application/json" \\
  -d '{"username":"ton_photographe","password":"ton_password"}'""",
        200,
        _keys("access_token", "refresh_token"),
    ),
    SeedCurl(
        "FindMe",
        """curl -X POST https://g62bncafk2.eu-west-3.awsapprunner.com/api/login \\
  -H "Content-Type: application/json" \\
  -d '{"username":"photographe","password":"mdp"}'""",
        401,
        _error("AUTH_001", "Invalid credentials"),
    ),
    # AllIN's requests are HTTP blocks, sent here with curl as its readers would.
    SeedCurl(
        "AllIN",
        """curl -X POST http://localhost:5000/api/auth/refresh \\
  -H "Content-Type: application/json" \\
  -d '{"refreshToken": "user_refresh_token_here"}'""",
        200,
        _keys("access_token", "refresh_token"),
    ),
    SeedCurl(
        "AllIN",
        """curl -X POST http://localhost:5000/api/auth/resend-verification \\
  -H "Content-Type: application/json" \\
  -d '{"email": "user@example.com"}'""",
        202,
        _keys("detail"),
    ),
    SeedCurl(
        "AllIN",
        """curl -X POST http://localhost:5000/api/auth/forgot-password \\
  -H "Content-Type: application/json" -d '{"email": "user@example.com"}'""",
        202,
        _keys("detail"),
    ),
    # PowerGym, "Token Expired": POST /api/v1/auth/refresh {"refresh_token": "..."}
    SeedCurl(
        "PowerGym",
        """curl -X POST http://localhost:8000/api/v1/auth/refresh \\
  -H "Content-Type: application/json" -d '{"refresh_token": "..."}'""",
        200,
        _keys("access_token", "refresh_token"),
    ),
]


def _token_of(database: Database, user: User) -> str:
    with database.session() as session:
        _, token = api_tokens.create_api_token(
            session, user_principal(user), name="seed curls", expires_in_days=1, client=ClientInfo()
        )
    return token


def _refresh_token(base_url: str, user: User) -> str:
    response = httpx.post(
        f"{base_url}/api/v1/auth/login",
        json={"username": user.username, "password": TEST_PASSWORD},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["refresh_token"]
    return token


@pytest.fixture(scope="module")
def fill(
    live_server: str,
    reader: Reader,
    database: Database,
    settings: Settings,
    make_user: Callable[..., User],
) -> dict[str, str]:
    with database.session() as session:
        admin = ensure_super_admin(session, settings)
    photographer = make_user(reader.tenant, Role.PHOTOGRAPHER)
    return {
        "{id}": str(reader.member.id),
        "{admin-token}": _token_of(database, admin),
        "{your-token}": reader.api_token,
        '"admin"': f'"{settings.super_admin_username}"',
        "yourpassword": settings.super_admin_password,
        "user@example.com": reader.owner.email,
        "password123": TEST_PASSWORD,
        "your@email.com": reader.owner.email,
        "ton_photographe": photographer.username,
        "ton_password": TEST_PASSWORD,
        "tenant_slug": reader.tenant.slug,
        "_base_url": live_server,
    }


def _fresh_refresh_token(curl: SeedCurl, fill: dict[str, str], reader: Reader) -> dict[str, str]:
    """Refresh tokens are single use: each refresh curl gets its own."""
    fresh = dict(fill)
    token = _refresh_token(fill["_base_url"], reader.owner)
    for placeholder in ("your-refresh-token", "user_refresh_token_here", '"..."'):
        fresh[placeholder] = f'"{token}"' if placeholder == '"..."' else token
    return fresh


@pytest.mark.parametrize(
    "curl", SEED_CURLS, ids=lambda c: f"{c.guide}: {c.command.splitlines()[0][:60]}"
)
def test_the_guides_curl_gets_the_guides_answer(
    curl: SeedCurl, fill: dict[str, str], reader: Reader
) -> None:
    values = _fresh_refresh_token(curl, fill, reader) if "refresh" in curl.command else fill
    answer = run_curl(curl.command, fill["_base_url"], values)
    assert answer.status == curl.status, answer.body
    assert curl.expect(values, answer), answer.body


def test_findme_attendees_sign_in_at_api_login(
    live_server: str, reader: Reader, database: Database
) -> None:
    token = _token_of(database, reader.owner)
    event = httpx.post(
        f"{live_server}/api/v1/events",
        json={
            "name": "Soirée",
            "slug": f"soiree-{uuid.uuid4().hex[:8]}",
            "event_date": date.today().isoformat(),
        },
        headers={"Authorization": f"Token {token}"},
        timeout=30,
    ).json()
    registered = httpx.post(
        f"{live_server}/api/v1/attendees/register",
        json={
            "access_code": event["access_code"],
            "username": "invite",
            "email": f"invite-{uuid.uuid4().hex[:6]}@example.com",
            "password": "a long attendee password",
        },
        timeout=30,
    )
    assert registered.status_code == 201, registered.text
    answer = run_curl(
        """curl -X POST http://localhost:8000/api/login -H "Content-Type: application/json" \\
  -d '{"username":"invite","password":"a long attendee password","access_code":"CODE"}'""",
        live_server,
        {"CODE": event["access_code"]},
    )
    assert answer.status == 200, answer.body
    assert answer.body["attendee"]["username"] == "invite"
    assert answer.body["event"]["id"] == event["id"]
