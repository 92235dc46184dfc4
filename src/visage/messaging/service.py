"""Outbound WhatsApp messages: queue (202), read, list, and deliver exactly once.

Delivery is two transactions around one HTTP call. The first locks the message and its
session, re-checks consent and pacing, resolves the number and marks the message `sending`;
the second records WAHA's answer. A message found `sending` again (its worker died during the
call) or whose call timed out becomes `unknown`: it is never sent a second time by itself.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from visage.config import Settings
from visage.core.db import flush_or_raise, utcnow
from visage.core.errors import AppError
from visage.core.tenancy import TenantScope
from visage.events.models import Attendee
from visage.members.models import Member
from visage.messaging import consent, pacing, sessions
from visage.messaging.errors import (
    GatewayRefused,
    IdempotencyConflict,
    NoPhone,
    NoSession,
    NotOnWhatsApp,
)
from visage.messaging.models import ContactCheckCache, Message, WhatsAppSession
from visage.messaging.provider import (
    PROGRESS,
    DeliveryStatus,
    GatewayDown,
    GatewayError,
    GatewayTimeout,
    MessagingProvider,
)
from visage.messaging.waha import message_key


@dataclass(frozen=True)
class Outgoing:
    """What to send and to whom, before it becomes a queued message."""

    text: str
    member: Member | None
    phone: str | None
    kind: str = "message"
    template_id: uuid.UUID | None = None
    idempotency_key: str | None = None
    # A notice to an event attendee (no member): their channel choice is the consent.
    attendee: Attendee | None = None


def record_status(message: Message, status: DeliveryStatus, *, source: str, **extra: Any) -> None:
    message.status = status.value
    entry = {"status": status.value, "at": utcnow().isoformat(), "source": source, **extra}
    message.status_history = [*message.status_history, entry]


def queue_message(
    scope: TenantScope, outgoing: Outgoing, *, session_id: uuid.UUID | None = None
) -> tuple[Message, bool]:
    """A queued message (and True), or the one already queued under the idempotency key."""
    if outgoing.idempotency_key:
        existing = scope.session.scalar(
            scope.select(Message).where(Message.idempotency_key == outgoing.idempotency_key)
        )
        if existing is not None:
            if existing.text != outgoing.text or existing.phone != outgoing.phone:
                raise IdempotencyConflict()
            return existing, False
    if outgoing.kind != "opt_out_confirmation":
        refusal = consent.whatsapp_refusal(
            scope.session, scope.tenant_id, outgoing.member, outgoing.phone, outgoing.attendee
        )
        if refusal is not None:
            raise refusal
    if outgoing.phone is None:
        raise NoPhone()
    channel = sessions.pick_session(scope, session_id)
    if channel is None:
        raise NoSession()
    member = outgoing.member
    # A bare number of one member joins that member's conversation.
    if member is None and outgoing.attendee is None:
        owners = consent.members_with_phone(scope.session, scope.tenant_id, outgoing.phone)
        member = owners[0] if len(owners) == 1 else None
    message = scope.add(
        Message(
            session_id=channel.id,
            member_id=member.id if member else None,
            attendee_id=outgoing.attendee.id if outgoing.attendee else None,
            direction="outbound",
            kind=outgoing.kind,
            phone=outgoing.phone,
            text=outgoing.text,
            template_id=outgoing.template_id,
            idempotency_key=outgoing.idempotency_key,
            status_history=[],
        )
    )
    record_status(message, DeliveryStatus.QUEUED, source="api")
    flush_or_raise(scope.session, IdempotencyConflict())
    return message, True


def get_message(scope: TenantScope, message_id: uuid.UUID) -> Message:
    return scope.get(Message, message_id, what="Message")


def list_messages(
    scope: TenantScope,
    *,
    status: str | None,
    member_id: uuid.UUID | None,
    since: datetime | None,
    until: datetime | None,
    direction: str | None,
    page: int,
    page_size: int,
) -> tuple[list[Message], int]:
    statement = scope.select(Message)
    if status:
        statement = statement.where(Message.status == status)
    if member_id:
        statement = statement.where(Message.member_id == member_id)
    if since:
        statement = statement.where(Message.created_at >= since)
    if until:
        statement = statement.where(Message.created_at < until)
    if direction:
        statement = statement.where(Message.direction == direction)
    statement = statement.order_by(Message.created_at.desc(), Message.id)
    return scope.page(statement, page=page, page_size=page_size)


@dataclass(frozen=True)
class Attempt:
    """A message cleared to go out now (phase one done and committed)."""

    message_id: uuid.UUID
    session_name: str
    chat_id: str
    text: str


@dataclass(frozen=True)
class Wait:
    """Not now: try again at `until` (the message stays queued)."""

    until: datetime
    reason: str


def _fail(message: Message, error: AppError) -> None:
    message.error_code = error.code
    message.error = error.message
    record_status(message, DeliveryStatus.FAILED, source="worker", code=message.error_code)


def _chat_id(
    session: Session, provider: MessagingProvider, settings: Settings, channel: str, phone: str
) -> str | None:
    """The WhatsApp chat of the number (None: not on WhatsApp), through the check-exists cache."""
    cached = session.get(ContactCheckCache, phone)
    horizon = timedelta(hours=settings.messaging_contact_cache_hours)
    if cached is not None and utcnow() - cached.checked_at < horizon:
        return cached.chat_id if cached.exists else None
    check = provider.check_exists(channel, phone)
    chat_id = (check.chat_id or provider.chat_id_for(phone)) if check.exists else None
    # An upsert: another session's worker may be checking the same number right now.
    values = {"exists": check.exists, "chat_id": chat_id, "checked_at": utcnow()}
    session.execute(
        insert(ContactCheckCache)
        .values(phone=phone, **values)
        .on_conflict_do_update(index_elements=["phone"], set_=values)
    )
    return chat_id


def stranded(session: Session, *, older_than: timedelta) -> list[uuid.UUID]:
    """Outbound messages still `queued` or `sending` with no send job left to move them (a
    job that crashed on the database, say): the periodic sweep queues them again."""
    no_job = text(
        "NOT EXISTS (SELECT 1 FROM procrastinate_jobs AS job "
        "WHERE job.task_name = 'messaging.send_message' AND job.status IN ('todo', 'doing') "
        "AND job.args->>'message_id' = messages.id::text)"
    )
    statement = (
        select(Message.id)
        .where(Message.direction == "outbound")
        .where(Message.status.in_([DeliveryStatus.QUEUED.value, DeliveryStatus.SENDING.value]))
        .where(Message.updated_at < utcnow() - older_than)
        .where(no_job)
        .limit(500)
    )
    return list(session.scalars(statement))


def prepare(
    session: Session, provider: MessagingProvider, settings: Settings, message_id: uuid.UUID
) -> Attempt | Wait | None:
    """Phase one, in the caller's transaction. None: nothing to send (done, refused, unknown)."""
    message = session.scalar(select(Message).where(Message.id == message_id).with_for_update())
    if message is None:
        return None
    if message.status == DeliveryStatus.SENDING:
        message.error = "The worker stopped during the send: it may or may not have gone out."
        record_status(message, DeliveryStatus.UNKNOWN, source="worker")
        return None
    if message.status != DeliveryStatus.QUEUED:
        return None
    member = session.get(Member, message.member_id) if message.member_id else None
    attendee = session.get(Attendee, message.attendee_id) if message.attendee_id else None
    if message.kind != "opt_out_confirmation":
        refusal = consent.whatsapp_refusal(
            session, message.tenant_id, member, message.phone, attendee
        )
        if refusal is not None:
            _fail(message, refusal)
            return None
    channel = None
    if message.session_id is not None:
        channel = session.scalar(
            select(WhatsAppSession)
            .where(WhatsAppSession.id == message.session_id)
            .with_for_update()
        )
    if channel is None:
        _fail(message, NoSession())
        return None
    now = utcnow()
    retry_at = retry_time(settings)
    if channel.status != sessions.WORKING:
        return Wait(retry_at, f"session {channel.name} is {channel.status}")
    # The opt-out confirmation answers the member's own message: it goes at once.
    if message.kind != "opt_out_confirmation":
        rules = pacing.rules_for(session, message.tenant_id, settings)
        earliest = pacing.next_send_at(session, message, rules, now)
        if earliest > now:
            return Wait(earliest, "pacing or quiet hours")
    try:
        chat_id = _chat_id(session, provider, settings, channel.name, message.phone)
    except (GatewayDown, GatewayTimeout, GatewayError) as error:
        return Wait(retry_at, f"check-exists: {error}")
    if chat_id is None:
        _fail(message, NotOnWhatsApp())
        return None
    message.chat_id, message.sent_at = chat_id, now
    record_status(message, DeliveryStatus.SENDING, source="worker")
    return Attempt(message.id, channel.name, chat_id, message.text)


def send(provider: MessagingProvider, attempt: Attempt) -> tuple[DeliveryStatus, str | None, str]:
    """The one HTTP call: (outcome, WAHA's message id, error text)."""
    try:
        provider_id = provider.send_text(attempt.session_name, attempt.chat_id, attempt.text)
    except GatewayDown as error:
        return DeliveryStatus.QUEUED, None, str(error)
    except GatewayTimeout as error:
        return DeliveryStatus.UNKNOWN, None, f"No answer from WAHA: {error}"
    except GatewayError as error:
        if error.status_code in (401, 403):  # refused before anything was sent: a key problem
            return DeliveryStatus.QUEUED, None, f"WAHA_API_KEY refused: {error.message}"
        if error.status_code >= 500:
            return DeliveryStatus.UNKNOWN, None, f"WAHA failed: {error.message}"
        return DeliveryStatus.FAILED, None, error.message
    return DeliveryStatus.SENT, provider_id, ""


def record_outcome(
    session: Session,
    message_id: uuid.UUID,
    outcome: tuple[DeliveryStatus, str | None, str],
) -> bool:
    """Phase two. True when the message is back in the queue (to try again later)."""
    status, provider_id, error = outcome
    message = session.scalar(select(Message).where(Message.id == message_id).with_for_update())
    if message is None or message.status != DeliveryStatus.SENDING:
        return False
    if status == DeliveryStatus.SENT:
        message.provider_message_id = provider_id
        message.provider_message_key = message_key(provider_id) if provider_id else None
        message.error = None
        record_status(message, DeliveryStatus.SENT, source="worker")
        return False
    message.error = error
    if status == DeliveryStatus.QUEUED:
        message.sent_at = None
        record_status(message, DeliveryStatus.QUEUED, source="worker", reason=error)
        return True
    if status == DeliveryStatus.FAILED:
        _fail(message, GatewayRefused(error))
        return False
    record_status(message, DeliveryStatus.UNKNOWN, source="worker")
    return False


def advance(message: Message, status: DeliveryStatus, *, source: str) -> bool:
    """Move the message forward only (a late `delivered` never undoes `read`); True if moved."""
    current = DeliveryStatus(message.status)
    if current in (DeliveryStatus.FAILED, DeliveryStatus.RECEIVED):
        return False
    if status == DeliveryStatus.FAILED:
        if PROGRESS.get(current, 0) >= PROGRESS[DeliveryStatus.DELIVERED]:
            return False
        record_status(message, status, source=source)
        return True
    if PROGRESS[status] <= PROGRESS.get(current, 0):
        return False
    record_status(message, status, source=source)
    return True


def retry_time(settings: Settings) -> datetime:
    return utcnow() + timedelta(seconds=settings.messaging_retry_seconds)
