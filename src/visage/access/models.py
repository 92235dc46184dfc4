"""Plans, members' memberships (freezes, holds, payment status), opening hours, check-ins."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from visage.access.decision import PaymentStatus, PlanKind, Reason
from visage.core.db import Base, IdMixin, TimestampMixin, db_enum, utcnow


class CheckinSource(enum.StrEnum):
    KIOSK = "kiosk"  # a camera frame, recognized
    MANUAL = "manual"  # a staff member picked the member


class Plan(IdMixin, TimestampMixin, Base):
    """What a tenant sells: unlimited, a pack of N visits, or a fixed term of N days."""

    __tablename__ = "plans"

    # Indexed by uq_plans_tenant_lower_name, which leads with it.
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[PlanKind] = mapped_column(db_enum(PlanKind, "plan_kind"))
    # Visit packs: visits in one pack.
    visits: Mapped[int | None] = mapped_column(Integer)
    # Fixed terms (required) and visit packs (optional validity): days from the start.
    duration_days: Mapped[int | None] = mapped_column(Integer)
    # Retired plans stay on the memberships sold with them but cannot be sold again.
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    def term_from(self, starts_on: date) -> tuple[date | None, int | None]:
        """The last day (inclusive) and the visits of a membership of this plan starting on
        `starts_on`, by the plan's own terms."""
        ends_on = None
        if self.duration_days is not None:
            ends_on = starts_on + timedelta(days=self.duration_days - 1)
        return ends_on, self.visits if self.kind is PlanKind.VISIT_PACK else None


Index("uq_plans_tenant_lower_name", Plan.tenant_id, func.lower(Plan.name), unique=True)


class Membership(IdMixin, TimestampMixin, Base):
    """One plan sold to one member, valid from `starts_on` to `ends_on` (inclusive, in the
    tenant's time zone)."""

    __tablename__ = "memberships"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id", ondelete="RESTRICT"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    visits_remaining: Mapped[int | None] = mapped_column(Integer)
    payment_status: Mapped[PaymentStatus] = mapped_column(
        db_enum(PaymentStatus, "payment_status"), default=PaymentStatus.CURRENT
    )
    # A staff hold stops the member at the door until released, whatever else is valid.
    hold_reason: Mapped[str | None] = mapped_column(String(500))
    held_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    held_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    plan: Mapped[Plan] = relationship(lazy="joined")
    freezes: Mapped[list[MembershipFreeze]] = relationship(
        lazy="selectin",
        order_by="MembershipFreeze.starts_on",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def on_hold(self) -> bool:
        return self.held_at is not None


class MembershipFreeze(IdMixin, Base):
    """A period during which a membership does not admit (holiday, injury)."""

    __tablename__ = "membership_freezes"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    membership_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("memberships.id", ondelete="CASCADE"), index=True
    )
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)  # None: until unfrozen
    reason: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )


class OpeningHours(TimestampMixin, Base):
    """A tenant's weekly schedule and time zone; a tenant without a row is never closed."""

    __tablename__ = "opening_hours"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    timezone: Mapped[str] = mapped_column(String(64))
    # {"monday": [{"opens": "06:00", "closes": "22:00"}], ...}; a missing day is closed.
    weekly: Mapped[dict[str, Any]] = mapped_column(JSONB)


class Checkin(IdMixin, Base):
    """Every attempt at the door, allowed or not, with where it came from."""

    __tablename__ = "checkins"
    __table_args__ = (
        Index("ix_checkins_tenant_time", "tenant_id", "created_at"),
        Index("ix_checkins_member_time", "member_id", "created_at"),
        # The notification sweep's "refused in the last hour", across tenants, every minute.
        Index("ix_checkins_refused_time", "created_at", postgresql_where=text("NOT allowed")),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    source: Mapped[CheckinSource] = mapped_column(db_enum(CheckinSource, "checkin_source"))
    device_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("devices.id", ondelete="SET NULL")
    )
    # The staff user who checked the member in by hand (or sent the frame).
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Set once the face (or staff) identified the member, even when entry was refused.
    member_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL")
    )
    membership_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="SET NULL")
    )
    allowed: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[Reason] = mapped_column(db_enum(Reason, "checkin_reason"))
    distance: Mapped[float | None] = mapped_column(Float)
    # Staff let the member in despite this refusal, for the reason in `note`.
    overridden_reason: Mapped[Reason | None] = mapped_column(db_enum(Reason, "checkin_reason"))
    note: Mapped[str | None] = mapped_column(String(500))
    # A granted entry that counts as a visit; repeats within the window do not.
    counted: Mapped[bool] = mapped_column(Boolean, default=False)


class MemberPin(Base):
    """A member's kiosk PIN (argon2id hash): confirms who the face narrowed the door to."""

    __tablename__ = "member_pins"

    member_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    pin_hash: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PinFailure(IdMixin, Base):
    """One wrong PIN at a kiosk, one row per candidate it was checked against."""

    __tablename__ = "pin_failures"
    __table_args__ = (
        Index("ix_pin_failures_member", "member_id", "created_at"),
        Index("ix_pin_failures_device", "device_id", "created_at"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    attempt_id: Mapped[uuid.UUID] = mapped_column()
    device_id: Mapped[uuid.UUID | None] = mapped_column()
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
