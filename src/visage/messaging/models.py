"""Messaging tables: WhatsApp sessions, messages, webhook events, consent, opt-outs, templates,
per-tenant settings and the check-exists cache."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from visage.core.db import Base, IdMixin, TimestampMixin, utcnow


def _tenant_fk() -> Mapped[uuid.UUID]:
    return mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)


class WhatsAppSession(IdMixin, TimestampMixin, Base):
    """One WhatsApp number of a tenant, as a WAHA session (its `name` is global in WAHA)."""

    __tablename__ = "whatsapp_sessions"

    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    name: Mapped[str] = mapped_column(String(100), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    # WAHA's status: STOPPED, STARTING, SCAN_QR_CODE, WORKING, FAILED.
    status: Mapped[str] = mapped_column(String(20), default="STARTING")
    me: Mapped[str | None] = mapped_column(String(100))
    # The last QR fetched on a SCAN_QR_CODE event (codes expire in 20-60 s).
    qr_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    qr_fetched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status_changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )


class Message(IdMixin, TimestampMixin, Base):
    __tablename__ = "messages"

    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    session_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("whatsapp_sessions.id", ondelete="SET NULL"), index=True
    )
    member_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    # A notice to an event attendee (not a member): their own channel choice is the consent.
    attendee_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("event_attendees.id", ondelete="SET NULL"), index=True
    )
    direction: Mapped[str] = mapped_column(String(10))  # outbound | inbound
    # message | notification | opt_out_confirmation (the one reply an opted-out number gets)
    kind: Mapped[str] = mapped_column(String(30), default="message")
    phone: Mapped[str] = mapped_column(String(20))  # digits, international
    chat_id: Mapped[str | None] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), index=True)
    status_history: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    # The part of the provider id every engine shares (acks are matched on it).
    provider_message_key: Mapped[str | None] = mapped_column(String(200))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    template_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("message_templates.id", ondelete="SET NULL")
    )
    error_code: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


Index(
    "uq_messages_tenant_idempotency_key",
    Message.tenant_id,
    Message.idempotency_key,
    unique=True,
    postgresql_where=text("idempotency_key IS NOT NULL"),
)
Index("ix_messages_provider_key", Message.provider_message_key)
Index("ix_messages_tenant_created", Message.tenant_id, Message.created_at)


class WebhookEvent(IdMixin, Base):
    """A verified webhook delivery, stored once per envelope id (WAHA retries)."""

    __tablename__ = "messaging_webhook_events"

    envelope_id: Mapped[str] = mapped_column(String(200), unique=True)
    event: Mapped[str] = mapped_column(String(50))
    session_name: Mapped[str | None] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MessagingPreference(TimestampMixin, Base):
    """A member's channel consent, with who recorded it and when."""

    __tablename__ = "messaging_preferences"

    member_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    whatsapp: Mapped[bool] = mapped_column(Boolean, default=False)
    email: Mapped[bool] = mapped_column(Boolean, default=False)
    # None when the member changed it themself (an inbound STOP).
    updated_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    source: Mapped[str] = mapped_column(String(50), default="staff")


class OptOut(IdMixin, Base):
    """A number that texted an opt-out word: nothing more is sent to it."""

    __tablename__ = "messaging_opt_outs"
    __table_args__ = (UniqueConstraint("tenant_id", "phone"),)

    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    phone: Mapped[str] = mapped_column(String(20))
    word: Mapped[str] = mapped_column(String(50))
    opted_out_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )


class MessageTemplate(IdMixin, TimestampMixin, Base):
    __tablename__ = "message_templates"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    name: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)


class MessagingSettings(TimestampMixin, Base):
    """A tenant's pacing, quiet hours and opt-out words (None: the service default)."""

    __tablename__ = "messaging_settings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # Local hours [start, end) when nothing goes out; equal hours: no quiet time.
    quiet_start_hour: Mapped[int] = mapped_column(Integer, default=21)
    quiet_end_hour: Mapped[int] = mapped_column(Integer, default=8)
    min_interval_seconds: Mapped[float | None] = mapped_column(Float)
    hourly_cap: Mapped[int | None] = mapped_column(Integer)
    opt_out_words: Mapped[list[str]] = mapped_column(JSONB, default=list)


class ContactCheckCache(Base):
    """WAHA's check-exists answer per number, reused for MESSAGING_CONTACT_CACHE_HOURS."""

    __tablename__ = "messaging_contact_checks"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    exists: Mapped[bool] = mapped_column(Boolean)
    chat_id: Mapped[str | None] = mapped_column(String(100))
    checked_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
