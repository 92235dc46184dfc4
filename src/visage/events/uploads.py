"""Uploads: each good file is stored once and queued for indexing; re-indexing an event."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from visage.config import Settings
from visage.core.errors import AppError, NotFound
from visage.core.images import ImageLimits, ImageTooLarge
from visage.core.jobs import enqueue
from visage.core.storage import Storage, StorageFull
from visage.core.tenancy import TenantId, TenantScope
from visage.events import media
from visage.events.errors import (
    FaceSearchDisabled,
)
from visage.events.links import photo_key
from visage.events.models import (
    Event,
    Photo,
    PhotoStatus,
)
from visage.events.tasks import index_photo
from visage.identity.principal import Principal


@dataclass(frozen=True)
class IncomingFile:
    filename: str
    stream: BinaryIO


@dataclass(frozen=True)
class FileOutcome:
    filename: str
    status: str  # accepted | duplicate | rejected
    photo_id: uuid.UUID | None = None
    error: AppError | None = None


def upload_photos(
    session: Session,
    principal: Principal,
    event_id: uuid.UUID,
    files: Sequence[IncomingFile],
    settings: Settings,
    storage: Storage,
) -> list[FileOutcome]:
    """Store each good file and queue its job (renditions, then faces); a bad file is reported
    and never fails the others."""
    scope = principal.scope(session)
    event: Event = scope.get(Event, event_id, what="Event")
    limits = ImageLimits(max_bytes=settings.max_upload_bytes, max_pixels=settings.max_image_pixels)
    outcomes = []
    for incoming in files:
        filename = (incoming.filename or "photo")[:255]
        try:
            outcome = _store_one(
                scope, principal, event, filename, incoming, limits, settings, storage
            )
        except AppError as error:
            outcome = FileOutcome(filename, "rejected", error=error)
        outcomes.append(outcome)
    return outcomes


def _store_one(
    scope: TenantScope,
    principal: Principal,
    event: Event,
    filename: str,
    incoming: IncomingFile,
    limits: ImageLimits,
    settings: Settings,
    storage: Storage,
) -> FileOutcome:
    session = scope.session
    data = incoming.stream.read(limits.max_bytes + 1)  # never more than the limit in memory
    if len(data) > limits.max_bytes:
        raise ImageTooLarge(
            f"Each file may be at most {limits.max_bytes} bytes (MAX_UPLOAD_BYTES).",
            details={"max_bytes": limits.max_bytes},
        )
    checked = media.check_upload(data, limits)
    content_hash = hashlib.sha256(data).hexdigest()
    existing = session.scalar(
        scope.select(Photo).where(Photo.event_id == event.id, Photo.content_hash == content_hash)
    )
    if existing is not None:
        return FileOutcome(filename, "duplicate", existing.id)
    photo = Photo(
        id=uuid.uuid4(),
        event_id=event.id,
        filename=filename,
        content_hash=content_hash,
        format=checked.format,
        size_bytes=len(data),
        width=checked.width,
        height=checked.height,
        uploaded_by=principal.id if principal.kind == "user" else None,
        status=PhotoStatus.PENDING,
    )
    try:
        with session.begin_nested():
            scope.add(photo)
    except IntegrityError:  # the same file uploaded concurrently
        return FileOutcome(filename, "duplicate", None)
    try:
        storage.put(photo_key(photo, media.ORIGINAL), data, media.CONTENT_TYPES[photo.format])
    except StorageFull:
        # No half-stored photo: the storage writes atomically, so only its row goes again.
        session.delete(photo)
        session.flush()
        raise
    # Renditions come from the job's decode, also when face search is off.
    enqueue(session, index_photo, photo_id=str(photo.id))
    return FileOutcome(filename, "accepted", photo.id)


def enqueue_indexing(scope: TenantScope, event: Event, *, statuses: list[PhotoStatus]) -> int:
    photo_ids = scope.session.scalars(
        scope.select(Photo)
        .with_only_columns(Photo.id)
        .where(Photo.event_id == event.id, Photo.status.in_(statuses))
    ).all()
    for photo_id in photo_ids:
        enqueue(scope.session, index_photo, photo_id=str(photo_id))
    if photo_ids:
        scope.session.execute(
            update(Photo)
            .where(Photo.tenant_id == scope.tenant_id, Photo.id.in_(photo_ids))
            .values(status=PhotoStatus.PENDING, failure_reason=None)
        )
    return len(photo_ids)


def reindex_event(session: Session, event_id: uuid.UUID, *, failed_only: bool) -> tuple[Event, int]:
    """Operator command (`visage events reindex`): queue the event's photos again."""
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound("Event not found.")
    if not event.face_search_enabled:
        raise FaceSearchDisabled()
    scope = TenantScope(session, TenantId(event.tenant_id))
    statuses = [PhotoStatus.FAILED] if failed_only else list(PhotoStatus)
    return event, enqueue_indexing(scope, event, statuses=statuses)
