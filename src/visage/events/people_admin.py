"""People as organizers see them: listed with a cover face, their faces, merged and split.

The organizer's merges and splits mark the people `kept_by_organizer`, so indexing never
merges them again (events.people.merge_fragments); a re-index keeps them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from visage.core.errors import NotFound
from visage.core.tenancy import TenantScope
from visage.events.errors import FacesNotOfPerson
from visage.events.models import Event, Person, Photo, PhotoFace
from visage.events.people import lock_event_people, recompute
from visage.identity import audit
from visage.identity.permissions import Permission
from visage.identity.principal import Principal


@dataclass(frozen=True)
class FaceInPhoto:
    face: PhotoFace
    photo_width: int  # original pixels, as the face's box
    photo_height: int


@dataclass(frozen=True)
class PersonView:
    id: uuid.UUID
    face_count: int
    photo_count: int
    cover: FaceInPhoto  # their largest face, to show who they are


def _with_photo_sizes(session: Session, statement: Select[Any]) -> list[FaceInPhoto]:
    rows = session.execute(
        statement.add_columns(Photo.width, Photo.height).join(Photo, Photo.id == PhotoFace.photo_id)
    ).all()
    return [FaceInPhoto(face, width, height) for face, width, height in rows]


def _event(session: Session, principal: Principal, event_id: uuid.UUID) -> Event:
    event: Event = principal.scope(session).get(Event, event_id, what="Event")
    return event


def _views(scope: TenantScope, people: Sequence[Person]) -> list[PersonView]:
    if not people:
        return []
    session = scope.session
    ids = [person.id for person in people]
    photo_counts = dict(
        session.execute(
            select(PhotoFace.person_id, func.count(func.distinct(PhotoFace.photo_id)))
            .where(PhotoFace.person_id.in_(ids))
            .group_by(PhotoFace.person_id)
        )
        .tuples()
        .all()
    )
    width = PhotoFace.right - PhotoFace.left
    ranked = (
        scope.select(PhotoFace)
        .add_columns(
            func.row_number()
            .over(partition_by=PhotoFace.person_id, order_by=(width.desc(), PhotoFace.id))
            .label("rank")
        )
        .where(PhotoFace.person_id.in_(ids))
        .subquery()
    )
    covers = {
        shown.face.person_id: shown
        for shown in _with_photo_sizes(
            session,
            select(PhotoFace).join(ranked, ranked.c.id == PhotoFace.id).where(ranked.c.rank == 1),
        )
    }
    return [
        PersonView(person.id, person.face_count, photo_counts.get(person.id, 0), covers[person.id])
        for person in people
        if person.id in covers
    ]


def views_of(session: Session, principal: Principal, people: Sequence[Person]) -> list[PersonView]:
    return _views(principal.scope(session), people)


def list_people(
    session: Session, principal: Principal, event_id: uuid.UUID, *, page: int, page_size: int
) -> tuple[list[PersonView], int]:
    """The event's people, those in the most photos first."""
    principal.require(Permission.EVENTS_READ)
    event = _event(session, principal, event_id)
    scope = principal.scope(session)
    statement = (
        scope.select(Person)
        .where(Person.event_id == event.id)
        .order_by(Person.face_count.desc(), Person.created_at, Person.id)
    )
    people, total = scope.page(statement, page=page, page_size=page_size)
    return _views(scope, people), total


def _person(scope: TenantScope, event: Event, person_id: uuid.UUID) -> Person:
    person: Person = scope.get(Person, person_id, what="Person")
    if person.event_id != event.id:
        raise NotFound("Person not found.")
    return person


def person_faces(
    session: Session, principal: Principal, event_id: uuid.UUID, person_id: uuid.UUID
) -> list[FaceInPhoto]:
    principal.require(Permission.EVENTS_READ)
    scope = principal.scope(session)
    person = _person(scope, _event(session, principal, event_id), person_id)
    return _with_photo_sizes(
        session,
        scope.select(PhotoFace)
        .where(PhotoFace.person_id == person.id)
        .order_by(PhotoFace.photo_id, PhotoFace.left),
    )


def merge_people(
    session: Session, principal: Principal, event_id: uuid.UUID, person_ids: list[uuid.UUID]
) -> Person:
    """The faces of every listed person become the first one's; the others are deleted."""
    principal.require(Permission.PHOTOS_MANAGE)
    event = _event(session, principal, event_id)
    scope = principal.scope(session)
    lock_event_people(session, event.id)
    people = [_person(scope, event, person_id) for person_id in dict.fromkeys(person_ids)]
    if len(people) < 2:
        raise FacesNotOfPerson("Merging needs at least two different people.")
    target, others = people[0], [person.id for person in people[1:]]
    target.kept_by_organizer = True
    session.execute(
        update(PhotoFace).where(PhotoFace.person_id.in_(others)).values(person_id=target.id)
    )
    recompute(session, {target.id, *others})
    _audit(
        session,
        principal,
        event,
        "events.people_merged",
        target.id,
        {"merged": [str(other) for other in others]},
    )
    session.refresh(target)
    return target


def split_person(
    session: Session,
    principal: Principal,
    event_id: uuid.UUID,
    person_id: uuid.UUID,
    face_ids: list[uuid.UUID],
) -> Person:
    """The listed faces (some, not all, of the person's) become a new person."""
    principal.require(Permission.PHOTOS_MANAGE)
    event = _event(session, principal, event_id)
    scope = principal.scope(session)
    lock_event_people(session, event.id)
    person = _person(scope, event, person_id)
    wanted = set(face_ids)
    members = set(
        session.scalars(select(PhotoFace.id).where(PhotoFace.person_id == person.id)).all()
    )
    if not wanted or not wanted <= members:
        raise FacesNotOfPerson(details={"not_of_person": sorted(map(str, wanted - members))})
    if wanted == members:
        raise FacesNotOfPerson("A split keeps at least one face with the person.")
    person.kept_by_organizer = True
    split_off = scope.add(
        Person(
            event_id=event.id,
            face_count=len(wanted),
            centroid=person.centroid,
            kept_by_organizer=True,
        )
    )
    session.flush()
    session.execute(
        update(PhotoFace).where(PhotoFace.id.in_(wanted)).values(person_id=split_off.id)
    )
    recompute(session, {person.id, split_off.id})
    _audit(
        session,
        principal,
        event,
        "events.person_split",
        person.id,
        {"new_person": str(split_off.id), "faces": len(wanted)},
    )
    session.refresh(split_off)
    return split_off


def _audit(
    session: Session,
    principal: Principal,
    event: Event,
    action: str,
    person_id: uuid.UUID,
    details: dict[str, object],
) -> None:
    audit.record(
        session,
        action=action,
        actor=principal,
        tenant_id=event.tenant_id,
        target_type="event_person",
        target_id=str(person_id),
        details={"event_id": str(event.id), **details},
    )
