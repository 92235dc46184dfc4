"""Events' "new photos of you" goes through the one notification hook: an attendee who chose
WhatsApp (their number, their consent) gets one WhatsApp message through the WAHA contract
server when new photos of them are indexed; STOP turns it off; email stays the default."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
from sqlalchemy import text

from tests.contracts.waha import WahaContract
from tests.events.conftest import compose
from tests.images import face_bytes
from tests.messaging.conftest import Gym, attendee_headers, new_phone, ok, register_attendee
from visage.core.db import Database
from visage.events.uploads import reindex_event
from visage.notifications.service import NotificationKind, Notified, notify


def _event(api: httpx.Client, gym: Gym) -> dict[str, Any]:
    body = {"name": "Club race", "slug": f"race-{uuid.uuid4().hex[:8]}"}
    event: dict[str, Any] = ok(
        api.post(
            "/api/v1/events",
            json={**body, "event_date": date.today().isoformat()},
            headers=gym.headers,
        ),
        201,
    )
    return event


def _attendee(api: httpx.Client, event: dict[str, Any], username: str) -> dict[str, str]:
    registered = register_attendee(api, event, f"{username.title()} Runner", username=username)
    return attendee_headers(registered)


def _subscribe(api: httpx.Client, event: dict[str, Any], headers: dict[str, str]) -> None:
    ok(
        api.post(
            f"/api/v1/events/{event['id']}/search",
            files={"image": ("selfie.jpg", face_bytes("obama3.jpg"), "image/jpeg")},
            data={"notify": "true"},
            headers=headers,
        )
    )


def _upload(api: httpx.Client, gym: Gym, event: dict[str, Any], name: str, data: bytes) -> None:
    ok(
        api.post(
            f"/api/v1/events/{event['id']}/photos",
            files=[("files", (name, data, "image/jpeg"))],
            headers=gym.headers,
        )
    )


def _whatsapp(api: httpx.Client, headers: dict[str, str], phone: str) -> dict[str, Any]:
    chosen: dict[str, Any] = ok(
        api.put(
            "/api/v1/attendees/me/notifications",
            json={
                "channel": "whatsapp",
                "phone": f"+{phone[:2]} {phone[2:5]} {phone[5:]}",
                "whatsapp_consent": True,
            },
            headers=headers,
        )
    )
    return chosen


def _to(waha: WahaContract, digits: str) -> list[dict[str, Any]]:
    return [item for item in waha.sent if item["chatId"] == f"{digits}@c.us"]


def _emails_to(database: Database, address: str) -> int:
    with database.session() as session:
        return int(
            session.scalar(
                text(
                    "SELECT count(*) FROM procrastinate_jobs "
                    "WHERE task_name = 'identity.send_email' AND args->>'to' = :to"
                ),
                {"to": address},
            )
            or 0
        )


def test_an_attendee_who_chose_whatsapp_is_told_there_once(
    api: httpx.Client,
    waha: WahaContract,
    gym: Gym,
    process: Callable[[], None],
    run_jobs: Callable[..., None],
    database: Database,
) -> None:
    event = _event(api, gym)
    runner = _attendee(api, event, f"barack{uuid.uuid4().hex[:6]}")
    phone = new_phone()
    chosen = _whatsapp(api, runner, phone)
    assert chosen["attendee"]["notice_channel"] == "whatsapp"
    assert chosen["attendee"]["phone"] == phone
    assert chosen["attendee"]["channel_chosen_at"] is not None
    _subscribe(api, event, runner)

    _upload(api, gym, event, "finish-line.jpg", compose("obama2.jpg", "biden.jpg"))
    run_jobs(queues=["photos"])
    process()
    [sent] = _to(waha, phone)
    assert "Club race" in sent["text"]
    assert f"/e/{event['access_code']}" in sent["text"]
    assert sent["text"].startswith("Hi Barack")

    # A second photo of him within the hour, and the whole event re-indexed: no second message
    # (one notice points at all his photos), and no email either.
    _upload(api, gym, event, "podium.jpg", compose("hopper.jpg", "obama.jpg"))
    run_jobs(queues=["photos"])
    with database.session() as session:
        reindex_event(session, uuid.UUID(event["id"]), failed_only=False)
    run_jobs(queues=["photos"])
    process()
    assert len(_to(waha, phone)) == 1
    me = ok(api.get("/api/v1/attendees/me", headers=runner))
    assert _emails_to(database, me["attendee"]["email"]) == 0
    with database.session() as session:
        kinds = session.execute(
            text("SELECT kind, channel FROM notifications_sent WHERE recipient = :recipient"),
            {"recipient": f"attendee:{me['attendee']['id']}"},
        ).all()
    assert kinds == [("new_photos", "whatsapp")]


def test_stop_from_the_attendee_turns_whatsapp_off(
    api: httpx.Client,
    waha: WahaContract,
    gym: Gym,
    process: Callable[[], None],
    run_jobs: Callable[..., None],
    database: Database,
) -> None:
    event = _event(api, gym)
    runner = _attendee(api, event, f"obama{uuid.uuid4().hex[:6]}")
    phone = new_phone()
    _whatsapp(api, runner, phone)
    _subscribe(api, event, runner)
    waha.wait_delivered(waha.inbound(gym.session["name"], phone, "STOP"))
    process()
    confirmations = _to(waha, phone)
    assert len(confirmations) == 1  # the one confirmation of the STOP
    me = ok(api.get("/api/v1/attendees/me", headers=runner))
    assert me["attendee"]["notice_channel"] == "none"

    _upload(api, gym, event, "finish-line.jpg", compose("obama2.jpg", "biden.jpg"))
    run_jobs(queues=["photos"])
    process()
    assert len(_to(waha, phone)) == 1
    assert _emails_to(database, me["attendee"]["email"]) == 0

    # Choosing WhatsApp again on the attendee page is a fresh opt-in from the number's owner.
    _whatsapp(api, runner, phone)
    _upload(api, gym, event, "podium.jpg", compose("hopper.jpg", "obama.jpg"))
    run_jobs(queues=["photos"])
    process()
    assert len(_to(waha, phone)) == 2


def test_whatsapp_needs_an_international_number_and_consent(api: httpx.Client, gym: Gym) -> None:
    event = _event(api, gym)
    runner = _attendee(api, event, f"ada{uuid.uuid4().hex[:6]}")
    for body in (
        {"channel": "whatsapp", "phone": "+31 612 345678"},  # no consent
        {"channel": "whatsapp", "whatsapp_consent": True},  # no number
        {"channel": "whatsapp", "phone": "0612345678", "whatsapp_consent": True},  # national
    ):
        refused = api.put("/api/v1/attendees/me/notifications", json=body, headers=runner)
        assert refused.status_code == 422, body
    me = ok(api.get("/api/v1/attendees/me", headers=runner))
    assert me["attendee"]["notice_channel"] == "email"
    chosen = ok(
        api.put("/api/v1/attendees/me/notifications", json={"channel": "none"}, headers=runner)
    )
    assert chosen["attendee"]["notice_channel"] == "none"
    anonymous = ok(
        api.post("/api/v1/attendees/anonymous", json={"access_code": event["access_code"]})
    )
    refused = api.put(
        "/api/v1/attendees/me/notifications",
        json={"channel": "email"},
        headers={"Authorization": f"Bearer {anonymous['access_token']}"},
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "EVENT_007"


def test_email_stands_in_only_when_the_tenant_has_no_whatsapp(
    api: httpx.Client,
    make_tenant_owner: Callable[[], Any],
    database: Database,
) -> None:
    owner = make_tenant_owner()  # no WhatsApp session
    event = ok(
        api.post(
            "/api/v1/events",
            json={"name": "Night run", "slug": "night-run", "event_date": date.today().isoformat()},
            headers=owner.headers,
        ),
        201,
    )
    runner = _attendee(api, event, f"grace{uuid.uuid4().hex[:6]}")
    _whatsapp(api, runner, new_phone())
    me = ok(api.get("/api/v1/attendees/me", headers=runner))["attendee"]

    def tell(key: str) -> Notified:
        with database.session() as session:
            return notify(
                session,
                tenant_id=owner.tenant.id,
                attendee_id=uuid.UUID(me["id"]),
                kind=NotificationKind.NEW_PHOTOS,
                variables={"event_name": "Night run", "link": "https://club.example/e/X"},
                dedupe_key=key,
            )

    assert tell("photo-1").channel == "email"
    assert tell("photo-1").repeated is True  # the same notice again: told once
    assert _emails_to(database, me["email"]) == 1
    ok(api.put("/api/v1/attendees/me/notifications", json={"channel": "none"}, headers=runner))
    skipped = tell("photo-2")
    assert skipped.channel is None
    assert _emails_to(database, me["email"]) == 1
