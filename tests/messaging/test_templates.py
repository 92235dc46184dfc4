"""Templates with variables, and sending to a segment with a preview of who is skipped."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.contracts.waha import WahaContract
from tests.messaging.conftest import Gym, message, new_member, new_template, ok, send, sent_to


def test_template_variables(
    api: httpx.Client,
    waha: WahaContract,
    gym: Gym,
    opted_in_member: Callable[..., dict[str, Any]],
    process: Callable[[], None],
) -> None:
    template = new_template(
        api, gym.headers, "welcome", "Hi {first_name}, see you at {event_name}: {link}"
    )
    assert template["variables"] == ["first_name", "event_name", "link"]
    member = opted_in_member("Ada Lovelace")
    missing = api.post(
        "/api/v1/messages",
        json={
            "member_id": member["id"],
            "template_id": template["id"],
            "variables": {"event_name": "Spin"},
        },
        headers=gym.headers,
    )
    assert missing.status_code == 422
    assert missing.json()["error"]["code"] == "MESSAGING_009"
    assert missing.json()["error"]["details"] == {"missing": ["link"]}
    queued = send(
        api,
        gym,
        member_id=member["id"],
        template_id=template["id"],
        variables={"event_name": "Spin", "link": "https://gym.example/spin"},
    )
    process()
    found = message(api, gym, queued["id"])
    assert found["text"] == "Hi Ada, see you at Spin: https://gym.example/spin"
    assert found["status"] == "sent"
    bad = api.post(
        "/api/v1/messaging/templates", json={"name": "x", "body": "Hi {0}"}, headers=gym.headers
    )
    assert bad.status_code == 422
    duplicate = api.post(
        "/api/v1/messaging/templates", json={"name": "welcome", "body": "Hi"}, headers=gym.headers
    )
    assert duplicate.status_code == 409
    listed = ok(api.get("/api/v1/messaging/templates", headers=gym.headers))
    assert [item["name"] for item in listed] == ["welcome"]


def test_segment_preview_then_send(
    api: httpx.Client,
    waha: WahaContract,
    gym: Gym,
    opted_in_member: Callable[..., dict[str, Any]],
    process: Callable[[], None],
) -> None:
    template = new_template(api, gym.headers, "hello", "Hello {first_name}!")
    yes = opted_in_member("Yes Please")
    no = opted_in_member("No Thanks", whatsapp=False)
    phoneless = new_member(api, gym.headers, full_name="No Phone")
    body = {"segment": "active", "template_id": template["id"]}
    preview = ok(api.post("/api/v1/messages/bulk/preview", json=body, headers=gym.headers))
    assert [(r["full_name"], r["text"]) for r in preview["recipients"]] == [
        ("Yes Please", "Hello Yes!")
    ]
    skipped = {r["full_name"]: r["code"] for r in preview["skipped"]}
    assert skipped == {"No Thanks": "MESSAGING_001", "No Phone": "MESSAGING_003"}

    picked = ok(
        api.post(
            "/api/v1/messages/bulk",
            json={
                **body,
                "segment": "members",
                "member_ids": [yes["id"], no["id"], phoneless["id"]],
            },
            headers=gym.headers,
        ),
        202,
    )
    assert len(picked["queued"]) == 1
    assert len(picked["skipped"]) == 2
    process()
    assert [s["text"] for s in sent_to(waha, yes["digits"])] == ["Hello Yes!"]
