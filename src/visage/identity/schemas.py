"""Request and response bodies of the identity API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, EmailStr, Field, model_validator

from visage.i18n.context import N_
from visage.identity.models import Role

# Long enough for passphrases; argon2 hashes the whole of it (no truncation).
PASSWORD_MAX_LENGTH = 128
SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$"
USERNAME_PATTERN = r"^[A-Za-z0-9._@+-]{1,150}$"


class Strict(BaseModel):
    """Request bodies refuse unknown fields instead of silently ignoring them."""

    model_config = ConfigDict(extra="forbid")


class LoginRequest(Strict):
    username: str | None = Field(default=None, max_length=320)
    email: EmailStr | None = None
    password: str = Field(min_length=1, max_length=1024)
    tenant: str | None = Field(default=None, max_length=100, description="Tenant slug")

    @model_validator(mode="after")
    def _one_identifier(self) -> LoginRequest:
        if not (self.username or self.email):
            raise ValueError(N_("give a username or an email"))
        return self


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int


class RefreshRequest(Strict):
    # AllIN and the Messaging API send `refreshToken`.
    refresh_token: str = Field(
        min_length=1,
        max_length=200,
        validation_alias=AliasChoices("refresh_token", "refreshToken"),
    )


class EmailRequest(Strict):
    email: EmailStr
    tenant: str | None = Field(default=None, max_length=100, description="Tenant slug")


class TokenRequest(Strict):
    token: str = Field(min_length=1, max_length=200)


class PasswordResetConfirm(Strict):
    token: str = Field(min_length=1, max_length=200)
    new_password: str = Field(max_length=PASSWORD_MAX_LENGTH)


class Accepted(BaseModel):
    detail: str


class TenantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    slug: str
    is_active: bool
    default_locale: str | None = None
    created_at: datetime


class TenantCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    slug: str = Field(pattern=SLUG_PATTERN)
    default_locale: Literal["en", "fr"] | None = None


class TenantUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    is_active: bool | None = None
    # The language of users with no saved choice, and of emails to them; null: the browser's.
    default_locale: Literal["en", "fr"] | None = None


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    tenant_id: uuid.UUID | None
    username: str
    email: str
    full_name: str
    role: Role
    is_active: bool
    email_verified: bool
    created_at: datetime


class UserCreate(Strict):
    username: str = Field(pattern=USERNAME_PATTERN)
    email: EmailStr
    password: str = Field(max_length=PASSWORD_MAX_LENGTH)
    full_name: str = Field(default="", max_length=200)
    role: Role = Role.MEMBER
    # Super admins only: the tenant the user belongs to.
    tenant_id: uuid.UUID | None = None
    # Super admins and owners may create an already verified account.
    email_verified: bool = False


class UserUpdate(Strict):
    username: str | None = Field(default=None, pattern=USERNAME_PATTERN)
    email: EmailStr | None = None
    full_name: str | None = Field(default=None, max_length=200)
    role: Role | None = None
    is_active: bool | None = None
    tenant_id: uuid.UUID | None = None
    password: str | None = Field(default=None, max_length=PASSWORD_MAX_LENGTH)
    # Required when changing one's own password.
    current_password: str | None = Field(default=None, max_length=1024)


class DeviceCreate(Strict):
    name: str = Field(min_length=1, max_length=200)


class DeviceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    key_prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class DeviceCreated(DeviceOut):
    api_key: str = Field(description="Shown this once; store it on the kiosk.")


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    created_at: datetime
    tenant_id: uuid.UUID | None
    action: str
    actor_type: str | None
    actor_id: uuid.UUID | None
    target_type: str | None
    target_id: str | None
    details: dict[str, Any]
    ip: str | None
    user_agent: str | None


class MeOut(UserOut):
    # The language the user chose (PUT /api/v1/auth/me/locale); null: the tenant's default.
    locale: str | None = None
    tenant: TenantOut | None
    permissions: list[str]


class ApiTokenCreate(Strict):
    name: str = Field(min_length=1, max_length=100)
    expires_in_days: int = Field(default=90, ge=1, le=366)


class ApiTokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    token_prefix: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiTokenCreated(ApiTokenOut):
    token: str = Field(description="Shown this once: send it as `Authorization: Token <token>`.")
