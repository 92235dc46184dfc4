"""Request and response bodies of the publishing API."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from visage.publishing.models import (
    AccountStatus,
    Delivery,
    DeliveryStatus,
    Platform,
    Post,
    PostStatus,
    SocialAccount,
)
from visage.publishing.platforms import counted_length


class AuthorizeUrl(BaseModel):
    authorize_url: str


class AppPasswordIn(BaseModel):
    identifier: str = Field(min_length=1, max_length=253, description="Handle or email")
    app_password: str = Field(min_length=1, max_length=200)


class AccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    platform: Platform
    username: str
    status: AccountStatus
    token_expires_at: datetime | None
    last_error: str | None


class PostCreate(BaseModel):
    account_ids: list[uuid.UUID] = Field(min_length=1, max_length=20)
    text: str = Field(default="", max_length=63206)
    photo_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)
    scheduled_for: datetime | None = Field(
        default=None, description="Local wall time in `timezone` (or an aware time)"
    )
    timezone: str = Field(default="UTC", max_length=64, description="IANA zone, e.g. Europe/Paris")


class DeliveryOut(BaseModel):
    account_id: uuid.UUID
    platform: Platform
    username: str
    status: DeliveryStatus
    counted_length: int
    publish_attempts: int
    last_error: str | None
    last_error_code: str | None
    next_attempt_at: datetime | None
    platform_post_id: str | None
    platform_url: str | None
    published_at: datetime | None

    @classmethod
    def of(cls, delivery: Delivery, account: SocialAccount, text: str) -> DeliveryOut:
        return cls(
            account_id=account.id,
            platform=account.platform,
            username=account.username,
            status=delivery.status,
            counted_length=counted_length(text, account.platform),
            publish_attempts=delivery.publish_attempts,
            last_error=delivery.last_error,
            last_error_code=delivery.last_error_code,
            next_attempt_at=delivery.next_attempt_at,
            platform_post_id=delivery.platform_post_id,
            platform_url=delivery.platform_url,
            published_at=delivery.published_at,
        )


class PostOut(BaseModel):
    id: uuid.UUID
    text: str
    photo_ids: list[uuid.UUID]
    scheduled_for: datetime | None  # UTC
    scheduled_local: str | None  # the same instant in `timezone`
    timezone: str
    status: PostStatus
    deliveries: list[DeliveryOut]

    @classmethod
    def of(cls, post: Post, deliveries: list[tuple[Delivery, SocialAccount]]) -> PostOut:
        local = (
            post.scheduled_for.astimezone(ZoneInfo(post.timezone)).isoformat()
            if post.scheduled_for
            else None
        )
        return cls(
            id=post.id,
            text=post.text,
            photo_ids=list(post.photo_ids),
            scheduled_for=post.scheduled_for,
            scheduled_local=local,
            timezone=post.timezone,
            status=post.status,
            deliveries=[DeliveryOut.of(d, a, post.text) for d, a in deliveries],
        )


class QueueStatusOut(BaseModel):
    due: int
    scheduled: int
    publishing: int
    failed: int
    unknown: int
    published: int
    rate_limited: int


class PublicityIn(BaseModel):
    consent: bool


class PublicityOut(BaseModel):
    consent: bool


class CaptionIn(BaseModel):
    platform: Platform
    photo_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)
    event_id: uuid.UUID | None = None
    tone: str = Field(default="friendly", max_length=50)
    language: str = Field(default="en", max_length=20)


class CaptionsOut(BaseModel):
    captions: list[str]
    provider: str
    credits_remaining: int | None


class AnalyzeIn(BaseModel):
    content: str = Field(max_length=63206)
    platform: Platform
    image_count: int | None = Field(default=None, ge=0, le=20)


class IssueOut(BaseModel):
    platform: Platform
    rule: str
    message: str
    limit: int | None
    actual: int | None


class AnalysisOut(BaseModel):
    platform: Platform
    counted_length: int
    limit: int
    hashtags: int
    mentions: int
    ok: bool
    issues: list[IssueOut]


class ImproveIn(BaseModel):
    content: str = Field(max_length=63206)
    goal: str = Field(default="increase engagement", max_length=200)
    platform: Platform


class ImprovedOut(BaseModel):
    content: str
    provider: str
    credits_remaining: int | None


class CreditsOut(BaseModel):
    used: int
    limit: int
    remaining: int
    resets_at: datetime


class PublishingSettingsIn(BaseModel):
    timezone: str = Field(
        max_length=64, description="IANA zone: AI credit months start on the 1st there"
    )


class PublishingSettingsOut(BaseModel):
    timezone: str
