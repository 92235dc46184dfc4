"""Tenants and users. (Issue #3 extends this: refresh tokens, devices, audit, login attempts.)"""

from __future__ import annotations

import enum
import uuid

from sqlalchemy import Boolean, Enum, ForeignKey, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from visage.core.db import Base, IdMixin, TimestampMixin


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


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    username: Mapped[str] = mapped_column(String(320))
    email: Mapped[str] = mapped_column(String(320))
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(
        Enum(Role, name="role", values_callable=lambda e: [m.value for m in e])
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    # Bumped on logout-everywhere, deactivation and password change: older access tokens die.
    token_version: Mapped[int] = mapped_column(default=0)


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
