"""notify(): WhatsApp for members who opted in, else email; templates; quiet hours."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.contracts.waha import WahaContract
from tests.messaging.conftest import (
    Gym,
    configure,
    message,
    new_member,
    new_template,
    sent_to,
    set_messaging,
)
from tests.outbox import queued_emails
from visage.core.db import Database
from visage.notifications.service import NotificationKind, Notified, notify


def _notify(database: Database, gym: Gym, member: dict[str, Any], **extra: Any) -> Notified:
    with database.session() as session:
        return notify(
            session,
            tenant_id=gym.owner.tenant.id,
            member_id=uuid.UUID(member["id"]),
            kind=extra.pop("kind", NotificationKind.PAYMENT_FAILED),
            variables={
                "link": "https://gym.example/pay",
                "amount": "49.00 EUR",
                "reason": "",
                **extra.pop("variables", {}),
            },
            **extra,
        )


def test_whatsapp_when_opted_in_once_per_dedupe_key(
    api: httpx.Client,
    waha: WahaContract,
    gym: Gym,
    opted_in_member: Callable[..., dict[str, Any]],
    process: Callable[[], None],
    database: Database,
) -> None:
    member = opted_in_member("Grace Hopper")
    first = _notify(database, gym, member, dedupe_key="invoice-1")
    again = _notify(database, gym, member, dedupe_key="invoice-1")
    assert first.channel == "whatsapp"
    assert again.message_id == first.message_id
    process()
    sent = message(api, gym, str(first.message_id))
    assert sent["status"] == "sent"
    assert sent["kind"] == "notification"
    assert sent["text"].startswith(
        "Hi Grace, your membership payment of 49.00 EUR did not go through"
    )
    assert len(sent_to(waha, member["digits"])) == 1


def test_email_when_no_whatsapp_and_the_tenant_template(
    api: httpx.Client,
    gym: Gym,
    opted_in_member: Callable[..., dict[str, Any]],
    database: Database,
) -> None:
    new_template(api, gym.headers, "new_photos", "{first_name}: {event_name} photos at {link}")
    address = f"{uuid.uuid4().hex[:8]}@example.org"
    member = new_member(api, gym.headers, full_name="Alan Turing", email=address)
    notified = _notify(
        database, gym, member, kind=NotificationKind.NEW_PHOTOS, variables={"event_name": "Race"}
    )
    assert notified.channel == "email"
    [email] = queued_emails(database, address)
    assert email["body"] == "Alan: Race photos at https://gym.example/pay"
    assert email["subject"] == "New photos of you"

    set_messaging(api, gym.headers, member, email=False)
    skipped = _notify(
        database,
        gym,
        member,
        kind=NotificationKind.MEMBERSHIP_EXPIRING,
        variables={"end_date": "2026-12-31"},
    )
    assert skipped.channel is None
    assert "email turned off" in (skipped.skipped or "")
    del opted_in_member


def test_quiet_hours_delay_the_email(api: httpx.Client, gym: Gym, database: Database) -> None:
    hour = datetime.now(UTC).hour
    configure(
        api, gym.headers, timezone="UTC", quiet_start_hour=hour, quiet_end_hour=(hour + 2) % 24
    )
    address = f"{uuid.uuid4().hex[:8]}@example.org"
    member = new_member(api, gym.headers, full_name="Quiet", email=address)
    assert (
        _notify(database, gym, member, kind=NotificationKind.CHECKIN_DENIED_PAYMENT).channel
        == "email"
    )
    [email] = queued_emails(database, address)
    assert email["scheduled_at"] is not None
    assert email["scheduled_at"].hour == (hour + 2) % 24
