"""Every request of the five troubleshooting guides, replayed with real `curl` against a live
Visage, answering what the guide says it answers.

The requests are read from the guides' text (tests/guides/seed_requests.py): each one is either
replayed here (REPLAYS: the status and key fields the guide expects) or is another service's
(NOT_VISAGE, with the reason), and a request added to a guide fails the first test until it is
one or the other. Only the host and port are mapped to the test server and the guide's
placeholders (`{id}`, `{admin-token}`, `$TOKEN`, `your-refresh-token`, `ton_photographe`, ...)
filled in; where the guide leaves out what Visage needs (a token on a route that is not public,
the email its prose tells the reader to send), `add` says what the reader adds.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import TEST_PASSWORD
from tests.contracts.waha import VERSION as WAHA_VERSION
from tests.contracts.waha import WahaContract
from tests.guides.conftest import Reader
from tests.guides.seed_requests import SEEDS, SeedRequest, guide_paths, seed_requests
from visage.config import Settings
from visage.core.db import Database
from visage.identity import api_tokens
from visage.identity.email import EMAIL_QUEUE
from visage.identity.models import Role, User
from visage.identity.principal import ClientInfo
from visage.identity.service import ensure_super_admin, user_principal
from visage.publishing.posts import PUBLISHING_QUEUE

GUIDE_HOSTS = re.compile(
    r"https?://(?:localhost:(?:8000|3000|5000)|g62bncafk2\.eu-west-3\.awsapprunner\.com"
    r"|yourdomain\.com|your-domain\.com)"
)


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: str


def run_curl(
    command: str, base_url: str, fill: dict[str, str], env: dict[str, str] | None = None
) -> Answer:
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
        env={**os.environ, **(env or {})},
    )
    assert result.returncode == 0, (command, result.stderr)
    body, _, status = result.stdout.rpartition("\n")
    try:
        parsed: Any = json.loads(body) if body.strip() else None
    except json.JSONDecodeError:
        parsed = body
    return Answer(int(status), parsed, result.stderr)


# Given the filled-in values and the answer: is it the guide's expected answer?
Check = Callable[[dict[str, str], Answer], bool]


@dataclass(frozen=True)
class Replay:
    status: int
    expect: Check
    add: str = ""  # what the reader adds to the guide's request


def _error(code: str, *words: str) -> Check:
    def check(_: dict[str, str], answer: Answer) -> bool:
        error = answer.body["error"]
        return bool(error["code"] == code and all(word in error["message"] for word in words))

    return check


def _keys(*names: str) -> Check:
    def check(_: dict[str, str], answer: Answer) -> bool:
        return bool(set(names) <= answer.body.keys())

    return check


def _header(name: str) -> Check:
    return lambda _, answer: f"\n{name.lower()}:" in answer.headers.lower()


def _the_member(fill: dict[str, str], answer: Answer) -> bool:
    return bool(answer.body["id"] == fill["{id}"] and answer.body["is_active"] is True)


def _component(name: str, **fields: Any) -> Check:
    def check(_: dict[str, str], answer: Answer) -> bool:
        component = answer.body["components"][name]
        return bool(component["ok"] and fields.items() <= component["data"].items())

    return check


TOKENS = _keys("access_token", "refresh_token")
ACCEPTED = _keys("detail")
WITH_TOKEN = '-H "Authorization: Token {your-token}"'
JSON_EMAIL = """-H "Content-Type: application/json" -d '{"email": "user@example.com"}'"""
NEEDS_TOKEN = Replay(401, _error("AUTH_004", "Authorization: Token"))

REPLAYS: dict[tuple[str, str], tuple[Replay, ...]] = {
    # PowerGym, "Health Check": Should return {"message": "API is running", "version": ...}
    ("PowerGym", "curl http://localhost:8000/"): (
        Replay(200, lambda _, a: a.body["message"] == "API is running" and "version" in a.body),
    ),
    # PowerGym, "Token Expired"
    ("PowerGym", 'POST /api/v1/auth/refresh { "refresh_token": "..." }'): (Replay(200, TOKENS),),
    # WiWebb, "401 Unauthorized"
    (
        "WiWebb",
        'curl -X POST http://localhost:8000/api/v1/auth/login/ -H "Content-Type: application/json"'
        """ -d '{"username":"admin","password":"yourpassword"}'""",
    ): (Replay(200, TOKENS),),
    (
        "WiWebb",
        'curl -X GET http://localhost:8000/api/v1/users/{id}/ -H "Authorization: Token '
        '{admin-token}"',
    ): (Replay(200, _the_member),),
    (
        "WiWebb",
        "curl -X POST http://localhost:8000/api/v1/users/{id}/activate/ -H "
        """"Authorization: Token {admin-token}" -d '{"is_active": true}'""",
    ): (Replay(200, _the_member),),
    # WiWebb, "403 Forbidden": check your role, get your tenant
    (
        "WiWebb",
        'curl -X GET http://localhost:8000/api/v1/auth/user/ -H "Authorization: Token '
        '{your-token}"',
    ): (Replay(200, lambda _, a: a.body["role"] == "tenant_owner"),),
    (
        "WiWebb",
        'curl -X GET http://localhost:8000/api/v1/tenants/me/ -H "Authorization: Token '
        '{your-token}"',
    ): (Replay(200, lambda fill, a: a.body["slug"] == fill["tenant_slug"]),),
    # WiWebb, "Login Fails with Correct Credentials"
    (
        "WiWebb",
        "curl -X POST http://localhost:8000/api/v1/auth/password/reset/ -H "
        """"Content-Type: application/json" -d '{"email":"your@email.com"}'""",
    ): (Replay(202, ACCEPTED),),
    # WiWebb, "Stripe Webhooks Not Received": "Should return 400 (not 404 or 500)"
    (
        "WiWebb",
        "curl -X POST https://yourdomain.com/api/v1/payments/webhook/ -H "
        """"Content-Type: application/json" -d '{}'""",
    ): (Replay(400, _error("BILLING_007")),),
    # WiWebb, "API Calls Failing from Frontend"
    (
        "WiWebb",
        'curl http://localhost:8000/api/v1/auth/user/ -H "Authorization: Token {your-token}"',
    ): (Replay(200, _keys("username", "tenant", "permissions")),),
    # WiWebb, "Slow API Responses": the guide sends no credentials; Visage says which to send.
    ("WiWebb", 'curl "http://localhost:8000/api/v1/users/?page=1&page_size=20"'): (
        NEEDS_TOKEN,
        Replay(200, lambda _, a: (a.body["page"], a.body["page_size"]) == (1, 20), WITH_TOKEN),
    ),
    ("WiWebb", 'curl "http://localhost:8000/api/v1/users/?tenant=1"'): (
        NEEDS_TOKEN,
        Replay(200, _keys("items", "total"), WITH_TOKEN),
    ),
    # Messaging API, "Health Check Commands", "Monitoring Commands" (WAHA configured: below)
    ("Messaging API", "curl http://localhost:3000/health"): (Replay(200, _keys("status")),),
    ("Messaging API", "curl http://localhost:3000/health/db"): (
        Replay(200, _component("database", connected=True)),
    ),
    ("Messaging API", "curl http://localhost:3000/waha/health"): (
        Replay(200, lambda _, a: a.body["components"]["waha"]["data"]["version"] == WAHA_VERSION),
    ),
    ("Messaging API", "curl http://localhost:3000/metrics"): (
        Replay(200, lambda _, a: "visage_http_requests_total" in a.body),
    ),
    # Messaging API, "JWT Token Expired"
    (
        "Messaging API",
        'curl -X POST http://localhost:3000/auth/refresh -H "Content-Type: application/json" '
        """-d '{"refreshToken": "your-refresh-token"}'""",
    ): (Replay(200, TOKENS),),
    (
        "Messaging API",
        'curl -X POST http://localhost:3000/auth/login -H "Content-Type: application/json" '
        """-d '{"email": "user@example.com", "password": "password123"}'""",
    ): (Replay(200, TOKENS),),
    # Messaging API, "Rate Limiting on Login" and "Messages Not Sending": "Look for
    # X-RateLimit-Reset header" (HEAD on a POST route: 405, with the rate limit's headers)
    ("Messaging API", "curl -I http://localhost:3000/auth/login"): (
        Replay(405, _header("X-RateLimit-Reset")),
    ),
    (
        "Messaging API",
        'curl -I -H "Authorization: Bearer $TOKEN" http://localhost:3000/messages/send',
    ): (Replay(405, _header("X-RateLimit-Reset")),),
    (
        "Messaging API",
        'curl -H "Authorization: Bearer $TOKEN" http://localhost:3000/messages?status=queued',
    ): (Replay(200, lambda _, a: {"items", "total"} <= a.body.keys()),),
    # Messaging API, "Inbound Messages Not Received": the URL answers; unsigned is refused
    (
        "Messaging API",
        'curl -X POST https://your-domain.com/webhooks/waha -H "Content-Type: application/json" '
        """-d '{"test": "webhook"}'""",
    ): (Replay(401, _error("MESSAGING_005")),),
    # Messaging API, "Message Status Not Updating"
    ("Messaging API", "curl http://localhost:3000/webhooks/health"): (
        Replay(
            200,
            lambda _, a: (
                a.body["components"]["webhooks"]["data"]["url"].endswith("/api/v1/webhooks/waha")
                and "refused signatures" in a.body["components"]["webhooks"]["detail"]
            ),
        ),
    ),
    # AllIN, "Posts Not Publishing at Scheduled Time"
    ("AllIN", "curl http://localhost:5000/api/admin/queue/status"): (
        NEEDS_TOKEN,
        Replay(200, _keys("due", "scheduled", "failed", "rate_limited"), WITH_TOKEN),
    ),
    # AllIN, "Health Check Endpoints"
    ("AllIN", "curl http://localhost:5000/api/health"): (
        Replay(
            200,
            lambda _, a: (
                a.body["status"] == "ok"
                and a.body["services"]["database"] == "connected"
                and {"redis", "ai_services", "social_apis"} <= a.body["services"].keys()
                and {"timestamp", "uptime"} <= a.body.keys()
            ),
        ),
    ),
    ("AllIN", "curl http://localhost:5000/api/health/database"): (
        Replay(200, lambda _, a: a.body["database"] == "connected"),
    ),
    ("AllIN", "curl http://localhost:5000/api/health/external-apis"): (
        Replay(200, _keys("status", "services", "timestamp")),
    ),
    # AllIN, "Account not verified" and "JWT Token Issues"
    (
        "AllIN",
        'POST /api/auth/resend-verification Content-Type: application/json { "email": '
        '"user@example.com" }',
    ): (Replay(202, ACCEPTED),),
    (
        "AllIN",
        'POST /api/auth/refresh Content-Type: application/json { "refreshToken": '
        '"user_refresh_token_here" }',
    ): (Replay(200, TOKENS),),
    # AllIN, "Automatic Token Refresh Failures": manual token refresh
    (
        "AllIN",
        "PUT /api/social/accounts/{accountId}/refresh Authorization: Bearer user_jwt_token",
    ): (
        Replay(
            200, lambda fill, a: (a.body["id"], a.body["status"]) == (fill["{accountId}"], "ACTIVE")
        ),
    ),
    # AllIN, "Content violates platform guidelines" and "Poor Quality AI Output"
    (
        "AllIN",
        'POST /api/ai/analyze-content { "content": "post content here", "platform": "instagram" }',
    ): (
        Replay(
            200, lambda _, a: (a.body["platform"], a.body["ok"]) == ("instagram", True), WITH_TOKEN
        ),
    ),
    (
        "AllIN",
        'POST /api/ai/improve-content { "content": "original content", "goal": "increase '
        'engagement", "platform": "instagram" }',
    ): (Replay(200, _keys("content", "provider"), WITH_TOKEN),),
    # AllIN, "Posts Not Publishing at Scheduled Time": manual publishing trigger
    ("AllIN", "POST /api/admin/posts/{postId}/publish-now"): (
        Replay(
            200,
            lambda fill, a: a.body["id"] == fill["{postId}"] and a.body["status"] != "draft",
            WITH_TOKEN,
        ),
    ),
    # AllIN, "Invalid credentials": "Send to `POST /api/auth/forgot-password`" (the email)
    ("AllIN", "POST /api/auth/forgot-password"): (Replay(202, ACCEPTED, JSON_EMAIL),),
    # FindMe, "Étape 2" and "Étape 3" (twice in "Prochaines Étapes")
    ("FindMe", "curl https://g62bncafk2.eu-west-3.awsapprunner.com/api/health-check"): (
        Replay(
            200,
            lambda _, a: (
                a.body["status"] == "healthy"
                and a.body["database"]["connected"]
                and a.body["database"]["event_id_column_exists"]
                and {"users_email_event_unique", "users_username_event_unique"}
                <= set(a.body["database"]["composite_constraints"])
                and isinstance(a.body["database"]["user_count"], int)
                and a.body["model"] == {"has_event_id_field": True, "has_table_args": True}
                and a.body["message"] == "All checks passed"
            ),
        ),
    ),
    (
        "FindMe",
        "curl -X POST https://g62bncafk2.eu-west-3.awsapprunner.com/api/login -H "
        """"Content-Type: application/json" -d '{"username":"ton_photographe","password":"""
        """"ton_password"}'""",
    ): (Replay(200, TOKENS),),
    # ... and with the wrong password: the error the guide's reader should see
    (
        "FindMe",
        "curl -X POST https://g62bncafk2.eu-west-3.awsapprunner.com/api/login -H "
        """"Content-Type: application/json" -d '{"username":"photographe","password":"mdp"}'""",
    ): (Replay(401, _error("AUTH_001", "Invalid credentials")),),
}

# The guides' calls to other services than Visage: (guide, pattern of the request, reason).
NOT_VISAGE: tuple[tuple[str, str, str], ...] = (
    (
        "Messaging API",
        r"//localhost:3001/",
        "WAHA's own API (the WhatsApp gateway Visage calls): tests/contracts/waha.py serves it "
        "to the messaging tests; `visage doctor` and /health/waha check it",
    ),
    (
        "AllIN",
        r"//api\.twitter\.com/",
        "X's own API: tests/contracts/x.py serves it to the publishing tests",
    ),
    (
        "AllIN",
        r"//api\.linkedin\.com/",
        "LinkedIn's own API: tests/contracts/linkedin.py serves it to the publishing tests",
    ),
    (
        "AllIN",
        r"//api\.openai\.com/",
        "OpenAI's API: tests/contracts/ai.py serves it; doctor's ai_keys check names the key",
    ),
)


def _not_visage(request: SeedRequest) -> list[str]:
    return [
        reason
        for guide, pattern, reason in NOT_VISAGE
        if guide == request.guide and re.search(pattern, request.text)
    ]


def unaccounted(requests: list[SeedRequest]) -> list[SeedRequest]:
    """The requests that are neither replayed nor another service's."""
    return [
        request
        for request in requests
        if (request.guide, request.text) not in REPLAYS and not _not_visage(request)
    ]


def test_every_request_of_the_guides_is_replayed_or_another_services() -> None:
    requests = seed_requests()
    assert {request.guide for request in requests} == {
        "PowerGym",
        "WiWebb",
        "Messaging API",
        "AllIN",
        "FindMe",
    }
    missing = unaccounted(requests)
    assert not missing, "add to REPLAYS or NOT_VISAGE:\n" + "\n".join(
        f"{r.guide}: {r.text}" for r in missing
    )
    both = [r.text for r in requests if (r.guide, r.text) in REPLAYS and _not_visage(r)]
    assert not both, both
    found = {(request.guide, request.text) for request in requests}
    assert not REPLAYS.keys() - found, "no longer in the guides: " + str(REPLAYS.keys() - found)
    for guide, pattern, _ in NOT_VISAGE:
        assert any(g == guide and re.search(pattern, t) for g, t in found), pattern


def test_a_curl_added_to_a_guide_is_noticed(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    guide = seeds / "wiwebb.md"
    guide.write_text(
        guide.read_text(encoding="utf-8")
        + "\n```bash\ncurl -X DELETE http://localhost:8000/api/v1/tenants/1/ \\\n"
        '  -H "Authorization: Token {admin-token}"\n```\n\n```http\nPATCH /api/v1/users/1/\n'
        '{\n  "is_active": false\n}\n```\n',
        encoding="utf-8",
    )
    assert [(r.guide, r.text) for r in unaccounted(seed_requests(seeds))] == [
        (
            "WiWebb",
            'curl -X DELETE http://localhost:8000/api/v1/tenants/1/ -H "Authorization: Token '
            '{admin-token}"',
        ),
        ("WiWebb", 'PATCH /api/v1/users/1/ { "is_active": false }'),
    ]


def test_every_path_the_guides_name_is_served(live_server: str, reader: Reader) -> None:
    """Not only the requests: a path in the prose (the Swagger page, the URL of a CORS error)
    exists on Visage too, whatever the method (405 is an answer, 404 is not)."""
    paths = guide_paths()
    assert "/api/v1/docs" in paths
    headers = {"Authorization": f"Token {reader.api_token}"}
    unserved = []
    for path in paths:
        url = live_server + path.replace("{id}", str(reader.member.id))
        response = httpx.get(url, headers=headers, follow_redirects=False, timeout=30)
        if response.status_code == 404 or response.is_redirect:
            unserved.append(f"{path}: {response.status_code}")
    assert not unserved, unserved


def _token_of(database: Database, user: User) -> str:
    with database.session() as session:
        _, token = api_tokens.create_api_token(
            session, user_principal(user), name="seed curls", expires_in_days=1, client=ClientInfo()
        )
    return token


def _sign_in(base_url: str, user: User) -> dict[str, str]:
    response = httpx.post(
        f"{base_url}/api/v1/auth/login",
        json={"username": user.username, "password": TEST_PASSWORD},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    tokens: dict[str, str] = response.json()
    return tokens


def _connect_x(base_url: str, token: str) -> str:
    """AllIN's connected account: X through its OAuth redirect (the contract server)."""
    headers = {"Authorization": f"Token {token}"}
    started = httpx.post(f"{base_url}/api/v1/social/accounts/x/connect", headers=headers)
    assert started.status_code == 200, started.text
    consent = httpx.get(started.json()["authorize_url"], follow_redirects=False)
    assert consent.status_code == 302, consent.text
    back = urlsplit(consent.headers["location"])
    callback = httpx.get(f"{base_url}{back.path}?{back.query}", follow_redirects=False)
    assert callback.status_code == 303, callback.text
    accounts = httpx.get(f"{base_url}/api/v1/social/accounts", headers=headers).json()
    account_id: str = next(a["id"] for a in accounts if a["platform"] == "x")
    return account_id


def _draft_post(base_url: str, token: str, account_id: str) -> str:
    created = httpx.post(
        f"{base_url}/api/v1/posts",
        json={"account_ids": [account_id], "text": "Saturday's race, in pictures"},
        headers={"Authorization": f"Token {token}"},
    )
    assert created.status_code in {200, 201}, created.text
    post_id: str = created.json()["id"]
    return post_id


@pytest.fixture(scope="module")
def fill(
    live_server: str,
    reader: Reader,
    database: Database,
    settings: Settings,
    make_user: Callable[..., User],
    x_api: str,
    run_jobs: Callable[..., None],
) -> Iterator[dict[str, str]]:
    with database.session() as session:
        admin = ensure_super_admin(session, settings)
    photographer = make_user(reader.tenant, Role.PHOTOGRAPHER)
    account_id = _connect_x(live_server, reader.api_token)
    yield {
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
        "{accountId}": account_id,
        "{postId}": _draft_post(live_server, reader.api_token, account_id),
        "tenant_slug": reader.tenant.slug,
        "_base_url": live_server,
    }
    # The post published now, and the mails sent: no job of ours is left for later tests.
    run_jobs(queues=[PUBLISHING_QUEUE, EMAIL_QUEUE])


@pytest.fixture(scope="module")
def waha() -> Iterator[WahaContract]:
    contract = WahaContract(api_key=secrets.token_hex(16))
    contract.start_server()
    yield contract
    contract.release_sends.set()
    contract.stop_server()


@pytest.fixture
def messaging_configured(
    settings: Settings, waha: WahaContract, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Messaging API's guide is about a service with WhatsApp set up: WAHA (its contract
    server), its key and the webhook secret, for one test."""
    for name, value in {
        "waha_base_url": waha.base_url,
        "waha_api_key": waha.api_key,
        "webhook_secret": secrets.token_hex(32),
    }.items():
        monkeypatch.setattr(settings, name, value)


def _replays() -> list[tuple[SeedRequest, Replay]]:
    return [
        (request, replay)
        for request in seed_requests()
        for replay in REPLAYS.get((request.guide, request.text), ())
    ]


def _label(case: tuple[SeedRequest, Replay]) -> str:
    request, replay = case
    return f"{request.guide}: {request.text[:70]}{' +' if replay.add else ''}"


@pytest.mark.parametrize("case", _replays(), ids=_label)
def test_the_guides_request_gets_the_guides_answer(
    case: tuple[SeedRequest, Replay],
    fill: dict[str, str],
    reader: Reader,
    request: pytest.FixtureRequest,
) -> None:
    seed, replay = case
    if seed.guide == "Messaging API":
        request.getfixturevalue("messaging_configured")
    values = dict(fill)
    signed_in = _sign_in(fill["_base_url"], reader.owner)  # refresh tokens are single use
    for placeholder in ("your-refresh-token", "user_refresh_token_here"):
        values[placeholder] = signed_in["refresh_token"]
    values['"..."'] = f'"{signed_in["refresh_token"]}"'
    values["user_jwt_token"] = signed_in["access_token"]
    command = f"{seed.curl} {replay.add}".strip()
    answer = run_curl(command, fill["_base_url"], values, env={"TOKEN": signed_in["access_token"]})
    assert answer.status == replay.status, answer.body
    assert replay.expect(values, answer), answer.body


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
