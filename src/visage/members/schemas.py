"""Request and response bodies of the members API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from visage.identity.schemas import Strict
from visage.members.service import MemberView


class MemberCreate(Strict):
    full_name: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=50, pattern=r"^\+?[0-9 ()./-]{3,50}$")
    external_ref: str | None = Field(default=None, min_length=1, max_length=100)
    user_id: uuid.UUID | None = Field(default=None, description="A login user of this tenant")
    is_active: bool = True


class MemberUpdate(Strict):
    full_name: str | None = Field(default=None, min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=50, pattern=r"^\+?[0-9 ()./-]{3,50}$")
    external_ref: str | None = Field(default=None, min_length=1, max_length=100)
    user_id: uuid.UUID | None = None
    is_active: bool | None = None


class ConsentCreate(Strict):
    text_version: str = Field(
        min_length=1, max_length=100, description="Version of the consent text shown"
    )
    method: str = Field(
        min_length=1, max_length=50, description="How it was given: kiosk, paper, web, ..."
    )


class ConsentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    member_id: uuid.UUID
    text_version: str
    method: str
    recorded_by: uuid.UUID | None
    given_at: datetime
    withdrawn_at: datetime | None


class ConsentWithdrawn(BaseModel):
    templates_erased: int


class MemberOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    full_name: str
    email: str | None
    phone: str | None
    external_ref: str | None
    user_id: uuid.UUID | None
    is_active: bool
    last_seen_at: datetime | None
    created_at: datetime
    updated_at: datetime
    consent: ConsentOut | None
    face_count: int

    @classmethod
    def of(cls, view: MemberView) -> MemberOut:
        return cls.model_validate(
            {
                **{name: getattr(view.member, name) for name in _MEMBER_COLUMNS},
                "consent": view.consent,
                "face_count": view.face_count,
            }
        )


_MEMBER_COLUMNS = (
    "id",
    "full_name",
    "email",
    "phone",
    "external_ref",
    "user_id",
    "is_active",
    "last_seen_at",
    "created_at",
    "updated_at",
)
