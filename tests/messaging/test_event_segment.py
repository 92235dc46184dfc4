"""Send to an event's attendees: the preview says who gets it (rendered with their event) and
who is skipped (chose email, no number, not on WhatsApp); the send reaches only the former."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.contracts.waha import WahaContract
from tests.messaging.conftest import (
    Gym,
    attendee_headers,
    message,
    new_event,
    new_phone,
    new_template,
    ok,
    register_attendee,
    sent_to,
)


def _attendee(
    api: httpx.Client,
    event: dict[str, Any],
    full_name: str,
    phone: str | None,
    *,
    then_email: bool = False,
) -> dict[str, Any]:
    registered = register_attendee(api, event, full_name, whatsapp=phone)
    if then_email:  # changed their mind: the number stays, the consent does not
        email = {"channel": "email"}
        headers = attendee_headers(registered)
        ok(api.put("/api/v1/attendees/me/notifications", json=email, headers=headers))
    attendee: dict[str, Any] = registered["attendee"]
    return attendee


def test_an_events_attendees_preview_then_send(
    api: httpx.Client,
    waha: WahaContract,
    gym: Gym,
    process: Callable[[], None],
) -> None:
    race = new_event(api, gym.headers, "Spring race")
    other = new_event(api, gym.headers, "Other event")
    phone, absent = new_phone(), new_phone()
    yes = _attendee(api, race, "Ada Runner", phone)
    _attendee(api, race, "Emma Email", None)
    _attendee(api, race, "Wendy Withdrew", new_phone(), then_email=True)
    _attendee(api, race, "Nora Nowhatsapp", absent)
    _attendee(api, other, "Oscar Other", new_phone())
    # Learn (through a real send) that the absent number is not on WhatsApp.
    waha.not_on_whatsapp.add(absent)
    template = new_template(
        api, gym.headers, "race-photos", "{first_name}: {event_name} photos at {link}"
    )
    body = {"segment": "event_attendees", "event_id": race["id"], "template_id": template["id"]}
    first = ok(api.post("/api/v1/messages/bulk", json=body, headers=gym.headers), 202)
    assert len(first["queued"]) == 2
    process()
    statuses = sorted(message(api, gym, item["id"])["status"] for item in first["queued"])
    assert statuses == ["failed", "sent"]

    preview = ok(api.post("/api/v1/messages/bulk/preview", json=body, headers=gym.headers))
    link = f"/e/{race['access_code']}"
    [recipient] = preview["recipients"]
    assert recipient["attendee_id"] == yes["id"]
    assert recipient["member_id"] is None
    assert recipient["text"].startswith("Ada: Spring race photos at http")
    assert recipient["text"].endswith(link)
    skipped = {r["full_name"]: r["code"] for r in preview["skipped"]}
    assert skipped == {
        "Emma Email": "MESSAGING_003",  # no number
        "Wendy Withdrew": "MESSAGING_001",  # no consent
        "Nora Nowhatsapp": "MESSAGING_011",  # not on WhatsApp
    }

    sent = ok(api.post("/api/v1/messages/bulk", json=body, headers=gym.headers), 202)
    [queued] = sent["queued"]
    process()
    found = message(api, gym, queued["id"])
    assert found["status"] == "sent"
    assert found["attendee_id"] == yes["id"]
    assert [s["text"] for s in sent_to(waha, phone)] == [
        recipient["text"],
        recipient["text"],
    ]


def test_the_event_segment_needs_an_event_of_the_tenant(
    api: httpx.Client,
    gym: Gym,
    make_tenant_owner: Callable[[], Any],
) -> None:
    missing = api.post(
        "/api/v1/messages/bulk/preview",
        json={"segment": "event_attendees", "text": "Hi"},
        headers=gym.headers,
    )
    assert missing.status_code == 422
    stranger = make_tenant_owner()
    theirs = new_event(api, stranger.headers, "Theirs")
    hidden = api.post(
        "/api/v1/messages/bulk/preview",
        json={"segment": "event_attendees", "event_id": theirs["id"], "text": "Hi"},
        headers=gym.headers,
    )
    assert hidden.status_code == 404
