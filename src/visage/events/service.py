"""FindMe business rules: events, attendees, uploads, gallery access, progress, selfie search,
privacy. No FastAPI here; callers own the transaction."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

import numpy as np
from sqlalchemy import Select, delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from visage.config import Settings
from visage.core.db import flush_or_raise
from visage.core.errors import AppError, InvalidCredentials, NotFound
from visage.core.images import ImageLimits, ImageTooLarge, decode_image
from visage.core.jobs import enqueue
from visage.core.security import hash_password, verify_password
from visage.core.storage import Storage, StorageFull
from visage.core.tenancy import TenantId, TenantScope
from visage.events import media
from visage.events.access import (
    AttendeePass,
    Viewer,
    issue_attendee_token,
    issue_photo_link_token,
)
from visage.events.errors import (
    AttendeeExists,
    EventSlugTaken,
    FaceSearchDisabled,
    InvalidAccessCode,
    NoFaceInSelfie,
    NotificationsNeedAccount,
    PhotoAccessDenied,
)
from visage.events.indexing import FoundFace
from visage.events.models import (
    Attendee,
    Event,
    Photo,
    PhotoFace,
    PhotoNotification,
    PhotoStatus,
    SelfieSubscription,
    Visibility,
)
from visage.events.schemas import EventCreate, EventUpdate
from visage.faces.pipeline import analyze, largest
from visage.faces.protection import tenant_protector
from visage.identity import audit
from visage.identity.permissions import Permission
from visage.identity.principal import Principal

API_PREFIX = "/api/v1"
# Unambiguous characters only (no 0/O, 1/I/L): codes are read aloud and typed from posters.
ACCESS_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
ACCESS_CODE_LENGTH = 8


# ---------------------------------------------------------------- events


def _new_access_code() -> str:
    return "".join(secrets.choice(ACCESS_CODE_ALPHABET) for _ in range(ACCESS_CODE_LENGTH))


def share_url(settings: Settings, event: Event) -> str:
    return f"{settings.public_base_url.rstrip('/')}/e/{event.access_code}"


def qr_code_url(event: Event) -> str:
    return f"{API_PREFIX}/events/{event.id}/qr.png"


def _slug_taken(scope: TenantScope, slug: str, *, except_id: uuid.UUID | None = None) -> bool:
    statement = scope.select(Event).where(Event.slug == slug)
    if except_id is not None:
        statement = statement.where(Event.id != except_id)
    return scope.session.scalar(statement) is not None


def create_event(
    session: Session, principal: Principal, data: EventCreate, settings: Settings
) -> Event:
    scope = principal.scope(session)
    if _slug_taken(scope, data.slug):
        raise EventSlugTaken(details={"slug": data.slug})
    expires_at = data.expires_at or (
        datetime.combine(data.event_date, datetime.min.time(), tzinfo=UTC)
        + timedelta(days=settings.event_retention_days)
    )
    event = scope.add(
        Event(
            name=data.name,
            slug=data.slug,
            event_date=data.event_date,
            visibility=data.visibility,
            face_search_enabled=data.face_search_enabled,
            watermark_previews=data.watermark_previews,
            access_code=_new_access_code(),
            expires_at=expires_at,
        )
    )
    session.flush()
    audit.record(
        session,
        action="events.created",
        actor=principal,
        tenant_id=event.tenant_id,
        target_type="event",
        target_id=str(event.id),
        details={"face_search_enabled": event.face_search_enabled},
    )
    return event


def list_events(
    session: Session, principal: Principal, *, page: int, page_size: int
) -> tuple[list[Event], int]:
    scope = principal.scope(session)
    statement = scope.select(Event).order_by(Event.event_date.desc(), Event.created_at.desc())
    return scope.page(statement, page=page, page_size=page_size)


def get_event(session: Session, principal: Principal, event_id: uuid.UUID) -> Event:
    event: Event = principal.scope(session).get(Event, event_id, what="Event")
    return event


def update_event(
    session: Session, principal: Principal, event_id: uuid.UUID, data: EventUpdate
) -> Event:
    scope = principal.scope(session)
    event: Event = scope.get(Event, event_id, what="Event")
    if data.slug is not None and _slug_taken(scope, data.slug, except_id=event.id):
        raise EventSlugTaken(details={"slug": data.slug})
    changes = data.model_dump(exclude_unset=True, exclude={"regenerate_access_code"})
    was_enabled = event.face_search_enabled
    for field, value in changes.items():
        if value is not None:
            setattr(event, field, value)
    if data.regenerate_access_code:
        event.access_code = _new_access_code()
    if was_enabled and not event.face_search_enabled:
        session.execute(select(Event.id).where(Event.id == event.id).with_for_update())
        _delete_event_templates(scope, principal, event)
    elif not was_enabled and event.face_search_enabled:
        _enqueue_indexing(scope, event, statuses=list(PhotoStatus))
    session.flush()
    return event


def _delete_event_templates(scope: TenantScope, principal: Principal, event: Event) -> None:
    """Face search turned off: every face template of the event goes, photos stay."""
    session = scope.session
    faces = len(
        session.scalars(
            delete(PhotoFace)
            .where(PhotoFace.tenant_id == scope.tenant_id, PhotoFace.event_id == event.id)
            .returning(PhotoFace.id)
        ).all()
    )
    selfies = len(
        session.scalars(
            delete(SelfieSubscription)
            .where(
                SelfieSubscription.tenant_id == scope.tenant_id,
                SelfieSubscription.event_id == event.id,
            )
            .returning(SelfieSubscription.id)
        ).all()
    )
    session.execute(
        update(Photo)
        .where(Photo.tenant_id == scope.tenant_id, Photo.event_id == event.id)
        .values(status=PhotoStatus.PENDING, face_count=0, indexed_at=None, failure_reason=None)
    )
    audit.record(
        session,
        action="events.face_search_disabled",
        actor=principal,
        tenant_id=event.tenant_id,
        target_type="event",
        target_id=str(event.id),
        details={"face_templates_deleted": faces, "selfie_templates_deleted": selfies},
    )


def delete_event(session: Session, principal: Principal, event_id: uuid.UUID) -> None:
    from visage.events.tasks import delete_stored_files

    scope = principal.scope(session)
    event: Event = scope.get(Event, event_id, what="Event")
    enqueue(session, delete_stored_files, prefix=event_storage_prefix(event))
    audit.record(
        session,
        action="events.deleted",
        actor=principal,
        tenant_id=event.tenant_id,
        target_type="event",
        target_id=str(event.id),
        details={"name": event.name},
    )
    session.delete(event)


def event_qr_png(
    session: Session, principal: Principal, event_id: uuid.UUID, settings: Settings
) -> bytes:
    return media.qr_png(share_url(settings, get_event(session, principal, event_id)))


# ---------------------------------------------------------------- attendees


def _event_by_code(session: Session, access_code: str) -> Event:
    # The access code is the attendee's only key to the event (unique across tenants).
    event = session.scalar(select(Event).where(Event.access_code == access_code.strip().upper()))
    if event is None:
        raise InvalidAccessCode()
    return event


@dataclass(frozen=True)
class AttendeeSession:
    token: str
    event: Event
    attendee: Attendee | None


def join_anonymously(session: Session, access_code: str, settings: Settings) -> AttendeeSession:
    event = _event_by_code(session, access_code)
    token = issue_attendee_token(
        settings, event_id=event.id, tenant_id=event.tenant_id, attendee_id=None
    )
    return AttendeeSession(token, event, None)


def register_attendee(
    session: Session,
    *,
    access_code: str,
    username: str,
    email: str,
    password: str,
    full_name: str,
    settings: Settings,
) -> AttendeeSession:
    event = _event_by_code(session, access_code)
    scope = TenantScope(session, TenantId(event.tenant_id))
    taken = scope.session.scalar(
        scope.select(Attendee).where(
            Attendee.event_id == event.id,
            (func.lower(Attendee.email) == email.lower())
            | (func.lower(Attendee.username) == username.lower()),
        )
    )
    if taken is not None:
        raise AttendeeExists()
    attendee = scope.add(
        Attendee(
            event_id=event.id,
            username=username,
            email=email,
            full_name=full_name,
            password_hash=hash_password(password),
        )
    )
    flush_or_raise(session, AttendeeExists())  # registered concurrently
    audit.record(
        session,
        action="events.attendee_registered",
        actor=None,
        tenant_id=event.tenant_id,
        target_type="attendee",
        target_id=str(attendee.id),
        details={"event_id": str(event.id)},
    )
    token = issue_attendee_token(
        settings, event_id=event.id, tenant_id=event.tenant_id, attendee_id=attendee.id
    )
    return AttendeeSession(token, event, attendee)


def login_attendee(
    session: Session, *, access_code: str, login: str, password: str, settings: Settings
) -> AttendeeSession:
    event = _event_by_code(session, access_code)
    scope = TenantScope(session, TenantId(event.tenant_id))
    attendee = session.scalar(
        scope.select(Attendee).where(
            Attendee.event_id == event.id,
            (func.lower(Attendee.email) == login.lower())
            | (func.lower(Attendee.username) == login.lower()),
        )
    )
    if not verify_password(attendee.password_hash if attendee else None, password):
        raise InvalidCredentials()
    assert attendee is not None  # verify_password is False without a hash
    token = issue_attendee_token(
        settings, event_id=event.id, tenant_id=event.tenant_id, attendee_id=attendee.id
    )
    return AttendeeSession(token, event, attendee)


def _attendee_scope(session: Session, attendee: AttendeePass) -> TenantScope:
    return TenantScope(session, attendee.tenant_id)


@dataclass(frozen=True)
class AttendeeState:
    event: Event
    attendee: Attendee | None
    subscription: SelfieSubscription | None


def attendee_state(session: Session, attendee_pass: AttendeePass) -> AttendeeState:
    scope = _attendee_scope(session, attendee_pass)
    event: Event = scope.get(Event, attendee_pass.event_id, what="Event")
    if attendee_pass.attendee_id is None:
        return AttendeeState(event, None, None)
    attendee: Attendee = scope.get(Attendee, attendee_pass.attendee_id, what="Attendee")
    subscription = session.scalar(
        scope.select(SelfieSubscription).where(SelfieSubscription.attendee_id == attendee.id)
    )
    return AttendeeState(event, attendee, subscription)


def delete_selfie_data(session: Session, attendee_pass: AttendeePass) -> AttendeeState:
    """The attendee's kept selfie template (and its notification history) is deleted."""
    state = attendee_state(session, attendee_pass)
    if state.subscription is not None:
        session.delete(state.subscription)
        _audit_attendee(session, state, "events.selfie_template_deleted")
        session.flush()
    return AttendeeState(state.event, state.attendee, None)


def delete_attendee(session: Session, attendee_pass: AttendeePass) -> None:
    state = attendee_state(session, attendee_pass)
    if state.attendee is None:
        raise NotFound("Anonymous access has no account to delete.")
    _audit_attendee(session, state, "events.attendee_deleted")
    session.delete(state.attendee)  # cascades to the selfie template


def _audit_attendee(session: Session, state: AttendeeState, action: str) -> None:
    assert state.attendee is not None
    audit.record(
        session,
        action=action,
        actor=None,
        tenant_id=state.event.tenant_id,
        target_type="attendee",
        target_id=str(state.attendee.id),
        details={"event_id": str(state.event.id)},
    )


def list_attendees(
    session: Session, principal: Principal, event_id: uuid.UUID, *, page: int, page_size: int
) -> tuple[list[Attendee], int]:
    scope = principal.scope(session)
    event = get_event(session, principal, event_id)
    statement = (
        scope.select(Attendee).where(Attendee.event_id == event.id).order_by(Attendee.created_at)
    )
    return scope.page(statement, page=page, page_size=page_size)


# ---------------------------------------------------------------- uploads


def event_storage_prefix(event: Event) -> str:
    return f"events/{event.tenant_id}/{event.id}"


def photo_key(photo: Photo, rendition: str) -> str:
    extension = media.EXTENSIONS[photo.format] if rendition == media.ORIGINAL else "jpg"
    return f"events/{photo.tenant_id}/{photo.event_id}/{photo.id}/{rendition}.{extension}"


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


def _watermark_text(event: Event) -> str | None:
    return (
        event.name if event.watermark_previews and event.visibility == Visibility.PUBLIC else None
    )


def upload_photos(
    session: Session,
    principal: Principal,
    event_id: uuid.UUID,
    files: Sequence[IncomingFile],
    settings: Settings,
    storage: Storage,
) -> list[FileOutcome]:
    """Store each good file (original, thumbnail, preview) and queue its indexing; a bad file
    is reported and never fails the others."""
    scope = principal.scope(session)
    event: Event = scope.get(Event, event_id, what="Event")
    limits = ImageLimits(
        max_bytes=settings.max_upload_bytes,
        max_pixels=settings.max_image_pixels,
        max_side=settings.preview_max_side,
    )
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
    from visage.events.tasks import index_photo

    session = scope.session
    data = incoming.stream.read(limits.max_bytes + 1)  # never more than the limit in memory
    if len(data) > limits.max_bytes:
        raise ImageTooLarge(
            f"Each file may be at most {limits.max_bytes} bytes (MAX_UPLOAD_BYTES).",
            details={"max_bytes": limits.max_bytes},
        )
    decoded = decode_image(data, limits, allow_heif=True)
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
        format=decoded.format,
        size_bytes=len(data),
        width=decoded.original_width,
        height=decoded.original_height,
        uploaded_by=principal.id if principal.kind == "user" else None,
        status=PhotoStatus.PENDING,
    )
    try:
        with session.begin_nested():
            scope.add(photo)
    except IntegrityError:  # the same file uploaded concurrently
        return FileOutcome(filename, "duplicate", None)
    renditions = media.render(
        decoded.rgb,
        preview_max_side=settings.preview_max_side,
        thumbnail_max_side=settings.thumbnail_max_side,
        watermark=_watermark_text(event),
    )
    files = {
        photo_key(photo, media.ORIGINAL): (data, media.CONTENT_TYPES[photo.format]),
        photo_key(photo, media.THUMBNAIL): (renditions.thumbnail, "image/jpeg"),
        photo_key(photo, media.PREVIEW): (renditions.preview, "image/jpeg"),
    }
    try:
        for key, (content, content_type) in files.items():
            storage.put(key, content, content_type)
    except StorageFull:
        # No half-stored photo: its row and whatever renditions made it go again.
        session.delete(photo)
        session.flush()
        for key in files:
            storage.delete(key)
        raise
    if event.face_search_enabled:
        enqueue(session, index_photo, photo_id=str(photo.id))
    return FileOutcome(filename, "accepted", photo.id)


def _enqueue_indexing(scope: TenantScope, event: Event, *, statuses: list[PhotoStatus]) -> int:
    from visage.events.tasks import index_photo

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
    return event, _enqueue_indexing(scope, event, statuses=statuses)


def find_event_for_operator(session: Session, reference: str) -> Event:
    """An event by id or access code, across tenants (operators only: the CLI)."""
    try:
        event = session.get(Event, uuid.UUID(reference))
    except ValueError:
        event = session.scalar(select(Event).where(Event.access_code == reference.upper()))
    if event is None:
        raise NotFound(f"No event with id or access code {reference!r}.")
    return event


# ---------------------------------------------------------------- gallery


def _viewer_scope(session: Session, viewer: Viewer) -> TenantScope:
    if viewer.principal is not None:
        return viewer.principal.scope(session)
    if viewer.attendee is not None:
        return _attendee_scope(session, viewer.attendee)
    raise NotFound("Event not found.")


def event_for_viewer(session: Session, viewer: Viewer, event_id: uuid.UUID) -> Event:
    if viewer.principal is not None:
        viewer.principal.require(Permission.EVENTS_READ)
    elif viewer.attendee is None or viewer.attendee.event_id != event_id:
        raise NotFound("Event not found.")
    event: Event = _viewer_scope(session, viewer).get(Event, event_id, what="Event")
    return event


def _matched_photo_ids(
    scope: TenantScope, attendee_id: uuid.UUID, settings: Settings
) -> Select[Any]:
    """Photos with a face within tolerance of the attendee's kept selfie template."""
    return (
        scope.select(PhotoFace)
        .with_only_columns(PhotoFace.photo_id)
        .join(
            SelfieSubscription,
            (SelfieSubscription.event_id == PhotoFace.event_id)
            & (SelfieSubscription.tenant_id == PhotoFace.tenant_id),
        )
        .where(
            SelfieSubscription.attendee_id == attendee_id,
            PhotoFace.usable,
            PhotoFace.embedding.l2_distance(SelfieSubscription.embedding)
            <= settings.face_recognition_tolerance,
        )
    )


def list_photos(
    session: Session,
    viewer: Viewer,
    event_id: uuid.UUID,
    settings: Settings,
    *,
    status: PhotoStatus | None,
    has_faces: bool | None,
    page: int,
    page_size: int,
) -> tuple[list[Photo], int]:
    event = event_for_viewer(session, viewer, event_id)
    scope = _viewer_scope(session, viewer)
    statement = scope.select(Photo).where(Photo.event_id == event.id)
    if viewer.principal is None and event.visibility == Visibility.PRIVATE:
        # Attendees of a private event see only the photos they are in.
        attendee_id = viewer.attendee.attendee_id if viewer.attendee else None
        if attendee_id is None:
            return [], 0
        statement = statement.where(Photo.id.in_(_matched_photo_ids(scope, attendee_id, settings)))
    if status is not None:
        statement = statement.where(Photo.status == status)
    if has_faces is not None:
        statement = statement.where((Photo.face_count > 0) == has_faces)
    return scope.page(
        statement.order_by(Photo.created_at, Photo.id), page=page, page_size=page_size
    )


def photo_for_viewer(
    session: Session, viewer: Viewer, photo_id: uuid.UUID, rendition: str, settings: Settings
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
    scope = _attendee_scope(session, viewer.attendee)
    photo = scope.get(Photo, photo_id, what="Photo")
    if photo.event_id != viewer.attendee.event_id:
        raise NotFound("Photo not found.")
    event: Event = scope.get(Event, photo.event_id, what="Event")
    if rendition != media.ORIGINAL and event.visibility == Visibility.PUBLIC:
        return photo
    attendee_id = viewer.attendee.attendee_id
    if attendee_id is not None and session.scalar(
        select(
            _matched_photo_ids(scope, attendee_id, settings)
            .where(PhotoFace.photo_id == photo.id)
            .exists()
        )
    ):
        return photo
    raise PhotoAccessDenied()


def photo_faces(session: Session, viewer: Viewer, photo: Photo) -> list[PhotoFace]:
    scope = _viewer_scope(session, viewer)
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
    from visage.events.tasks import delete_stored_files

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
    session.delete(photo)  # its faces and notifications cascade


# ---------------------------------------------------------------- progress


@dataclass(frozen=True)
class ProgressCounts:
    event_id: uuid.UUID
    by_status: dict[PhotoStatus, int]
    faces_found: int
    eta_seconds: float | None
    live_workers: int

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def percent_done(self) -> float:
        done = self.by_status[PhotoStatus.INDEXED] + self.by_status[PhotoStatus.FAILED]
        return round(100.0 * done / self.total, 1) if self.total else 100.0


def live_worker_count(session: Session, settings: Settings) -> int:
    return (
        session.scalar(
            text(
                "SELECT count(*) FROM procrastinate_workers "
                "WHERE last_heartbeat > now() - make_interval(secs => :stalled)"
            ),
            {"stalled": settings.worker_stalled_seconds},
        )
        or 0
    )


def event_progress(
    session: Session, scope: TenantScope, event: Event, settings: Settings
) -> ProgressCounts:
    rows = session.execute(
        scope.select(Photo)
        .with_only_columns(
            Photo.status,
            func.count(),
            func.coalesce(func.sum(Photo.face_count), 0),
            func.avg(Photo.index_seconds),
        )
        .where(Photo.event_id == event.id)
        .group_by(Photo.status)
    ).all()
    by_status = dict.fromkeys(PhotoStatus, 0)
    faces = 0
    mean_seconds: float | None = None
    for status, count, face_total, average in rows:
        by_status[status] = count
        faces += int(face_total)
        if status == PhotoStatus.INDEXED and average is not None:
            mean_seconds = float(average)
    workers = live_worker_count(session, settings)
    remaining = by_status[PhotoStatus.PENDING] + by_status[PhotoStatus.INDEXING]
    eta = None
    if remaining == 0:
        eta = 0.0
    elif mean_seconds is not None:
        eta = round(remaining * mean_seconds / max(1, workers), 1)
    return ProgressCounts(event.id, by_status, faces, eta, workers)


def progress_for_viewer(
    session: Session, principal: Principal, event_id: uuid.UUID, settings: Settings
) -> ProgressCounts:
    event = get_event(session, principal, event_id)
    return event_progress(session, principal.scope(session), event, settings)


# ---------------------------------------------------------------- selfie search


@dataclass(frozen=True)
class Match:
    photo_id: uuid.UUID
    distance: float
    box: dict[str, int]
    thumbnail_url: str


@dataclass(frozen=True)
class SearchOutcome:
    matches: list[Match]
    notifications_enabled: bool


def selfie_template(
    session: Session, tenant_id: uuid.UUID, image: bytes, settings: Settings
) -> list[float]:
    """The protected template of the selfie's largest usable face (the selfie is not kept)."""
    decoded = decode_image(image, ImageLimits.from_settings(settings), allow_heif=True)
    usable = [analysis for analysis in analyze(decoded.rgb, "kiosk") if analysis.usable]
    if not usable:
        raise NoFaceInSelfie()
    protected = tenant_protector(session, tenant_id).protect(largest(usable).embedding)
    return [float(value) for value in protected]


def search_selfie(
    session: Session,
    viewer: Viewer,
    event_id: uuid.UUID,
    image: bytes,
    settings: Settings,
    *,
    notify: bool,
    limit: int = 200,
) -> SearchOutcome:
    event = event_for_viewer(session, viewer, event_id)
    if not event.face_search_enabled:
        raise FaceSearchDisabled()
    attendee_id = viewer.attendee.attendee_id if viewer.attendee else None
    if notify and attendee_id is None:
        raise NotificationsNeedAccount()
    scope = _viewer_scope(session, viewer)
    template = selfie_template(session, event.tenant_id, image, settings)
    distance = PhotoFace.embedding.l2_distance(template)
    # Each photo once, at its closest face; tenant and event filters in the same statement.
    ranked = (
        scope.select(PhotoFace)
        .with_only_columns(
            PhotoFace.photo_id,
            PhotoFace.left,
            PhotoFace.top,
            PhotoFace.right,
            PhotoFace.bottom,
            distance.label("distance"),
            func.row_number()
            .over(partition_by=PhotoFace.photo_id, order_by=distance)
            .label("rank"),
        )
        .where(
            PhotoFace.event_id == event.id,
            PhotoFace.usable,
            distance <= settings.face_recognition_tolerance,
        )
        .subquery()
    )
    rows = session.execute(
        select(ranked).where(ranked.c.rank == 1).order_by(ranked.c.distance).limit(limit)
    ).all()
    matches = [
        Match(
            photo_id=row.photo_id,
            distance=round(float(row.distance), 4),
            box={"left": row.left, "top": row.top, "right": row.right, "bottom": row.bottom},
            thumbnail_url=(
                f"{API_PREFIX}/photos/{row.photo_id}/thumbnail"
                f"?link={issue_photo_link_token(settings, row.photo_id, event.tenant_id)}"
            ),
        )
        for row in rows
    ]
    if notify and attendee_id is not None:
        _keep_selfie_template(scope, event, attendee_id, template)
    return SearchOutcome(matches, notifications_enabled=notify)


def _keep_selfie_template(
    scope: TenantScope, event: Event, attendee_id: uuid.UUID, template: list[float]
) -> None:
    session = scope.session
    subscription = session.scalar(
        scope.select(SelfieSubscription).where(SelfieSubscription.attendee_id == attendee_id)
    )
    if subscription is None:
        subscription = scope.add(
            SelfieSubscription(event_id=event.id, attendee_id=attendee_id, embedding=template)
        )
    subscription.embedding = template
    subscription.expires_at = event.expires_at
    session.flush()
    audit.record(
        session,
        action="events.selfie_template_kept",
        actor=None,
        tenant_id=event.tenant_id,
        target_type="attendee",
        target_id=str(attendee_id),
        details={"event_id": str(event.id), "expires_at": event.expires_at.isoformat()},
    )


# ---------------------------------------------------------------- indexing (worker side)


@dataclass(frozen=True)
class IndexTarget:
    photo_id: uuid.UUID
    tenant_id: uuid.UUID
    original_key: str


def start_indexing(session: Session, photo_id: uuid.UUID) -> IndexTarget | None:
    """Mark the photo `indexing`; None when there is nothing to do (deleted, search off)."""
    photo = session.get(Photo, photo_id, with_for_update=True)
    if photo is None:
        return None
    event = session.get(Event, photo.event_id)
    if event is None or not event.face_search_enabled:
        return None
    photo.status = PhotoStatus.INDEXING
    photo.index_attempts += 1
    return IndexTarget(photo.id, photo.tenant_id, photo_key(photo, media.ORIGINAL))


def store_faces(
    session: Session,
    target: IndexTarget,
    faces: list[FoundFace],
    *,
    started: float,
    tolerance: float,
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
    session.execute(delete(PhotoFace).where(PhotoFace.photo_id == photo.id))
    protector = tenant_protector(session, photo.tenant_id)
    protected = (
        protector.protect(np.stack([face.embedding for face in faces]))
        if faces
        else np.zeros((0, 0))
    )
    for face, template in zip(faces, protected, strict=True):
        session.add(
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
        )
    photo.status = PhotoStatus.INDEXED
    photo.face_count = len(faces)
    photo.failure_reason = None
    photo.indexed_at = datetime.now(UTC)
    photo.index_seconds = round(time.monotonic() - started, 3)
    session.flush()
    return _record_new_matches(session, photo, tolerance)


def _record_new_matches(session: Session, photo: Photo, tolerance: float) -> list[uuid.UUID]:
    closest = (
        select(
            SelfieSubscription.id.label("subscription_id"),
            func.min(PhotoFace.embedding.l2_distance(SelfieSubscription.embedding)).label(
                "distance"
            ),
        )
        .join(PhotoFace, PhotoFace.event_id == SelfieSubscription.event_id)
        .where(
            SelfieSubscription.tenant_id == photo.tenant_id,
            SelfieSubscription.event_id == photo.event_id,
            SelfieSubscription.expires_at > func.now(),
            # Only photos published after the opt-in are news (re-indexing old ones is not).
            SelfieSubscription.created_at < photo.created_at,
            PhotoFace.photo_id == photo.id,
            PhotoFace.usable,
        )
        .group_by(SelfieSubscription.id)
        .subquery()
    )
    already = select(PhotoNotification.subscription_id).where(
        PhotoNotification.photo_id == photo.id
    )
    rows = session.execute(
        select(closest.c.subscription_id, closest.c.distance).where(
            closest.c.distance <= tolerance, closest.c.subscription_id.not_in(already)
        )
    ).all()
    notification_ids = []
    for subscription_id, distance in rows:
        notification = PhotoNotification(
            tenant_id=photo.tenant_id,
            subscription_id=subscription_id,
            photo_id=photo.id,
            distance=float(distance),
        )
        session.add(notification)
        session.flush()
        notification_ids.append(notification.id)
    return notification_ids


def record_index_failure(
    session: Session, photo_id: uuid.UUID, reason: str, *, final: bool
) -> None:
    photo = session.get(Photo, photo_id, with_for_update=True)
    if photo is None:
        return
    photo.status = PhotoStatus.FAILED if final else PhotoStatus.PENDING
    photo.failure_reason = reason[:500] if final else f"retrying after: {reason}"[:500]


def purge_expired_templates(session: Session) -> int:
    """Selfie templates expire with their event."""
    expired = session.scalars(
        delete(SelfieSubscription)
        .where(SelfieSubscription.expires_at <= func.now())
        .returning(SelfieSubscription.tenant_id)
    ).all()
    for tenant_id in set(expired):
        audit.record(
            session,
            action="events.selfie_templates_expired",
            actor=None,
            tenant_id=tenant_id,
            details={"deleted": expired.count(tenant_id)},
        )
    return len(expired)


@dataclass(frozen=True)
class EmailMessageDraft:
    to: str
    subject: str
    body: str


def new_photo_message(
    session: Session, notification_id: uuid.UUID, settings: Settings
) -> EmailMessageDraft | None:
    """The "a new photo of you" email, or None when the subscriber is gone."""
    row = session.execute(
        select(Attendee, Event)
        .join(SelfieSubscription, SelfieSubscription.attendee_id == Attendee.id)
        .join(PhotoNotification, PhotoNotification.subscription_id == SelfieSubscription.id)
        .join(Event, Event.id == Attendee.event_id)
        .where(PhotoNotification.id == notification_id)
    ).first()
    if row is None:
        return None
    attendee, event = row
    greeting = f"Hello {attendee.full_name or attendee.username},"
    body = (
        f"{greeting}\n\nA new photo of you was published for {event.name} "
        f"({event.event_date.isoformat()}).\nSee your photos: {share_url(settings, event)}\n\n"
        "You get this email because you asked to be told about new photos of you. To stop, "
        "delete your selfie data from the event page."
    )
    return EmailMessageDraft(attendee.email, f"New photo of you at {event.name}", body)
