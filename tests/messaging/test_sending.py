"""Sending: 202 queued → sent (WAHA's id stored, whatever its shape) → delivered → read as
signed acks arrive, duplicates and late acks included; consent, idempotency, listing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.contracts.waha import WahaContract
from tests.messaging.conftest import (
    Gym,
    history,
    message,
    new_member,
    new_phone,
    ok,
    send,
    sent_to,
    set_messaging,
)


def test_queued_sent_delivered_read_with_duplicate_and_late_acks(
    api: httpx.Client,
    waha: WahaContract,
    gym: Gym,
    opted_in_member: Callable[..., dict[str, Any]],
    process: Callable[[], None],
) -> None:
    member = opted_in_member()
    queued = send(api, gym, member_id=member["id"], text="Your class starts at 7")
    assert queued["status"] == "queued"
    assert message(api, gym, queued["id"])["status"] == "queued"

    process()
    sent = message(api, gym, queued["id"])
    assert sent["status"] == "sent"
    [outgoing] = sent_to(waha, member["digits"])
    assert outgoing["text"] == "Your class starts at 7"
    assert outgoing["session"] == gym.session["name"]
    assert sent["provider_message_id"] == outgoing["id"]

    name, provider_id = gym.session["name"], outgoing["id"]
    waha.wait_delivered(waha.ack(name, provider_id, 1))
    delivered = waha.ack(name, provider_id, 2)
    waha.wait_delivered(delivered)
    process()
    assert message(api, gym, queued["id"])["status"] == "delivered"

    read = waha.ack(name, provider_id, 3)
    waha.wait_delivered(read)
    waha.wait_delivered(waha.ack(name, provider_id, 3, envelope_id=read))  # WAHA's retry
    waha.wait_delivered(waha.ack(name, provider_id, 2))  # a late `delivered`
    process()
    final = message(api, gym, queued["id"])
    assert final["status"] == "read"
    assert history(final) == ["queued", "sending", "sent", "delivered", "read"]
    assert len([item for item in waha.sent if item["id"] == provider_id]) == 1


@pytest.mark.parametrize("shape", ["nested", "key", "empty"])
def test_every_engine_id_shape(
    api: httpx.Client,
    waha: WahaContract,
    gym: Gym,
    opted_in_member: Callable[..., dict[str, Any]],
    process: Callable[[], None],
    shape: str,
) -> None:
    waha.id_shape = shape
    try:
        member = opted_in_member()
        queued = send(api, gym, member_id=member["id"], text="Hello")
        process()
    finally:
        waha.id_shape = "serialized"
    found = message(api, gym, queued["id"])
    assert found["status"] == "sent"
    [outgoing] = sent_to(waha, member["digits"])
    if shape == "empty":
        assert found["provider_message_id"] is None
        return
    # Acks name the message by its serialized id; the bare key of the send answer matches it.
    waha.wait_delivered(waha.ack(gym.session["name"], outgoing["id"], 3))
    process()
    assert message(api, gym, queued["id"])["status"] == "read"


def test_refusals_say_why(
    api: httpx.Client, gym: Gym, opted_in_member: Callable[..., dict[str, Any]]
) -> None:
    no_consent = opted_in_member(whatsapp=False)
    refused = api.post(
        "/api/v1/messages", json={"member_id": no_consent["id"], "text": "Hi"}, headers=gym.headers
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "MESSAGING_001"
    stranger = api.post(
        "/api/v1/messages", json={"phone": f"+{new_phone()}", "text": "Hi"}, headers=gym.headers
    )
    assert stranger.json()["error"]["code"] == "MESSAGING_001"
    bad_phone = api.post(
        "/api/v1/messages", json={"phone": "12", "text": "Hi"}, headers=gym.headers
    )
    assert bad_phone.status_code == 422
    assert bad_phone.json()["error"]["code"] == "MESSAGING_003"
    both = api.post(
        "/api/v1/messages",
        json={"member_id": no_consent["id"], "phone": "+31600000000", "text": "Hi"},
        headers=gym.headers,
    )
    assert both.status_code == 422


def test_no_session_refused(api: httpx.Client, make_tenant_owner: Callable[[], Any]) -> None:
    owner = make_tenant_owner()
    member = new_member(api, owner.headers, full_name="Solo", phone="+31611111111")
    set_messaging(api, owner.headers, member, whatsapp=True)
    refused = api.post(
        "/api/v1/messages", json={"member_id": member["id"], "text": "Hi"}, headers=owner.headers
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "MESSAGING_004"


def test_idempotency_key_queues_once(
    api: httpx.Client,
    waha: WahaContract,
    gym: Gym,
    opted_in_member: Callable[..., dict[str, Any]],
    process: Callable[[], None],
) -> None:
    member = opted_in_member()
    body = {"member_id": member["id"], "text": "Once", "idempotency_key": "renewal-2026-12"}
    first, again = send(api, gym, **body), send(api, gym, **body)
    assert first["id"] == again["id"]
    other = api.post("/api/v1/messages", json={**body, "text": "Different"}, headers=gym.headers)
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "MESSAGING_010"
    process()
    assert len(sent_to(waha, member["digits"])) == 1


def test_not_on_whatsapp_fails_and_check_is_cached(
    api: httpx.Client,
    waha: WahaContract,
    gym: Gym,
    opted_in_member: Callable[..., dict[str, Any]],
    process: Callable[[], None],
) -> None:
    member = opted_in_member()
    waha.not_on_whatsapp.add(member["digits"])
    first = send(api, gym, member_id=member["id"], text="One")
    second = send(api, gym, member_id=member["id"], text="Two")
    process()
    for queued in (first, second):
        found = message(api, gym, queued["id"])
        assert found["status"] == "failed"
        assert found["error_code"] == "MESSAGING_011"
    assert waha.check_calls.count(member["digits"]) == 1


def test_listing_filters_and_pages(
    api: httpx.Client,
    gym: Gym,
    opted_in_member: Callable[..., dict[str, Any]],
    process: Callable[[], None],
) -> None:
    member = opted_in_member()
    ids = [send(api, gym, member_id=member["id"], text=f"m{i}")["id"] for i in range(3)]
    queued = ok(
        api.get(
            "/api/v1/messages",
            params={"status": "queued", "member_id": member["id"], "page_size": 2},
            headers=gym.headers,
        )
    )
    assert queued["total"] == 3
    assert len(queued["items"]) == 2
    process()
    listed = ok(
        api.get("/api/v1/messages", params={"member_id": member["id"]}, headers=gym.headers)
    )
    assert {item["id"] for item in listed["items"]} == set(ids)
    assert {item["status"] for item in listed["items"]} == {"sent"}
    none_queued = ok(
        api.get(
            "/api/v1/messages",
            params={"status": "queued", "member_id": member["id"]},
            headers=gym.headers,
        )
    )
    assert none_queued["total"] == 0
