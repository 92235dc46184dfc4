"""notify(): WhatsApp for members who opted in, else email; templates; quiet hours."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import text

from tests.contracts.waha import WahaContract
from tests.messaging.conftest import Gym, configure, message, ok
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


def _emails_to(database: Database, address: str) -> list[dict[str, Any]]:
    with database.session() as session:
        rows = session.execute(
            text(
                "SELECT args, scheduled_at FROM procrastinate_jobs "
                "WHERE task_name = 'identity.send_email' AND args->>'to' = :to"
            ),
            {"to": address},
        ).all()
    return [{**args, "scheduled_at": scheduled} for args, scheduled in rows]


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
    assert len([s for s in waha.sent if s["chatId"] == f"{member['digits']}@c.us"]) == 1


def test_email_when_no_whatsapp_and_the_tenant_template(
    api: httpx.Client,
    gym: Gym,
    opted_in_member: Callable[..., dict[str, Any]],
    database: Database,
) -> None:
    ok(
        api.post(
            "/api/v1/messaging/templates",
            json={"name": "new_photos", "body": "{first_name}: {event_name} photos at {link}"},
            headers=gym.headers,
        ),
        201,
    )
    address = f"{uuid.uuid4().hex[:8]}@example.org"
    member = ok(
        api.post(
            "/api/v1/members",
            json={"full_name": "Alan Turing", "email": address},
            headers=gym.headers,
        ),
        201,
    )
    notified = _notify(
        database, gym, member, kind=NotificationKind.NEW_PHOTOS, variables={"event_name": "Race"}
    )
    assert notified.channel == "email"
    [email] = _emails_to(database, address)
    assert email["body"] == "Alan: Race photos at https://gym.example/pay"
    assert email["subject"] == "New photos of you"

    ok(
        api.put(
            f"/api/v1/members/{member['id']}/messaging",
            json={"email": False},
            headers=gym.headers,
        )
    )
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
    member = ok(
        api.post(
            "/api/v1/members", json={"full_name": "Quiet", "email": address}, headers=gym.headers
        ),
        201,
    )
    assert (
        _notify(database, gym, member, kind=NotificationKind.CHECKIN_DENIED_PAYMENT).channel
        == "email"
    )
    [email] = _emails_to(database, address)
    assert email["scheduled_at"] is not None
    assert email["scheduled_at"].hour == (hour + 2) % 24
