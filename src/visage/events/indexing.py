"""Indexing, worker side: a photo's faces are stored (replacing earlier ones) and grouped into
the event's people."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from visage.config import Settings
from visage.core.storage import Storage
from visage.events import media
from visage.events.detection import FoundFace
from visage.events.links import photo_key
from visage.events.models import (
    Event,
    Photo,
    PhotoFace,
    PhotoStatus,
    Visibility,
)
from visage.events.notifications import record_new_matches
from visage.events.people import EarlierFace, group_faces, lock_event_people
from visage.faces.inference.base import RGBImage
from visage.faces.protection import tenant_protector


@dataclass(frozen=True)
class IndexTarget:
    photo_id: uuid.UUID
    tenant_id: uuid.UUID
    original_key: str
    find_faces: bool = True  # False: face search is off, only the renditions are made
    watermark: str | None = None  # on the preview

    def key(self, rendition: str) -> str:
        return self.original_key.rsplit("/", 1)[0] + f"/{rendition}.jpg"


def _watermark_text(event: Event) -> str | None:
    return (
        event.name if event.watermark_previews and event.visibility == Visibility.PUBLIC else None
    )


def start_indexing(session: Session, photo_id: uuid.UUID) -> IndexTarget | None:
    """Mark the photo `indexing` (when face search is on); None when the photo is gone."""
    photo = session.get(Photo, photo_id, with_for_update=True)
    if photo is None:
        return None
    event = session.get(Event, photo.event_id)
    if event is None:
        return None
    if event.face_search_enabled:
        photo.status = PhotoStatus.INDEXING
        photo.index_attempts += 1
    return IndexTarget(
        photo.id,
        photo.tenant_id,
        photo_key(photo, media.ORIGINAL),
        find_faces=event.face_search_enabled,
        watermark=_watermark_text(event),
    )


def store_renditions(
    storage: Storage, target: IndexTarget, rgb: RGBImage, settings: Settings
) -> None:
    """Thumbnail and preview from the job's decode, once (a re-index keeps them)."""
    if storage.exists(target.key(media.THUMBNAIL)) and storage.exists(target.key(media.PREVIEW)):
        return
    renditions = media.render(
        rgb,
        preview_max_side=settings.preview_max_side,
        thumbnail_max_side=settings.thumbnail_max_side,
        watermark=target.watermark,
    )
    storage.put(target.key(media.PREVIEW), renditions.preview, "image/jpeg")
    storage.put(target.key(media.THUMBNAIL), renditions.thumbnail, "image/jpeg")


def store_faces(
    session: Session,
    target: IndexTarget,
    faces: list[FoundFace],
    *,
    started: float,
) -> list[uuid.UUID]:
    """Replace the photo's faces in one transaction (re-indexing never duplicates) and return
    the selfie subscriptions to notify about this photo."""
    photo = session.get(Photo, target.photo_id, with_for_update=True)
    if photo is None:
        return []
    # FOR SHARE: a host turning face search off (FOR UPDATE) waits for this to commit and
    # then deletes these faces too, or goes first and these are never stored.
    event = session.scalar(
        select(Event).where(Event.id == photo.event_id).with_for_update(read=True)
    )
    if event is None or not event.face_search_enabled:
        photo.status = PhotoStatus.PENDING
        return []
    lock_event_people(session, photo.event_id)
    earlier = [
        EarlierFace(face.box(), face.person_id)
        for face in session.scalars(select(PhotoFace).where(PhotoFace.photo_id == photo.id))
    ]
    session.execute(delete(PhotoFace).where(PhotoFace.photo_id == photo.id))
    protector = tenant_protector(session, photo.tenant_id)
    protected = (
        protector.protect(np.stack([face.embedding for face in faces]))
        if faces
        else np.zeros((0, 0), dtype=np.float32)
    )
    rows = [
        PhotoFace(
            tenant_id=photo.tenant_id,
            event_id=photo.event_id,
            photo_id=photo.id,
            score=face.score,
            sharpness=face.sharpness,
            usable=face.usable,
            embedding=[float(value) for value in template],
            **face.box,
        )
        for face, template in zip(faces, protected, strict=True)
    ]
    session.add_all(rows)
    session.flush()
    group_faces(session, photo, rows, protected, earlier)
    photo.status = PhotoStatus.INDEXED
    photo.face_count = len(faces)
    photo.failure_reason = None
    photo.indexed_at = datetime.now(UTC)
    photo.index_seconds = round(time.monotonic() - started, 3)
    session.flush()
    return record_new_matches(session, photo)


def record_index_failure(
    session: Session, photo_id: uuid.UUID, reason: str, *, final: bool
) -> None:
    photo = session.get(Photo, photo_id, with_for_update=True)
    if photo is None:
        return
    photo.status = PhotoStatus.FAILED if final else PhotoStatus.PENDING
    photo.failure_reason = reason[:500] if final else f"retrying after: {reason}"[:500]
