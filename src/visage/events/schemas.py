"""Request and response bodies of the FindMe API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from visage.core.paging import Page
from visage.events.models import NoticeChannel, PhotoStatus, Visibility
from visage.i18n.context import N_
from visage.messaging.consent import phone_digits

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


class EventCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    slug: str = Field(min_length=1, max_length=100, pattern=SLUG_PATTERN)
    event_date: date
    visibility: Visibility = Visibility.PRIVATE
    face_search_enabled: bool = True
    watermark_previews: bool = False
    language: Literal["en", "fr"] | None = Field(
        default=None, description="The attendee page's language; null: the tenant's default"
    )
    expires_at: datetime | None = Field(
        default=None, description="Default: the event date + EVENT_RETENTION_DAYS"
    )


class EventUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    slug: str | None = Field(default=None, min_length=1, max_length=100, pattern=SLUG_PATTERN)
    event_date: date | None = None
    visibility: Visibility | None = None
    face_search_enabled: bool | None = None
    watermark_previews: bool | None = None
    language: Literal["en", "fr"] | None = Field(
        default=None, description="null: back to the tenant's default"
    )
    expires_at: datetime | None = None
    regenerate_access_code: bool = False


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    slug: str
    event_date: date
    visibility: Visibility
    face_search_enabled: bool
    watermark_previews: bool
    language: str | None
    access_code: str
    expires_at: datetime
    created_at: datetime
    share_url: str
    qr_code_url: str


EventPage = Page[EventOut]


class PublicEventOut(BaseModel):
    """What an attendee learns about the event they joined."""

    id: uuid.UUID
    name: str
    event_date: date
    visibility: Visibility
    face_search_enabled: bool
    language: str | None = None


class AnonymousJoin(BaseModel):
    access_code: str = Field(min_length=1, max_length=32)


class AttendeeRegister(BaseModel):
    access_code: str = Field(min_length=1, max_length=32)
    username: str = Field(min_length=2, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    email: EmailStr
    password: str = Field(min_length=8, max_length=200)
    full_name: str = Field(default="", max_length=200)


class AttendeeLogin(BaseModel):
    access_code: str = Field(min_length=1, max_length=32)
    login: str = Field(min_length=1, max_length=320, description="Username or email")
    password: str = Field(min_length=1, max_length=200)


class AttendeeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    event_id: uuid.UUID
    username: str
    email: str
    full_name: str
    created_at: datetime
    notice_channel: NoticeChannel
    phone: str | None
    channel_chosen_at: datetime | None


# An international number as people write it: +, country code, digits (spaces, dashes, dots).
INTERNATIONAL_PHONE = r"^\+[1-9][0-9 .\-()]{6,22}$"


class NoticeChannelUpdate(BaseModel):
    """How the attendee wants to hear about new photos of them."""

    channel: NoticeChannel
    phone: str | None = Field(
        default=None, pattern=INTERNATIONAL_PHONE, description="International form: +33 6 12 ..."
    )
    whatsapp_consent: bool = Field(
        default=False, description="Required for WhatsApp: I agree to get these messages there"
    )

    @model_validator(mode="after")
    def _whatsapp_needs_number_and_consent(self) -> NoticeChannelUpdate:
        if self.channel == NoticeChannel.WHATSAPP:
            if self.phone is None or phone_digits(self.phone) is None:
                raise ValueError(
                    N_("WhatsApp needs your phone number in international form (+...)")
                )
            if not self.whatsapp_consent:
                raise ValueError(N_("WhatsApp needs your consent (whatsapp_consent: true)"))
        return self


class AttendeeSelf(BaseModel):
    attendee: AttendeeOut | None
    event: PublicEventOut
    has_selfie_template: bool
    selfie_template_expires_at: datetime | None


AttendeePage = Page[AttendeeOut]


class AttendeeToken(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    event: PublicEventOut
    attendee: AttendeeOut | None


class UploadError(BaseModel):
    code: str
    message: str


class UploadedFile(BaseModel):
    filename: str
    status: Literal["accepted", "duplicate", "rejected"]
    photo_id: uuid.UUID | None = None
    error: UploadError | None = None


class UploadResult(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    files: list[UploadedFile]


class FaceBox(BaseModel):
    left: int
    top: int
    right: int
    bottom: int


class PhotoOut(BaseModel):
    id: uuid.UUID
    event_id: uuid.UUID
    filename: str
    format: str
    size_bytes: int
    width: int
    height: int
    status: PhotoStatus
    failure_reason: str | None
    face_count: int
    created_at: datetime
    indexed_at: datetime | None
    thumbnail_url: str
    preview_url: str
    original_url: str


class PhotoFaceOut(BaseModel):
    id: uuid.UUID
    box: FaceBox
    score: float
    sharpness: float


class PhotoDetail(PhotoOut):
    faces: list[PhotoFaceOut]


PhotoPage = Page[PhotoOut]


class Progress(BaseModel):
    event_id: uuid.UUID
    total: int
    pending: int
    indexing: int
    indexed: int
    failed: int
    faces_found: int
    percent_done: float
    eta_seconds: float | None
    live_workers: int


class SelfieFields(BaseModel):
    """The fields sent beside the selfie `image` (multipart file or JSON base64)."""

    notify: bool = Field(
        default=False, description="Keep my protected template and email me new photos of me"
    )


class SearchMatch(BaseModel):
    photo_id: uuid.UUID
    distance: float
    face_box: FaceBox
    thumbnail_url: str


class SearchResult(BaseModel):
    photos: list[SearchMatch]
    notifications_enabled: bool


class PersonFaceOut(BaseModel):
    id: uuid.UUID
    photo_id: uuid.UUID
    box: FaceBox  # in the photo's original pixels
    photo_width: int
    photo_height: int
    thumbnail_url: str


class PersonOut(BaseModel):
    id: uuid.UUID
    face_count: int
    photo_count: int
    cover: PersonFaceOut


PersonPage = Page[PersonOut]


class PersonFaces(BaseModel):
    person_id: uuid.UUID
    faces: list[PersonFaceOut]


class PeopleMerge(BaseModel):
    person_ids: list[uuid.UUID] = Field(
        min_length=2, max_length=100, description="The first keeps the merged faces"
    )


class PersonSplit(BaseModel):
    face_ids: list[uuid.UUID] = Field(
        min_length=1, max_length=1000, description="Faces of the person that become a new one"
    )
