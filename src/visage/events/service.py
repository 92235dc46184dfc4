"""Events: create, change, delete an event (its face search switch included); the
operator's look-ups. No FastAPI here; callers own the transaction."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from visage.config import Settings
from visage.core.errors import NotFound
from visage.core.jobs import enqueue
from visage.core.tenancy import TenantScope
from visage.events import media
from visage.events.errors import (
    EventSlugTaken,
)
from visage.events.links import event_storage_prefix, share_url
from visage.events.models import (
    Event,
    Person,
    Photo,
    PhotoFace,
    PhotoStatus,
    SelfieSubscription,
)
from visage.events.schemas import EventCreate, EventUpdate
from visage.events.tasks import delete_stored_files
from visage.events.uploads import enqueue_indexing
from visage.identity import audit
from visage.identity.models import Tenant
from visage.identity.principal import Principal

ACCESS_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


ACCESS_CODE_LENGTH = 8
# An update's null leaves most fields as they are; these it clears (the language: back to the
# tenant's default).
CLEARABLE_FIELDS = frozenset({"language"})


def _new_access_code() -> str:
    return "".join(secrets.choice(ACCESS_CODE_ALPHABET) for _ in range(ACCESS_CODE_LENGTH))


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
            language=data.language,
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
        if value is not None or field in CLEARABLE_FIELDS:
            setattr(event, field, value)
    if data.regenerate_access_code:
        event.access_code = _new_access_code()
    if was_enabled and not event.face_search_enabled:
        session.execute(select(Event.id).where(Event.id == event.id).with_for_update())
        _delete_event_templates(scope, principal, event)
    elif not was_enabled and event.face_search_enabled:
        enqueue_indexing(scope, event, statuses=list(PhotoStatus))
    session.flush()
    return event


def _delete_event_templates(scope: TenantScope, principal: Principal, event: Event) -> None:
    """Face search turned off: every face template of the event goes, photos stay."""
    session = scope.session
    # Centroids are templates too.
    session.execute(
        delete(Person).where(Person.tenant_id == scope.tenant_id, Person.event_id == event.id)
    )
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


def find_event_for_operator(session: Session, reference: str) -> Event:
    """An event by id or access code, across tenants (operators only: the CLI)."""
    try:
        event = session.get(Event, uuid.UUID(reference))
    except ValueError:
        event = session.scalar(select(Event).where(Event.access_code == reference.upper()))
    if event is None:
        raise NotFound(f"No event with id or access code {reference!r}.")
    return event


def page_language(session: Session, access_code: str) -> str | None:
    """The language an event's attendee page is written in (None: the tenant's default, or
    no such event: the page then says so in the browser's language)."""
    row = session.execute(
        select(Event.language, Tenant.default_locale)
        .join(Tenant, Tenant.id == Event.tenant_id)
        .where(Event.access_code == access_code)
    ).first()
    if row is None:
        return None
    language, tenant_default = row
    return language or tenant_default
