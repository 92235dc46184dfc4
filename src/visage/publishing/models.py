"""Connected social accounts, OAuth attempts, posts and their per-account deliveries,
publicity consents, and AI credits."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
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
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from visage.core.db import Base, IdMixin, TimestampMixin, db_enum, utcnow


class Platform(enum.StrEnum):
    X = "x"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    LINKEDIN = "linkedin"
    MASTODON = "mastodon"
    BLUESKY = "bluesky"


class AccountStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"  # the token could not be refreshed: reconnect


class PostStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    FAILED = "failed"
    UNKNOWN = "unknown"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its time (or a rate limit's reset)
    PUBLISHING = "publishing"  # a request is (or was) in flight
    PUBLISHED = "published"
    FAILED = "failed"
    UNKNOWN = "unknown"  # the request timed out: checked against the platform before a retry


class SocialAccount(IdMixin, TimestampMixin, Base):
    __tablename__ = "social_accounts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "platform", "external_id", name="uq_social_accounts_ext"),
        Index("idx_social_accounts_status", "status", postgresql_where=text("status = 'ACTIVE'")),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[Platform] = mapped_column(db_enum(Platform, "social_platform"))
    external_id: Mapped[str] = mapped_column(String(200))
    username: Mapped[str] = mapped_column(String(200))
    status: Mapped[AccountStatus] = mapped_column(
        db_enum(AccountStatus, "social_account_status"), default=AccountStatus.ACTIVE
    )
    # AES-GCM sealed (see publishing.sealing); never stored in clear.
    access_token: Mapped[bytes] = mapped_column(LargeBinary)
    refresh_token: Mapped[bytes | None] = mapped_column(LargeBinary)
    token_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    scopes: Mapped[str] = mapped_column(String(500), default="")
    last_sync_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(1000))
    connected_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class OAuthAttempt(IdMixin, Base):
    """One authorization redirect: its state (hashed) and PKCE verifier (sealed), used once."""

    __tablename__ = "social_oauth_attempts"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    platform: Mapped[Platform] = mapped_column(db_enum(Platform, "social_platform"))
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_verifier: Mapped[bytes] = mapped_column(LargeBinary)
    redirect_uri: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Post(IdMixin, TimestampMixin, Base):
    __tablename__ = "scheduled_posts"
    __table_args__ = (Index("ix_scheduled_posts_status_due", "status", "scheduled_for"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    photo_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), default=list)
    # UTC; the IANA zone it was written in is kept beside it (DST-safe display and edits).
    scheduled_for: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    status: Mapped[PostStatus] = mapped_column(
        db_enum(PostStatus, "post_status"), default=PostStatus.DRAFT
    )
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class Delivery(IdMixin, TimestampMixin, Base):
    """A post on one account: published at most once (one row per pair, one job at a time)."""

    __tablename__ = "post_deliveries"
    __table_args__ = (
        UniqueConstraint("post_id", "account_id", name="uq_post_deliveries_post_account"),
        Index("ix_post_deliveries_due", "status", "next_attempt_at"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    post_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("scheduled_posts.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("social_accounts.id", ondelete="CASCADE")
    )
    status: Mapped[DeliveryStatus] = mapped_column(
        db_enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    # Sent as the platform's idempotency key where it has one (Mastodon).
    idempotency_key: Mapped[str] = mapped_column(String(64))
    publish_attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    last_error_code: Mapped[str | None] = mapped_column(String(50))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set while a job for it is queued or running: the dispatcher never queues it twice.
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempt_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    platform_post_id: Mapped[str | None] = mapped_column(String(200))
    platform_url: Mapped[str | None] = mapped_column(String(500))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PublicityConsent(IdMixin, Base):
    """Whether a member or an attendee agreed to appear in published photos (withdrawable)."""

    __tablename__ = "publicity_consents"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), unique=True
    )
    attendee_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("event_attendees.id", ondelete="CASCADE"), unique=True
    )
    consent: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )


class PublishingSettings(TimestampMixin, Base):
    __tablename__ = "publishing_settings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # None: AI_MONTHLY_CREDITS applies.
    monthly_ai_credits: Mapped[int | None] = mapped_column(Integer)


class AiCreditPeriod(IdMixin, Base):
    """One tenant's AI credits for one month (starting on the 1st in the tenant's zone)."""

    __tablename__ = "ai_credit_periods"
    __table_args__ = (
        UniqueConstraint("tenant_id", "period_start", name="uq_ai_credit_periods_tenant_period"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    period_start: Mapped[date] = mapped_column(Date)
    credits_limit: Mapped[int] = mapped_column(Integer)
    credits_used: Mapped[int] = mapped_column(Integer, default=0)
    alert_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AiGeneration(IdMixin, Base):
    """One AI call: its credit is reserved before the call and refunded if it fails."""

    __tablename__ = "ai_generations"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    period_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("ai_credit_periods.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(30))
    provider: Mapped[str | None] = mapped_column(String(30))
    # reserved -> succeeded | refunded
    state: Mapped[str] = mapped_column(String(20), default="reserved")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
