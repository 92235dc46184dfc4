"""Anti-ban pacing (WAHA has no throttle): quiet hours in the tenant's time zone, a gap between
messages of a session to new contacts, and a cap an hour."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from visage.config import Settings
from visage.core.errors import ValidationFailed
from visage.messaging.models import Message, MessagingSettings
from visage.messaging.provider import DeliveryStatus

DEFAULT_OPT_OUT_WORDS = ("STOP", "STOPP", "UNSUBSCRIBE", "ARRET", "BAJA", "CANCEL")
# A message counts against pacing once its send was attempted.
ATTEMPTED = (
    DeliveryStatus.SENDING,
    DeliveryStatus.SENT,
    DeliveryStatus.DELIVERED,
    DeliveryStatus.READ,
    DeliveryStatus.PLAYED,
    DeliveryStatus.UNKNOWN,
)
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Rules:
    timezone: ZoneInfo
    quiet_start_hour: int
    quiet_end_hour: int
    min_interval_seconds: float
    jitter_seconds: float
    hourly_cap: int
    opt_out_words: tuple[str, ...]


def tenant_settings(session: Session, tenant_id: uuid.UUID) -> MessagingSettings:
    found = session.get(MessagingSettings, tenant_id)
    if found is None:
        found = MessagingSettings(
            tenant_id=tenant_id,
            timezone="UTC",
            quiet_start_hour=21,
            quiet_end_hour=8,
            opt_out_words=[],
        )
    return found


def rules_for(session: Session, tenant_id: uuid.UUID, settings: Settings) -> Rules:
    row = tenant_settings(session, tenant_id)
    try:
        zone = ZoneInfo(row.timezone)
    except ZoneInfoNotFoundError:
        zone = ZoneInfo("UTC")
    interval = row.min_interval_seconds
    return Rules(
        timezone=zone,
        quiet_start_hour=row.quiet_start_hour,
        quiet_end_hour=row.quiet_end_hour,
        min_interval_seconds=settings.messaging_min_interval_seconds
        if interval is None
        else interval,
        jitter_seconds=settings.messaging_jitter_seconds,
        hourly_cap=row.hourly_cap or settings.messaging_hourly_cap,
        opt_out_words=tuple(word.upper() for word in row.opt_out_words) + DEFAULT_OPT_OUT_WORDS,
    )


def quiet_until(rules: Rules, now: datetime) -> datetime | None:
    """The end of the quiet hours `now` falls in, or None outside them."""
    start, end = rules.quiet_start_hour, rules.quiet_end_hour
    if start == end:
        return None
    local = now.astimezone(rules.timezone)
    hour = local.hour
    quiet = start <= hour < end if start < end else hour >= start or hour < end
    if not quiet:
        return None
    ends = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if ends <= local:
        ends += timedelta(days=1)
    return ends


def jitter_of(message_id: uuid.UUID, rules: Rules) -> float:
    """Deterministic per message, so a re-check does not push it further every time."""
    return (message_id.int % 1000) / 1000 * rules.jitter_seconds


def is_new_contact(session: Session, message: Message) -> bool:
    earlier = session.scalar(
        select(Message.id)
        .where(Message.tenant_id == message.tenant_id, Message.phone == message.phone)
        .where(Message.id != message.id)
        .where(
            (Message.direction == "inbound")
            | Message.status.in_([status.value for status in ATTEMPTED])
        )
        .limit(1)
    )
    return earlier is None


def next_send_at(session: Session, message: Message, rules: Rules, now: datetime) -> datetime:
    """The earliest moment this message may go out (`now` when it may go at once)."""
    quiet = quiet_until(rules, now)
    if quiet is not None:
        return quiet
    attempted = (
        select(Message.sent_at)
        .where(Message.session_id == message.session_id, Message.direction == "outbound")
        .where(Message.status.in_([status.value for status in ATTEMPTED]))
        .where(Message.sent_at.is_not(None))
    )
    window: list[datetime] = [
        sent
        for sent in session.scalars(
            attempted.where(Message.sent_at > now - HOUR).order_by(Message.sent_at)
        )
        if sent is not None
    ]
    if len(window) >= rules.hourly_cap:
        return max(now, window[len(window) - rules.hourly_cap] + HOUR)
    if rules.min_interval_seconds > 0 and is_new_contact(session, message):
        last: datetime | None = session.scalar(
            attempted.with_only_columns(func.max(Message.sent_at))
        )
        if last is not None:
            gap = timedelta(seconds=rules.min_interval_seconds + jitter_of(message.id, rules))
            return max(now, last + gap)
    return now


def update_settings(
    session: Session, tenant_id: uuid.UUID, changes: dict[str, object]
) -> MessagingSettings:
    row = session.get(MessagingSettings, tenant_id)
    if row is None:
        row = tenant_settings(session, tenant_id)
        session.add(row)
    timezone = changes.get("timezone")
    if isinstance(timezone, str):
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValidationFailed(
                f"Unknown time zone {timezone!r}: use an IANA name such as Europe/Paris.",
                details={"field": "timezone"},
            ) from error
    words = changes.get("opt_out_words")
    if isinstance(words, list):
        changes["opt_out_words"] = [
            str(word).strip().upper() for word in words if str(word).strip()
        ]
    for field, value in changes.items():
        if value is not None or field in ("min_interval_seconds", "hourly_cap"):
            setattr(row, field, value)
    session.flush()
    return row
