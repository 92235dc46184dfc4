"""The gallery: which photos and renditions a viewer may see, and deleting a photo."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from visage.core.errors import NotFound
from visage.core.jobs import enqueue
from visage.core.storage import Storage
from visage.core.tenancy import TenantScope
from visage.events import media
from visage.events.access import (
    Viewer,
    attendee_scope,
    viewer_scope,
)
from visage.events.errors import (
    PhotoAccessDenied,
)
from visage.events.links import photo_key
from visage.events.models import (
    Event,
    Photo,
    PhotoFace,
    PhotoStatus,
    SelfieSubscription,
    Visibility,
)
from visage.events.people import lock_event_people, matched_people, recompute
from visage.events.tasks import delete_stored_files
from visage.identity import audit
from visage.identity.permissions import Permission
from visage.identity.principal import Principal


def _matched_photo_ids(
    scope: TenantScope, event_id: uuid.UUID, attendee_id: uuid.UUID
) -> Select[Any]:
    """Photos of the people the attendee's kept selfie template matches (as a search would)."""
    kept = scope.session.scalar(
        scope.select(SelfieSubscription)
        .with_only_columns(SelfieSubscription.embedding)
        .where(SelfieSubscription.attendee_id == attendee_id)
    )
    people = [] if kept is None else matched_people(scope.session, event_id, kept)
    return (
        scope.select(PhotoFace)
        .with_only_columns(PhotoFace.photo_id)
        .where(PhotoFace.event_id == event_id, PhotoFace.person_id.in_(people))
    )


def event_for_viewer(session: Session, viewer: Viewer, event_id: uuid.UUID) -> Event:
    if viewer.principal is not None:
        viewer.principal.require(Permission.EVENTS_READ)
    elif viewer.attendee is None or viewer.attendee.event_id != event_id:
        raise NotFound("Event not found.")
    event: Event = viewer_scope(session, viewer).get(Event, event_id, what="Event")
    return event


def list_photos(
    session: Session,
    viewer: Viewer,
    event_id: uuid.UUID,
    *,
    status: PhotoStatus | None,
    has_faces: bool | None,
    page: int,
    page_size: int,
) -> tuple[list[Photo], int]:
    event = event_for_viewer(session, viewer, event_id)
    scope = viewer_scope(session, viewer)
    statement = scope.select(Photo).where(Photo.event_id == event.id)
    if viewer.principal is None and event.visibility == Visibility.PRIVATE:
        # Attendees of a private event see only the photos they are in.
        attendee_id = viewer.attendee.attendee_id if viewer.attendee else None
        if attendee_id is None:
            return [], 0
        statement = statement.where(Photo.id.in_(_matched_photo_ids(scope, event.id, attendee_id)))
    if status is not None:
        statement = statement.where(Photo.status == status)
    if has_faces is not None:
        statement = statement.where((Photo.face_count > 0) == has_faces)
    return scope.page(
        statement.order_by(Photo.created_at, Photo.id), page=page, page_size=page_size
    )


def photo_for_viewer(
    session: Session, viewer: Viewer, photo_id: uuid.UUID, rendition: str
) -> Photo:
    """The photo if the viewer may see this rendition of it.

    Organizers (events:read; originals need photos:manage) see everything. Attendees see
    thumbnails and previews of a public event; originals, and anything of a private event,
    only of photos they are in: a photo link from their selfie search, or a match with their
    kept selfie template.
    """
    photo: Photo
    if viewer.link is not None and viewer.link.photo_id == photo_id:
        photo = TenantScope(session, viewer.link.tenant_id).get(Photo, photo_id, what="Photo")
        return photo
    if viewer.principal is not None:
        viewer.principal.require(
            Permission.PHOTOS_MANAGE if rendition == media.ORIGINAL else Permission.EVENTS_READ
        )
        photo = viewer.principal.scope(session).get(Photo, photo_id, what="Photo")
        return photo
    if viewer.attendee is None:
        raise NotFound("Photo not found.")
    scope = attendee_scope(session, viewer.attendee)
    photo = scope.get(Photo, photo_id, what="Photo")
    if photo.event_id != viewer.attendee.event_id:
        raise NotFound("Photo not found.")
    event: Event = scope.get(Event, photo.event_id, what="Event")
    if rendition != media.ORIGINAL and event.visibility == Visibility.PUBLIC:
        return photo
    attendee_id = viewer.attendee.attendee_id
    if attendee_id is not None and session.scalar(
        select(
            _matched_photo_ids(scope, event.id, attendee_id)
            .where(PhotoFace.photo_id == photo.id)
            .exists()
        )
    ):
        return photo
    raise PhotoAccessDenied()


def photo_faces(session: Session, viewer: Viewer, photo: Photo) -> list[PhotoFace]:
    scope = viewer_scope(session, viewer)
    return list(
        session.scalars(
            scope.select(PhotoFace).where(PhotoFace.photo_id == photo.id).order_by(PhotoFace.left)
        )
    )


def photo_file(storage: Storage, photo: Photo, rendition: str) -> tuple[bytes, str, str]:
    """(bytes, content type, download filename)."""
    data = storage.get(photo_key(photo, rendition))
    if rendition == media.ORIGINAL:
        return data, media.CONTENT_TYPES[photo.format], photo.filename
    stem = photo.filename.rsplit(".", 1)[0] or "photo"
    return data, "image/jpeg", f"{stem}-{rendition}.jpg"


def delete_photo(session: Session, principal: Principal, photo_id: uuid.UUID) -> None:
    scope = principal.scope(session)
    photo: Photo = scope.get(Photo, photo_id, what="Photo")
    prefix = photo_key(photo, media.ORIGINAL).rsplit("/", 1)[0]
    enqueue(session, delete_stored_files, prefix=prefix)
    audit.record(
        session,
        action="events.photo_deleted",
        actor=principal,
        tenant_id=photo.tenant_id,
        target_type="photo",
        target_id=str(photo.id),
        details={"event_id": str(photo.event_id), "faces": photo.face_count},
    )
    lock_event_people(session, photo.event_id)
    people = set(
        session.scalars(
            select(PhotoFace.person_id).where(
                PhotoFace.photo_id == photo.id, PhotoFace.person_id.is_not(None)
            )
        ).all()
    )
    session.delete(photo)  # its faces and notifications cascade
    session.flush()
    recompute(session, {person for person in people if person is not None})
