"""Messaging request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from visage.i18n.context import N_


class SessionCreate(BaseModel):
    label: str = Field(default="WhatsApp", min_length=1, max_length=200)


class SessionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    label: str
    status: str
    me: str | None
    status_changed_at: datetime
    created_at: datetime


class SessionList(BaseModel):
    items: list[SessionOut]
    # False: WAHA could not be reached and the statuses are the last ones known.
    live: bool
    # The variables still unset before WhatsApp can be connected (empty once configured).
    missing: list[str] = []


SessionAction = Literal["start", "stop", "restart", "logout"]


class MessageCreate(BaseModel):
    member_id: uuid.UUID | None = None
    phone: str | None = Field(default=None, max_length=50)
    text: str | None = Field(default=None, min_length=1, max_length=4096)
    template_id: uuid.UUID | None = None
    variables: dict[str, str] = Field(default_factory=dict)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)
    session_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _one_recipient_one_body(self) -> MessageCreate:
        if (self.member_id is None) == (self.phone is None):
            raise ValueError(N_("give exactly one of member_id or phone"))
        if (self.text is None) == (self.template_id is None):
            raise ValueError(N_("give exactly one of text or template_id"))
        return self


class MessageQueued(BaseModel):
    id: uuid.UUID
    status: str


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    direction: str
    kind: str
    member_id: uuid.UUID | None
    attendee_id: uuid.UUID | None
    session_id: uuid.UUID | None
    phone: str
    text: str
    status: str
    provider_message_id: str | None
    status_history: list[dict[str, Any]]
    error_code: str | None
    error: str | None
    created_at: datetime
    sent_at: datetime | None


class PreferenceUpdate(BaseModel):
    whatsapp: bool | None = None
    email: bool | None = None


class PreferenceOut(BaseModel):
    member_id: uuid.UUID
    whatsapp: bool
    email: bool
    whatsapp_opted_out: bool
    updated_by: uuid.UUID | None
    updated_at: datetime | None
    source: str | None


class TemplateCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    body: str = Field(min_length=1, max_length=4096)


class TemplateUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    body: str | None = Field(default=None, min_length=1, max_length=4096)


class TemplateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    body: str
    variables: list[str]


class MessagingSettingsUpdate(BaseModel):
    timezone: str | None = Field(default=None, max_length=64)
    quiet_start_hour: int | None = Field(default=None, ge=0, le=23)
    quiet_end_hour: int | None = Field(default=None, ge=0, le=23)
    min_interval_seconds: float | None = Field(default=None, ge=0, le=3600)
    hourly_cap: int | None = Field(default=None, ge=1, le=10_000)
    opt_out_words: list[str] | None = Field(default=None, max_length=20)


class MessagingSettingsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    timezone: str
    quiet_start_hour: int
    quiet_end_hour: int
    min_interval_seconds: float | None
    hourly_cap: int | None
    opt_out_words: list[str]


Segment = Literal["active", "past_due", "members", "event_attendees"]


class BulkCreate(BaseModel):
    segment: Segment
    member_ids: list[uuid.UUID] = Field(default_factory=list, max_length=1000)
    event_id: uuid.UUID | None = Field(
        default=None, description="The event whose attendees get it (segment event_attendees)"
    )
    text: str | None = Field(default=None, min_length=1, max_length=4096)
    template_id: uuid.UUID | None = None
    variables: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_body(self) -> BulkCreate:
        if (self.text is None) == (self.template_id is None):
            raise ValueError(N_("give exactly one of text or template_id"))
        if (self.segment == "event_attendees") != (self.event_id is not None):
            raise ValueError(N_("event_id goes with (and only with) the event_attendees segment"))
        return self


class Recipient(BaseModel):
    member_id: uuid.UUID | None = None
    attendee_id: uuid.UUID | None = None
    full_name: str
    text: str | None = None
    reason: str | None = None
    code: str | None = None


class BulkPreview(BaseModel):
    recipients: list[Recipient]
    skipped: list[Recipient]


class BulkQueued(BaseModel):
    queued: list[MessageQueued]
    skipped: list[Recipient]
