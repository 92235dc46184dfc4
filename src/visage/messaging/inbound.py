"""WAHA's webhook deliveries: verified on the raw body, stored once per envelope id, answered
at once; a job applies them (acks forward only, inbound messages, STOP, session status)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from visage.config import Settings
from visage.core.db import utcnow
from visage.core.tenancy import TenantId, TenantScope
from visage.health.checks import CheckResult
from visage.i18n.context import N_, gettext, using
from visage.i18n.preferences import locale_for_tenant
from visage.messaging import consent, pacing, service, sessions
from visage.messaging.errors import InvalidSignature
from visage.messaging.models import Message, WebhookEvent, WhatsAppSession
from visage.messaging.provider import (
    DeliveryStatus,
    GatewayDown,
    GatewayError,
    GatewayTimeout,
    MessagingProvider,
)
from visage.messaging.waha import message_key

OPT_OUT_CONFIRMATION = N_(
    "You will not get more WhatsApp messages from us. Ask at the front desk to opt in again."
)
# An ack may arrive before the send's answer was stored; after this long, it is for a message
# sent from the phone itself and is dropped.
ACK_PATIENCE = timedelta(seconds=30)


def _confirmation(session: Session, tenant_id: uuid.UUID) -> str:
    """The opt-out confirmation, in the tenant's language."""
    with using(locale_for_tenant(session, tenant_id)):
        return gettext(OPT_OUT_CONFIRMATION)


class AckBeforeSend(Exception):
    """An ack for a message whose send is not recorded yet: the job retries."""


def accept(
    session: Session,
    provider: MessagingProvider,
    settings: Settings,
    body: bytes,
    headers: dict[str, str],
) -> uuid.UUID | None:
    """Verify and store a delivery; the stored event's id, or None for a duplicate."""
    if not provider.signature_valid(body, headers, settings.webhook_secret):
        raise InvalidSignature()
    try:
        envelope = json.loads(body)
    except ValueError as error:
        raise InvalidSignature("The signed body is not JSON.") from error
    if not isinstance(envelope, dict) or not envelope.get("event"):
        raise InvalidSignature("The signed body is not a WAHA event envelope.")
    envelope_id = str(envelope.get("id") or headers.get("x-webhook-request-id") or "")
    if not envelope_id:
        envelope_id = f"sha512:{headers.get('x-webhook-hmac', '')}"
    return session.scalar(
        insert(WebhookEvent)
        .values(
            id=uuid.uuid4(),
            envelope_id=envelope_id[:200],
            event=str(envelope["event"])[:50],
            session_name=str(envelope.get("session") or "")[:100] or None,
            payload=envelope,
        )
        .on_conflict_do_nothing(index_elements=["envelope_id"])
        .returning(WebhookEvent.id)
    )


def process(
    session: Session, provider: MessagingProvider, settings: Settings, event_id: uuid.UUID
) -> list[uuid.UUID]:
    """Apply one stored event; returns messages to queue for sending (an opt-out confirmation)."""
    event = session.scalar(
        select(WebhookEvent).where(WebhookEvent.id == event_id).with_for_update()
    )
    if event is None or event.processed_at is not None:
        return []
    channel = sessions.session_by_name(session, event.session_name or "")
    to_send: list[uuid.UUID] = []
    if channel is not None:
        payload: dict[str, Any] = event.payload.get("payload") or {}
        if event.event == "session.status":
            _session_status(provider, channel, payload)
        elif event.event == "message.ack":
            _ack(session, provider, event, channel, payload)
        elif event.event == "message" and not payload.get("fromMe"):
            to_send = _inbound(session, provider, settings, channel, payload)
    event.processed_at = utcnow()
    return to_send


def _session_status(
    provider: MessagingProvider, channel: WhatsAppSession, payload: dict[str, Any]
) -> None:
    """Re-fetch the session from WAHA (the event may be stale); the QR too while it waits."""
    try:
        info = provider.get_session(channel.name)
        status, me = info.status, info.me
    except (GatewayDown, GatewayTimeout, GatewayError):
        status, me = str(payload.get("status") or channel.status), None
    sessions.set_status(channel, status, me=me)
    if status == sessions.WAITING_FOR_SCAN:
        try:
            channel.qr_png, channel.qr_fetched_at = provider.qr_png(channel.name), utcnow()
        except (GatewayDown, GatewayTimeout, GatewayError):
            channel.qr_png = None


def _ack(
    session: Session,
    provider: MessagingProvider,
    event: WebhookEvent,
    channel: WhatsAppSession,
    payload: dict[str, Any],
) -> None:
    status = provider.status_of_ack(int(payload.get("ack", 0) or 0))
    provider_id = provider.message_id_of(payload)
    if status is None or provider_id is None:
        return
    message = session.scalar(
        select(Message)
        .where(Message.tenant_id == channel.tenant_id)
        .where(Message.provider_message_key == message_key(provider_id))
        .with_for_update()
    )
    if message is None:
        if utcnow() - event.received_at < ACK_PATIENCE:
            raise AckBeforeSend(provider_id)
        return
    service.advance(message, status, source=f"ack:{payload.get('ack')}")


def _inbound(
    session: Session,
    provider: MessagingProvider,
    settings: Settings,
    channel: WhatsAppSession,
    payload: dict[str, Any],
) -> list[uuid.UUID]:
    sender = str(payload.get("from") or "")
    phone = consent.phone_digits(provider.phone_of(sender)) if sender.endswith("@c.us") else None
    if phone is None:  # groups, broadcasts, status updates: not a member's conversation
        return []
    tenant_id = channel.tenant_id
    owners = consent.members_with_phone(session, tenant_id, phone)
    text = str(payload.get("body") or "")
    message = Message(
        tenant_id=tenant_id,
        session_id=channel.id,
        member_id=owners[0].id if owners else None,
        direction="inbound",
        phone=phone,
        chat_id=sender,
        text=text,
        provider_message_id=provider.message_id_of(payload),
        status_history=[],
    )
    service.record_status(message, DeliveryStatus.RECEIVED, source="webhook")
    session.add(message)
    word = text.strip().upper()
    rules = pacing.rules_for(session, tenant_id, settings)
    if word not in rules.opt_out_words:
        return []
    if not consent.record_opt_out(session, tenant_id, phone, word):
        return []  # already opted out: it was confirmed once
    confirmation, _ = service.queue_message(
        TenantScope(session, TenantId(tenant_id)),
        service.Outgoing(
            text=_confirmation(session, tenant_id),
            member=owners[0] if owners else None,
            phone=phone,
            kind="opt_out_confirmation",
            idempotency_key=f"opt-out-confirmation:{phone}:{uuid.uuid4().hex}",
        ),
        session_id=channel.id,
    )
    return [confirmation.id]


def webhook_health(session: Session, settings: Settings, failures: int) -> CheckResult:
    last = session.scalar(select(func.max(WebhookEvent.received_at)))
    data = {
        "url": sessions.webhook_url(settings),
        "last_event_at": last.isoformat() if last else None,
        "verification_failures": failures,
    }
    if not settings.webhook_secret and not settings.waha_base_url:
        return CheckResult("webhooks", True, "WhatsApp messaging is off", "", data)
    if not settings.webhook_secret:
        return CheckResult(
            "webhooks",
            False,
            "WEBHOOK_SECRET is not set: every delivery is refused",
            "Set WEBHOOK_SECRET (`openssl rand -hex 32`) and recreate the WhatsApp sessions",
            data,
        )
    detail = f"Last delivery {data['last_event_at'] or 'never'}; {failures} refused signatures"
    return CheckResult("webhooks", True, detail, "", data)
