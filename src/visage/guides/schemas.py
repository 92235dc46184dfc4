"""Bodies of the guide-shaped routes (FindMe's `/api/login` and `/api/health-check`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, EmailStr, Field, model_validator


class FindMeLogin(BaseModel):
    """A photographer signs in with a username (or email) and password; an attendee adds the
    event's access code."""

    username: str | None = Field(default=None, max_length=320)
    email: EmailStr | None = None
    password: str = Field(min_length=1, max_length=1024)
    access_code: str | None = Field(default=None, min_length=1, max_length=32)
    tenant: str | None = Field(default=None, max_length=100, description="Tenant slug")

    @model_validator(mode="after")
    def _one_identifier(self) -> FindMeLogin:
        if not (self.username or self.email):
            raise ValueError("give a username or an email")
        return self


class FindMeDatabase(BaseModel):
    connected: bool
    event_id_column_exists: bool
    composite_constraints: list[str]
    user_count: int | None


class FindMeModel(BaseModel):
    has_event_id_field: bool
    has_table_args: bool


class FindMeHealth(BaseModel):
    status: Literal["healthy", "degraded"]
    database: FindMeDatabase
    model: FindMeModel
    message: str
