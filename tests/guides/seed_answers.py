"""What each request of the five guides must answer on Visage (the guide's expected status and
key fields), and the guides' requests to other services, with the reason they are not
replayed. tests/guides/test_seed_curls.py replays them with real `curl`.

Where the guide leaves out what Visage needs (a token on a route that is not public, the email
its prose tells the reader to send), `Replay.add` says what the reader adds.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.contracts.waha import VERSION as WAHA_VERSION
from tests.guides.seed_requests import SeedRequest

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


def other_services_reasons(request: SeedRequest) -> list[str]:
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
        if (request.guide, request.text) not in REPLAYS and not other_services_reasons(request)
    ]
