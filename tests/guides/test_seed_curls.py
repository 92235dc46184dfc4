"""Every request of the five troubleshooting guides, replayed with real `curl` against a live
Visage, answering what the guide says it answers.

The requests are read from the guides' text (tests/guides/seed_requests.py): each one is either
replayed here (seed_answers.REPLAYS: the status and key fields the guide expects) or is another
service's (seed_answers.NOT_VISAGE, with the reason), and a request added to a guide fails the
first test until it is one or the other. Only the host and port are mapped to the test server
and the guide's placeholders (`{id}`, `{admin-token}`, `$TOKEN`, `your-refresh-token`,
`ton_photographe`, ...) filled in.
"""

from __future__ import annotations

import re
import secrets
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import TEST_PASSWORD
from tests.contracts.waha import WahaContract
from tests.guides.conftest import Reader
from tests.guides.seed_answers import (
    NOT_VISAGE,
    REPLAYS,
    Replay,
    other_services_reasons,
    run_curl,
    unaccounted,
)
from tests.guides.seed_requests import SEEDS, SeedRequest, guide_paths, seed_requests
from visage.config import Settings
from visage.core.db import Database
from visage.identity import api_tokens
from visage.identity.email import EMAIL_QUEUE
from visage.identity.models import Role, User
from visage.identity.principal import ClientInfo
from visage.identity.service import ensure_super_admin, user_principal
from visage.publishing.posts import PUBLISHING_QUEUE


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
    both = [r.text for r in requests if (r.guide, r.text) in REPLAYS and other_services_reasons(r)]
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
