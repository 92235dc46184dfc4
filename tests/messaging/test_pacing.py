"""Anti-ban pacing: quiet hours in the tenant's time zone, a gap between messages to new
contacts, a cap an hour. A message that may not go yet stays queued and is retried then."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import text

from tests.messaging.conftest import Gym, configure, message, send
from visage.core.db import Database
from visage.messaging.pacing import Rules, jitter_of, quiet_until


def _rules(start: int, end: int, zone: str = "Europe/Amsterdam") -> Rules:
    return Rules(ZoneInfo(zone), start, end, 30, 10, 60, ("STOP",))


def test_quiet_hours_across_midnight_in_the_tenants_zone() -> None:
    rules = _rules(21, 8)
    # 22:30 in Amsterdam (winter, UTC+1) is quiet until 08:00 local the next day.
    late = datetime(2026, 12, 1, 21, 30, tzinfo=UTC)
    assert quiet_until(rules, late) == datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    early = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)  # 07:00 local
    assert quiet_until(rules, early) == datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    assert quiet_until(rules, datetime(2026, 12, 2, 12, 0, tzinfo=UTC)) is None
    assert quiet_until(_rules(0, 0), late) is None
    assert quiet_until(_rules(13, 14), datetime(2026, 12, 2, 12, 30, tzinfo=UTC)) is not None


def test_jitter_is_bounded_and_stable() -> None:
    rules = _rules(0, 0)
    message_id = uuid.uuid4()
    assert 0 <= jitter_of(message_id, rules) < rules.jitter_seconds
    assert jitter_of(message_id, rules) == jitter_of(message_id, rules)


def _scheduled(database: Database, message_id: str) -> datetime:
    """When the message's pending send job is due; there must be one."""
    with database.session() as session:
        found: datetime | None = session.scalar(
            text(
                "SELECT max(scheduled_at) FROM procrastinate_jobs WHERE status = 'todo' "
                "AND task_name = 'messaging.send_message' AND args->>'message_id' = :id"
            ),
            {"id": message_id},
        )
    assert found is not None, f"no send job waiting for message {message_id}"
    return found


def _one_sent_one_held(
    api: httpx.Client,
    gym: Gym,
    process: Callable[[], None],
    database: Database,
    sent: dict[str, Any],
    held: dict[str, Any],
) -> datetime:
    """Run the worker: `sent` goes out, `held` stays queued. When `held` is due to be tried."""
    process()
    assert message(api, gym, sent["id"])["status"] == "sent"
    assert message(api, gym, held["id"])["status"] == "queued"
    return _scheduled(database, held["id"])


def test_gap_between_new_contacts_and_hourly_cap(
    api: httpx.Client,
    gym: Gym,
    opted_in_member: Callable[..., dict[str, Any]],
    process: Callable[[], None],
    database: Database,
) -> None:
    configure(api, gym.headers, min_interval_seconds=600, hourly_cap=2)
    first, second = opted_in_member("First"), opted_in_member("Second")
    sent = send(api, gym, member_id=first["id"], text="Hello")
    waiting = send(api, gym, member_id=second["id"], text="Hello")
    later = _one_sent_one_held(api, gym, process, database, sent, waiting)
    assert later > datetime.now(UTC) + timedelta(seconds=590)

    # Not a new contact: no gap, but the hourly cap (2) still counts.
    again = send(api, gym, member_id=first["id"], text="Again")
    capped = send(api, gym, member_id=first["id"], text="Third")
    until = _one_sent_one_held(api, gym, process, database, again, capped)
    assert until > datetime.now(UTC) + timedelta(minutes=50)


def test_quiet_hours_keep_whatsapp_queued(
    api: httpx.Client,
    gym: Gym,
    opted_in_member: Callable[..., dict[str, Any]],
    process: Callable[[], None],
    database: Database,
) -> None:
    hour = datetime.now(UTC).hour
    configure(
        api, gym.headers, timezone="UTC", quiet_start_hour=hour, quiet_end_hour=(hour + 1) % 24
    )
    member = opted_in_member()
    queued = send(api, gym, member_id=member["id"], text="Late night promo")
    process()
    assert message(api, gym, queued["id"])["status"] == "queued"
    until = _scheduled(database, queued["id"])
    assert until.hour == (hour + 1) % 24
    assert until.minute == 0


def test_unknown_time_zone_is_refused(api: httpx.Client, gym: Gym) -> None:
    refused = api.put(
        "/api/v1/messaging/settings", json={"timezone": "Mars/Olympus"}, headers=gym.headers
    )
    assert refused.status_code == 422
