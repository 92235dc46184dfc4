"""Request and response bodies of the identity API."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from visage.identity.models import Role


class LoginRequest(BaseModel):
    username: str | None = Field(default=None, max_length=150)
    email: EmailStr | None = None
    password: str = Field(min_length=1, max_length=1024)
    tenant: str | None = Field(default=None, max_length=100, description="Tenant slug")

    @model_validator(mode="after")
    def _one_identifier(self) -> LoginRequest:
        if not (self.username or self.email):
            raise ValueError("give a username or an email")
        return self


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int


class TenantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    slug: str
    is_active: bool


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
