"""Events' "new photos of you" goes through the one notification hook: an attendee who chose
WhatsApp (their number, their consent) gets one WhatsApp message through the WAHA contract
server when new photos of them are indexed; STOP turns it off; email stays the default."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.contracts.waha import WahaContract
from tests.events.conftest import compose
from tests.images import face_bytes
from tests.messaging.conftest import (
    Gym,
    attendee_headers,
    choose_whatsapp,
    new_event,
    new_phone,
    ok,
    register_attendee,
    sent_to,
)
from tests.outbox import queued_emails
from visage.core.db import Database
from visage.events.uploads import reindex_event
from visage.notifications.service import NotificationKind, Notified, notify


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


@pytest.fixture
def index_photo(
    api: httpx.Client, gym: Gym, run_jobs: Callable[..., None]
) -> Callable[[dict[str, Any], str, bytes], None]:
    """Upload a photo to the event and run the photos worker, which indexes it and queues the
    notices of the attendees it finds."""

    def upload(event: dict[str, Any], name: str, data: bytes) -> None:
        ok(
            api.post(
                f"/api/v1/events/{event['id']}/photos",
                files=[("files", (name, data, "image/jpeg"))],
                headers=gym.headers,
            )
        )
        run_jobs(queues=["photos"])

    return upload


def _whatsapp(api: httpx.Client, headers: dict[str, str], phone: str) -> dict[str, Any]:
    """WhatsApp chosen on the attendee page, the number typed with spaces."""
    return choose_whatsapp(api, headers, f"+{phone[:2]} {phone[2:5]} {phone[5:]}")


def test_an_attendee_who_chose_whatsapp_is_told_there_once(
    api: httpx.Client,
    waha: WahaContract,
    gym: Gym,
    process: Callable[[], None],
    index_photo: Callable[[dict[str, Any], str, bytes], None],
    run_jobs: Callable[..., None],
    database: Database,
) -> None:
    event = new_event(api, gym.headers, "Club race")
    runner = _attendee(api, event, f"barack{uuid.uuid4().hex[:6]}")
    phone = new_phone()
    chosen = _whatsapp(api, runner, phone)
    assert chosen["attendee"]["notice_channel"] == "whatsapp"
    assert chosen["attendee"]["phone"] == phone
    assert chosen["attendee"]["channel_chosen_at"] is not None
    _subscribe(api, event, runner)

    index_photo(event, "finish-line.jpg", compose("obama2.jpg", "biden.jpg"))
    process()
    [sent] = sent_to(waha, phone)
    assert "Club race" in sent["text"]
    assert f"/e/{event['access_code']}" in sent["text"]
    assert sent["text"].startswith("Hi Barack")

    # A second photo of him within the hour, and the whole event re-indexed: no second message
    # (one notice points at all his photos), and no email either.
    index_photo(event, "podium.jpg", compose("hopper.jpg", "obama.jpg"))
    with database.session() as session:
        reindex_event(session, uuid.UUID(event["id"]), failed_only=False)
    run_jobs(queues=["photos"])
    process()
    assert len(sent_to(waha, phone)) == 1
    me = ok(api.get("/api/v1/attendees/me", headers=runner))
    assert len(queued_emails(database, me["attendee"]["email"])) == 0
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
    index_photo: Callable[[dict[str, Any], str, bytes], None],
    database: Database,
) -> None:
    event = new_event(api, gym.headers, "Club race")
    runner = _attendee(api, event, f"obama{uuid.uuid4().hex[:6]}")
    phone = new_phone()
    _whatsapp(api, runner, phone)
    _subscribe(api, event, runner)
    waha.wait_delivered(waha.inbound(gym.session["name"], phone, "STOP"))
    process()
    confirmations = sent_to(waha, phone)
    assert len(confirmations) == 1  # the one confirmation of the STOP
    me = ok(api.get("/api/v1/attendees/me", headers=runner))
    assert me["attendee"]["notice_channel"] == "none"

    index_photo(event, "finish-line.jpg", compose("obama2.jpg", "biden.jpg"))
    process()
    assert len(sent_to(waha, phone)) == 1
    assert len(queued_emails(database, me["attendee"]["email"])) == 0

    # Choosing WhatsApp again on the attendee page is a fresh opt-in from the number's owner.
    _whatsapp(api, runner, phone)
    index_photo(event, "podium.jpg", compose("hopper.jpg", "obama.jpg"))
    process()
    assert len(sent_to(waha, phone)) == 2


def test_whatsapp_needs_an_international_number_and_consent(api: httpx.Client, gym: Gym) -> None:
    event = new_event(api, gym.headers, "Club race")
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
        headers=attendee_headers(anonymous),
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "EVENT_007"


def test_email_stands_in_only_when_the_tenant_has_no_whatsapp(
    api: httpx.Client,
    make_tenant_owner: Callable[[], Any],
    database: Database,
) -> None:
    owner = make_tenant_owner()  # no WhatsApp session
    event = new_event(api, owner.headers, "Night run")
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
    assert len(queued_emails(database, me["email"])) == 1
    ok(api.put("/api/v1/attendees/me/notifications", json={"channel": "none"}, headers=runner))
    skipped = tell("photo-2")
    assert skipped.channel is None
    assert len(queued_emails(database, me["email"])) == 1
