"""Events, their attendees, photos, the faces found in them, and opt-in selfie templates."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from visage.core.db import Base, IdMixin, TimestampMixin, db_enum, utcnow
from visage.faces.protection import register_protected_vectors

# Templates are 128-d dlib embeddings after the tenant's keyed rotation (same dimension).
TEMPLATE_DIMENSIONS = 128


class Visibility(enum.StrEnum):
    PUBLIC = "public"  # every attendee sees the whole gallery
    PRIVATE = "private"  # attendees see only the photos they are in


class PhotoStatus(enum.StrEnum):
    PENDING = "pending"
    INDEXING = "indexing"
    INDEXED = "indexed"
    FAILED = "failed"


class Event(IdMixin, TimestampMixin, Base):
    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("tenant_id", "slug", name="uq_events_tenant_slug"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(100))
    event_date: Mapped[date] = mapped_column(Date)
    visibility: Mapped[Visibility] = mapped_column(db_enum(Visibility, "event_visibility"))
    # The host's opt-in: off means no face is indexed and every template is deleted.
    face_search_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    watermark_previews: Mapped[bool] = mapped_column(Boolean, default=False)
    access_code: Mapped[str] = mapped_column(String(32), unique=True)
    # Selfie templates kept for notifications are deleted once the event expires.
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The attendee page's language ("en", "fr") unless the browser asks for another one;
    # None: the tenant's default.
    language: Mapped[str | None] = mapped_column(String(8))


class NoticeChannel(enum.StrEnum):
    """How an attendee wants to hear about new photos of them (their own choice)."""

    EMAIL = "email"
    WHATSAPP = "whatsapp"  # needs `phone` and the consent they gave (`channel_chosen_at`)
    NONE = "none"


class Attendee(IdMixin, Base):
    """An account scoped to one event (not a tenant user): the same email may register at two
    events. The unique indexes keep the FindMe names `users_{email,username}_event_unique`."""

    __tablename__ = "event_attendees"
    __table_args__ = (
        Index("users_email_event_unique", "event_id", text("lower(email)"), unique=True),
        Index("users_username_event_unique", "event_id", text("lower(username)"), unique=True),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(320))
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    # Email until the attendee chooses otherwise (they registered with it to be told).
    notice_channel: Mapped[str] = mapped_column(
        String(10), default=NoticeChannel.EMAIL.value, server_default=NoticeChannel.EMAIL.value
    )
    # Digits of an international number (E.164), for WhatsApp.
    phone: Mapped[str | None] = mapped_column(String(20))
    # When the attendee last chose (the WhatsApp consent's date); a STOP sets the channel to none.
    channel_chosen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    channel_source: Mapped[str | None] = mapped_column(String(50))


class Photo(IdMixin, TimestampMixin, Base):
    __tablename__ = "event_photos"
    __table_args__ = (
        # An exact duplicate upload in one event is reported, not stored twice.
        UniqueConstraint("event_id", "content_hash", name="uq_event_photos_event_hash"),
        Index("ix_event_photos_event_status", "event_id", "status"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(10))
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    status: Mapped[PhotoStatus] = mapped_column(
        db_enum(PhotoStatus, "photo_status"), default=PhotoStatus.PENDING
    )
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    face_count: Mapped[int] = mapped_column(Integer, default=0)
    index_attempts: Mapped[int] = mapped_column(Integer, default=0)
    indexed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Seconds the last indexing took: the ETA is the mean of these over the event.
    index_seconds: Mapped[float | None] = mapped_column(Float)


class Person(IdMixin, TimestampMixin, Base):
    """Someone seen in an event's photos: the faces grouped as one person as photos are
    indexed (events.people), or as the organizer merged or split them."""

    __tablename__ = "event_people"
    __table_args__ = (Index("ix_event_people_event", "event_id"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    face_count: Mapped[int] = mapped_column(Integer, default=0)
    # The mean of the members' protected templates (the rotation is linear, so this is the
    # protected mean of the raw embeddings).
    centroid: Mapped[list[float]] = mapped_column(Vector(TEMPLATE_DIMENSIONS))
    # Merged or split by the organizer: their word stands, indexing never merges this person
    # with another (events.people.merge_fragments).
    kept_by_organizer: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )


class PhotoFace(IdMixin, Base):
    """One face found in a photo: its box in original-image pixels and protected template."""

    __tablename__ = "event_photo_faces"
    __table_args__ = (Index("ix_event_photo_faces_event", "event_id"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    photo_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("event_photos.id", ondelete="CASCADE"), index=True
    )
    left: Mapped[int] = mapped_column(Integer)
    top: Mapped[int] = mapped_column(Integer)
    right: Mapped[int] = mapped_column(Integer)
    bottom: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    sharpness: Mapped[float] = mapped_column(Float)
    # Too small or blurred to recognize reliably: counted and shown, never matched.
    usable: Mapped[bool] = mapped_column(Boolean)
    embedding: Mapped[list[float]] = mapped_column(Vector(TEMPLATE_DIMENSIONS))
    # Usable faces only; kept through a re-index when the face is found at the same place.
    person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("event_people.id", ondelete="SET NULL"), index=True
    )

    def box(self) -> dict[str, int]:
        return {"left": self.left, "top": self.top, "right": self.right, "bottom": self.bottom}


class SelfieSubscription(IdMixin, Base):
    """An attendee's opt-in to "tell me when new photos of me arrive": their protected selfie
    template, kept until they delete it or the event expires."""

    __tablename__ = "event_selfie_subscriptions"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    attendee_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("event_attendees.id", ondelete="CASCADE"), unique=True
    )
    embedding: Mapped[list[float]] = mapped_column(Vector(TEMPLATE_DIMENSIONS))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PhotoNotification(IdMixin, Base):
    """A photo already announced to a subscriber: re-indexing never notifies twice."""

    __tablename__ = "event_photo_notifications"
    __table_args__ = (
        UniqueConstraint(
            "subscription_id", "photo_id", name="uq_event_photo_notifications_subscription_photo"
        ),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("event_selfie_subscriptions.id", ondelete="CASCADE")
    )
    photo_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("event_photos.id", ondelete="CASCADE"))
    distance: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )


# Tenant key rotation re-seals, and crypto-shredding deletes, these templates too.
register_protected_vectors(PhotoFace, "embedding")
register_protected_vectors(SelfieSubscription, "embedding")
register_protected_vectors(Person, "centroid")
