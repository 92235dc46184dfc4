"""Members of a tenant and the consents they gave (or withdrew) to biometric processing."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from visage.core.db import Base, IdMixin, TimestampMixin, utcnow


class Member(IdMixin, TimestampMixin, Base):
    """A person known to one tenant; optionally the same person as one of its login users."""

    __tablename__ = "members"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))
    # The member's number in the tenant's own systems (card number, CRM id).
    external_ref: Mapped[str | None] = mapped_column(String(100))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Last time the member was recognized or checked in; drives biometric retention.
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


Index(
    "uq_members_tenant_external_ref",
    Member.tenant_id,
    Member.external_ref,
    unique=True,
    postgresql_where=text("external_ref IS NOT NULL"),
)
Index("ix_members_tenant_lower_name", Member.tenant_id, func.lower(Member.full_name))


class Consent(IdMixin, Base):
    """One consent to biometric processing: who, when, to which text, and its withdrawal."""

    __tablename__ = "consents"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    text_version: Mapped[str] = mapped_column(String(100))
    # How it was collected: "kiosk", "paper", "web", ...
    method: Mapped[str] = mapped_column(String(50))
    # The staff user who recorded it (None when the member gave it themself on a device).
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    given_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
