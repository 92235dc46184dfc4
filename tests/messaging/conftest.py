"""Messaging fixtures: the WAHA contract server, the API served over real HTTP (WAHA posts its
webhooks to it), a connected WhatsApp session, members who opted in."""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest

from tests.conftest import TenantOwner
from tests.contracts.waha import WahaContract
from visage.app import create_app
from visage.config import Settings
from visage.core.db import Database, set_database
from visage.core.live_server import serve_in_thread

WEBHOOK_SECRET = secrets.token_hex(32)


@pytest.fixture(scope="session")
def waha() -> Iterator[WahaContract]:
    contract = WahaContract(api_key=secrets.token_hex(16))
    contract.start_server()
    yield contract
    contract.release_sends.set()
    contract.stop_server()


@pytest.fixture(scope="session")
def api_url(database: Database, settings: Settings) -> Iterator[str]:
    """The app under uvicorn in a thread of the test process, on a free port."""
    with serve_in_thread(create_app(settings, prewarm=False)) as base_url:
        yield base_url
    set_database(database)  # the app's lifespan cleared the shared one


@pytest.fixture(autouse=True)
def messaging_settings(
    settings: Settings, waha: WahaContract, api_url: str, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """The shared settings pointed at the contract server for one test, restored after it."""
    for name, value in {
        "waha_base_url": waha.base_url,
        "waha_api_key": waha.api_key,
        "webhook_secret": WEBHOOK_SECRET,
        "public_base_url": api_url,
        "messaging_min_interval_seconds": 0,
        "messaging_retry_seconds": 1,
    }.items():
        monkeypatch.setattr(settings, name, value)
    return settings


@pytest.fixture
def api(api_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_url, timeout=30) as client:
        yield client


@pytest.fixture
def process(run_jobs: Callable[..., None]) -> Callable[[], None]:
    """Run every due messaging job (sends, webhook events) with a real worker, in a thread of
    its own: while the WhatsApp page test's Playwright is open, its sync API holds this
    thread's event loop."""

    def run() -> None:
        failures: list[BaseException] = []

        def work() -> None:
            try:
                run_jobs(queues=["messaging"])
            except BaseException as error:  # handed to the test's thread
                failures.append(error)

        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
        if failures:
            raise failures[0]

    return run


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def new_event(
    api: httpx.Client, headers: dict[str, str], name: str, *, event_date: str | None = None
) -> dict[str, Any]:
    """An event of the tenant (today's unless `event_date`), with a slug of its own."""
    body = {
        "name": name,
        "slug": f"e-{uuid.uuid4().hex[:8]}",
        "event_date": event_date or date.today().isoformat(),
    }
    event: dict[str, Any] = ok(api.post("/api/v1/events", json=body, headers=headers), 201)
    return event


def register_attendee(
    api: httpx.Client,
    event: dict[str, Any],
    full_name: str,
    *,
    username: str | None = None,
    whatsapp: str | None = None,
) -> dict[str, Any]:
    """An attendee signs up with the event's code: the registration (`attendee`, `access_token`).
    With `whatsapp` (digits), they then ask for new-photo notices there, at that number."""
    username = username or f"u{uuid.uuid4().hex[:8]}"
    registered: dict[str, Any] = ok(
        api.post(
            "/api/v1/attendees/register",
            json={
                "access_code": event["access_code"],
                "email": f"{username}@example.org",
                "username": username,
                "full_name": full_name,
                "password": "a long attendee password",
            },
        ),
        201,
    )
    if whatsapp is not None:
        choose_whatsapp(api, attendee_headers(registered), f"+{whatsapp}")
    return registered


def attendee_headers(registered: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {registered['access_token']}"}


def choose_whatsapp(api: httpx.Client, headers: dict[str, str], phone: str) -> dict[str, Any]:
    """The attendee asks for new-photo notices on WhatsApp, with consent, at `phone` (as typed):
    the attendee's page as it is then."""
    choice = {"channel": "whatsapp", "phone": phone, "whatsapp_consent": True}
    chosen: dict[str, Any] = ok(
        api.put("/api/v1/attendees/me/notifications", json=choice, headers=headers)
    )
    return chosen


@dataclass
class Gym:
    """A tenant with a connected WhatsApp session."""

    owner: TenantOwner
    session: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return self.owner.headers


def connect_whatsapp(
    api: httpx.Client, waha: WahaContract, owner: TenantOwner, process: Callable[[], None]
) -> dict[str, Any]:
    created: dict[str, Any] = ok(
        api.post("/api/v1/messaging/sessions", json={"label": "Front desk"}, headers=owner.headers),
        201,
    )
    waha.wait_all_delivered()
    waha.scan(created["name"])
    waha.wait_all_delivered()
    process()
    return created


@pytest.fixture
def gym(
    api: httpx.Client,
    waha: WahaContract,
    make_tenant_owner: Callable[[], TenantOwner],
    process: Callable[[], None],
) -> Gym:
    owner = make_tenant_owner()
    session = connect_whatsapp(api, waha, owner, process)
    # No quiet hours, whatever time the suite runs at.
    configure(api, owner.headers, quiet_start_hour=0, quiet_end_hour=0)
    return Gym(owner, session)


def new_phone() -> str:
    return "31" + str(uuid.uuid4().int)[:9]


def new_member(api: httpx.Client, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    """A member of the tenant, `fields` as the API takes them."""
    member: dict[str, Any] = ok(api.post("/api/v1/members", json=fields, headers=headers), 201)
    return member


def set_messaging(
    api: httpx.Client, headers: dict[str, str], member: dict[str, Any], **preference: bool
) -> dict[str, Any]:
    """Staff set the member's messaging preference (`whatsapp`, `email`): the preference then."""
    updated: dict[str, Any] = ok(
        api.put(f"/api/v1/members/{member['id']}/messaging", json=preference, headers=headers)
    )
    return updated


@pytest.fixture
def opted_in_member(api: httpx.Client, gym: Gym) -> Callable[..., dict[str, Any]]:
    def make(name: str = "Ada Lovelace", *, whatsapp: bool = True) -> dict[str, Any]:
        phone = new_phone()
        spaced = f"+{phone[:2]} {phone[2:]}"
        member = new_member(api, gym.headers, full_name=name, phone=spaced, email="a@x.org")
        set_messaging(api, gym.headers, member, whatsapp=whatsapp, email=True)
        return {**member, "digits": phone}

    return make


def sent_to(waha: WahaContract, digits: str) -> list[dict[str, Any]]:
    """What WAHA was asked to send to the number `digits`, in order."""
    return [item for item in waha.sent if item["chatId"] == f"{digits}@c.us"]


def new_template(
    api: httpx.Client, headers: dict[str, str], name: str, body: str
) -> dict[str, Any]:
    created: dict[str, Any] = ok(
        api.post("/api/v1/messaging/templates", json={"name": name, "body": body}, headers=headers),
        201,
    )
    return created


def configure(api: httpx.Client, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    """Set the tenant's messaging settings (pacing, quiet hours, opt-out words)."""
    updated: dict[str, Any] = ok(
        api.put("/api/v1/messaging/settings", json=fields, headers=headers)
    )
    return updated


def send(api: httpx.Client, gym: Gym, **body: Any) -> dict[str, Any]:
    queued: dict[str, Any] = ok(api.post("/api/v1/messages", json=body, headers=gym.headers), 202)
    return queued


def message(api: httpx.Client, gym: Gym, message_id: str) -> dict[str, Any]:
    found: dict[str, Any] = ok(api.get(f"/api/v1/messages/{message_id}", headers=gym.headers))
    return found


def history(found: dict[str, Any]) -> list[str]:
    """The statuses a message went through, oldest first."""
    return [entry["status"] for entry in found["status_history"]]
