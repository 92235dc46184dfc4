"""A member who texts STOP is opted out at once, confirmed once, and gets nothing more."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.contracts.waha import WahaContract
from tests.messaging.conftest import Gym, configure, message, ok, send, sent_to, set_messaging


def test_stop_opts_out_and_confirms_once(
    api: httpx.Client,
    waha: WahaContract,
    gym: Gym,
    opted_in_member: Callable[..., dict[str, Any]],
    process: Callable[[], None],
) -> None:
    member = opted_in_member()
    send(api, gym, member_id=member["id"], text="Welcome!")
    process()
    waha.wait_delivered(waha.inbound(gym.session["name"], member["digits"], " stop "))
    # Queued before the STOP was applied, due after it: must not go out.
    pending = send(api, gym, member_id=member["id"], text="Promo")
    process()
    assert message(api, gym, pending["id"])["status"] == "failed"
    assert message(api, gym, pending["id"])["error_code"] == "MESSAGING_002"
    texts = [item["text"] for item in sent_to(waha, member["digits"])]
    assert texts[0] == "Welcome!"
    assert len(texts) == 2
    assert "not get more WhatsApp messages" in texts[1]

    preference = ok(api.get(f"/api/v1/members/{member['id']}/messaging", headers=gym.headers))
    assert preference["whatsapp"] is False
    assert preference["whatsapp_opted_out"] is True
    assert preference["source"] == "inbound:STOP"
    assert preference["updated_by"] is None

    refused = api.post(
        "/api/v1/messages", json={"member_id": member["id"], "text": "Hi"}, headers=gym.headers
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "MESSAGING_002"
    by_phone = api.post(
        "/api/v1/messages", json={"phone": member["digits"], "text": "Hi"}, headers=gym.headers
    )
    assert by_phone.json()["error"]["code"] == "MESSAGING_002"

    waha.wait_delivered(waha.inbound(gym.session["name"], member["digits"], "STOP"))
    process()
    assert len(sent_to(waha, member["digits"])) == 2  # confirmed once

    conversation = ok(
        api.get(
            "/api/v1/messages",
            params={"member_id": member["id"], "direction": "inbound"},
            headers=gym.headers,
        )
    )
    assert [item["text"] for item in conversation["items"]] == ["STOP", " stop "]


def test_staff_opt_in_again_records_who(
    api: httpx.Client,
    waha: WahaContract,
    gym: Gym,
    opted_in_member: Callable[..., dict[str, Any]],
    process: Callable[[], None],
) -> None:
    member = opted_in_member()
    waha.wait_delivered(waha.inbound(gym.session["name"], member["digits"], "STOP"))
    process()
    again = set_messaging(api, gym.headers, member, whatsapp=True)
    assert again["whatsapp"] is True
    assert again["whatsapp_opted_out"] is False
    assert again["updated_by"] == str(gym.owner.user.id)
    assert again["updated_at"] is not None


def test_tenant_opt_out_words(
    api: httpx.Client,
    waha: WahaContract,
    gym: Gym,
    opted_in_member: Callable[..., dict[str, Any]],
    process: Callable[[], None],
) -> None:
    configure(api, gym.headers, opt_out_words=["halt"])
    member = opted_in_member()
    waha.wait_delivered(waha.inbound(gym.session["name"], member["digits"], "Halt"))
    process()
    preference = ok(api.get(f"/api/v1/members/{member['id']}/messaging", headers=gym.headers))
    assert preference["whatsapp_opted_out"] is True


def test_stop_at_night_is_confirmed_at_once(
    api: httpx.Client,
    waha: WahaContract,
    gym: Gym,
    opted_in_member: Callable[..., dict[str, Any]],
    process: Callable[[], None],
) -> None:
    hour = datetime.now(UTC).hour
    configure(api, gym.headers, quiet_start_hour=hour, quiet_end_hour=(hour + 1) % 24)
    member = opted_in_member()
    waha.wait_delivered(waha.inbound(gym.session["name"], member["digits"], "STOP"))
    process()
    [confirmation] = sent_to(waha, member["digits"])
    assert "not get more WhatsApp messages" in confirmation["text"]
    replies = ok(
        api.get(
            "/api/v1/messages",
            params={"member_id": member["id"], "direction": "outbound"},
            headers=gym.headers,
        )
    )
    assert [item["kind"] for item in replies["items"]] == ["opt_out_confirmation"]
