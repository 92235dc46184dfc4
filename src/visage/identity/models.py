"""Tenants, users, login sessions, one-time tokens, kiosk devices, login attempts, audit."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from visage.core.db import Base, IdMixin, TimestampMixin, db_enum, utcnow


class Role(enum.StrEnum):
    SUPER_ADMIN = "super_admin"
    TENANT_OWNER = "tenant_owner"
    STAFF = "staff"
    PHOTOGRAPHER = "photographer"
    MEMBER = "member"


class Tenant(IdMixin, TimestampMixin, Base):
    __tablename__ = "tenants"

    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # "en" or "fr" for people with no saved preference; None: their browser's language.
    default_locale: Mapped[str | None] = mapped_column(String(8))


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    username: Mapped[str] = mapped_column(String(320))
    email: Mapped[str] = mapped_column(String(320))
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(db_enum(Role, "role"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    # Bumped on logout-everywhere, deactivation and password change: older access tokens die.
    token_version: Mapped[int] = mapped_column(default=0)
    # The language the user chose ("en", "fr"); None: the tenant's default.
    locale: Mapped[str | None] = mapped_column(String(8))


# Usernames and emails are unique per tenant, compared case-insensitively; the
# tenant-less super admins form their own namespace.
for _column in ("username", "email"):
    Index(
        f"uq_users_tenant_{_column}",
        User.tenant_id,
        func.lower(getattr(User, _column)),
        unique=True,
        postgresql_where=text("tenant_id IS NOT NULL"),
    )
    Index(
        f"uq_users_global_{_column}",
        func.lower(getattr(User, _column)),
        unique=True,
        postgresql_where=text("tenant_id IS NULL"),
    )


class LoginSession(IdMixin, Base):
    """One sign-in: the family of refresh tokens rotated from it, with an absolute lifetime.

    Access tokens carry its id (`sid`), so revoking it ends the session's access tokens too.
    """

    __tablename__ = "login_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(400))


class RefreshToken(IdMixin, Base):
    """Single use: rotating marks it used; presenting a used one revokes its session."""

    __tablename__ = "refresh_tokens"

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("login_sessions.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TokenPurpose(enum.StrEnum):
    PASSWORD_RESET = "password_reset"
    EMAIL_VERIFICATION = "email_verification"


class OneTimeToken(IdMixin, Base):
    """Password-reset and email-verification tokens: hashed, single use, short-lived."""

    __tablename__ = "one_time_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[TokenPurpose] = mapped_column(db_enum(TokenPurpose, "token_purpose"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Device(IdMixin, TimestampMixin, Base):
    """A kiosk: signs in with an API key (stored hashed) that may only check members in."""

    __tablename__ = "devices"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the key, so a person can tell keys apart in a list.
    key_prefix: Mapped[str] = mapped_column(String(16))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginOutcome(enum.StrEnum):
    SUCCESS = "success"
    WRONG_PASSWORD = "wrong_password"
    LOCKED_OUT = "locked_out"
    INACTIVE = "inactive"
    UNVERIFIED = "unverified"
    AMBIGUOUS = "ambiguous"


class LoginAttempt(IdMixin, Base):
    """Every login attempt, kept for lockout decisions and investigation."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_account_time", "account_key", "created_at"),
        Index("ix_login_attempts_ip_time", "ip", "created_at"),
    )

    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    # The lower-cased username or email tried, whether or not such an account exists.
    account_key: Mapped[str] = mapped_column(String(500))
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(400))
    success: Mapped[bool] = mapped_column(Boolean)
    # Why it failed; only wrong passwords count toward a lockout, so attempts refused while
    # locked out do not extend it.
    outcome: Mapped[LoginOutcome] = mapped_column(db_enum(LoginOutcome, "login_outcome"))


class AuditEvent(IdMixin, Base):
    """The security audit log: who did what to which object, from where."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_tenant_time", "tenant_id", "created_at"),
        Index("ix_audit_events_action_time", "action", "created_at"),
    )

    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE")
    )
    action: Mapped[str] = mapped_column(String(100))
    actor_type: Mapped[str | None] = mapped_column(String(20))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    target_type: Mapped[str | None] = mapped_column(String(50))
    target_id: Mapped[str | None] = mapped_column(String(100))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(400))


class ApiToken(IdMixin, Base):
    """A personal API token (`Authorization: Token <key>`): named, expiring, revocable.

    It acts as its user with the user's current role and tenant; only its hash is stored.
    """

    __tablename__ = "api_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # The user's tenant, copied so audit events and cleanup need no join.
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, so a person can tell tokens apart in a list.
    token_prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
