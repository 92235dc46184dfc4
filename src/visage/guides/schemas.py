"""Bodies of the guide-shaped routes (FindMe's `/api/login` and `/api/health-check`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from visage.identity.schemas import LoginRequest


class FindMeLogin(LoginRequest):
    """A photographer signs in as on `/api/v1/auth/login`; an attendee adds the event's
    access code."""

    access_code: str | None = Field(default=None, min_length=1, max_length=32)


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
