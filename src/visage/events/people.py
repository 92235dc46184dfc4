"""People in events: each usable face of an indexed photo joins the nearest person of its event
or starts a new one (events.matching decides how near is near enough for the event's size);
organizers see the people and merge or split them.

A person's centroid and face count are recomputed from their faces whenever they change, so
they never drift. A re-indexed photo keeps the person of each face found again at the same
place: re-indexing leaves the same people, merges and splits by the organizer included.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Select, delete, func, select, text, update
from sqlalchemy.orm import Session

from visage.core.errors import NotFound
from visage.core.tenancy import TenantScope
from visage.events.errors import FacesNotOfPerson
from visage.events.matching import (
    FALSE_MATCH_RATE,
    NEAREST_FALSE_RATE,
    Candidate,
    consensus_probe,
    further_matches,
    nearest_match,
    nearest_person_to_join,
)
from visage.events.models import Event, Person, Photo, PhotoFace
from visage.identity import audit
from visage.identity.permissions import Permission
from visage.identity.principal import Principal

# People looked at for each face: the nearest few, as some are already in the face's photo.
NEAREST_PEOPLE = 10
# Two boxes overlapping this much (intersection over union) are the same face found again.
SAME_PLACE_OVERLAP = 0.5


@dataclass(frozen=True)
class EarlierFace:
    """A face a photo had before it was indexed again."""

    box: dict[str, int]
    person_id: uuid.UUID | None


def _overlap(first: dict[str, int], second: dict[str, int]) -> float:
    width = min(first["right"], second["right"]) - max(first["left"], second["left"])
    height = min(first["bottom"], second["bottom"]) - max(first["top"], second["top"])
    if width <= 0 or height <= 0:
        return 0.0
    intersection = width * height

    def area(box: dict[str, int]) -> int:
        return (box["right"] - box["left"]) * (box["bottom"] - box["top"])

    return intersection / (area(first) + area(second) - intersection)


def lock_event_people(session: Session, event_id: uuid.UUID) -> None:
    """Photos of one event are grouped one at a time (two workers would both start a new
    person for the same newcomer); other events go on in parallel."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"event-people:{event_id}"},
    )


def people_count(session: Session, event_id: uuid.UUID) -> int:
    return session.scalar(select(func.count()).where(Person.event_id == event_id)) or 0


def nearest_people(
    session: Session, event_id: uuid.UUID, template: Sequence[float], *, limit: int
) -> list[tuple[uuid.UUID, float, int]]:
    """(person id, distance, faces) of the event's people nearest the protected template."""
    distance = Person.centroid.l2_distance(template)
    rows = session.execute(
        select(Person.id, distance, Person.face_count)
        .where(Person.event_id == event_id)
        .order_by(distance)
        .limit(limit)
    ).all()
    return [(row[0], float(row[1]), int(row[2])) for row in rows]


def matched_people(
    session: Session,
    event_id: uuid.UUID,
    template: Sequence[float],
    *,
    nearest_false_rate: float = NEAREST_FALSE_RATE,
    further_false_rate: float = FALSE_MATCH_RATE,
) -> list[uuid.UUID]:
    """The people of the event a selfie's protected template matches, nearest first: its
    nearest person, then the further people near the consensus of the selfie and that
    person's faces (events.matching)."""
    people = people_count(session, event_id)
    nearest = nearest_people(session, event_id, template, limit=NEAREST_PEOPLE)
    first = nearest_match(
        [
            Candidate(index, distance, members)
            for index, (_, distance, members) in enumerate(nearest)
        ],
        people,
        false_rate=nearest_false_rate,
    )
    if first is None:
        return []
    first_id = nearest[first.index][0]
    centroid = session.scalar(select(Person.centroid).where(Person.id == first_id))
    if centroid is None:
        return [first_id]
    probe, probe_members = consensus_probe(template, centroid, first.members)
    around = [
        row
        for row in nearest_people(
            session, event_id, [float(value) for value in probe], limit=NEAREST_PEOPLE + 1
        )
        if row[0] != first_id
    ]
    further = further_matches(
        [
            Candidate(index, distance, members)
            for index, (_, distance, members) in enumerate(around)
        ],
        people,
        probe_members,
        false_rate=further_false_rate,
    )
    return [first_id, *(around[candidate.index][0] for candidate in further)]


def recompute(session: Session, person_ids: set[uuid.UUID]) -> None:
    """Centroid and count from the members; people left without faces are deleted."""
    if not person_ids:
        return
    members = (
        select(
            PhotoFace.person_id,
            func.avg(PhotoFace.embedding).label("centroid"),
            func.count().label("faces"),
        )
        .where(PhotoFace.person_id.in_(person_ids))
        .group_by(PhotoFace.person_id)
        .subquery()
    )
    session.execute(
        update(Person)
        .where(Person.id == members.c.person_id)
        .values(centroid=members.c.centroid, face_count=members.c.faces)
    )
    session.execute(
        delete(Person).where(
            Person.id.in_(person_ids),
            ~select(PhotoFace.id).where(PhotoFace.person_id == Person.id).exists(),
        )
    )


def group_faces(
    session: Session,
    photo: Photo,
    faces: list[PhotoFace],
    templates: npt.NDArray[np.float32],
    earlier: list[EarlierFace],
) -> None:
    """Give each usable face of one photo (just flushed) its person; people who lost their
    `earlier` faces are recomputed. Call with the event's people locked (`lock_event_people`)."""
    event_id, tenant_id = photo.event_id, photo.tenant_id
    in_photo: set[uuid.UUID] = set()
    touched: set[uuid.UUID] = {face.person_id for face in earlier if face.person_id}
    # Larger faces first: they embed best and so are the better start for a new person.
    order = sorted(range(len(faces)), key=lambda index: -faces[index].right + faces[index].left)
    for index in order:
        face, template = faces[index], [float(value) for value in templates[index]]
        if not face.usable:
            continue
        person_id = next(
            (
                before.person_id
                for before in earlier
                if before.person_id
                and before.person_id not in in_photo
                and _overlap(before.box, face.box()) >= SAME_PLACE_OVERLAP
            ),
            None,
        )
        if person_id is not None and session.get(Person, person_id) is None:
            person_id = None  # deleted meanwhile (merged away by the organizer)
        if person_id is None:
            person_id = _nearest_or_new(session, event_id, tenant_id, template, in_photo)
        face.person_id = person_id
        # Nobody is twice in a photo, so the photo's other faces never need this person's
        # updated centroid: one recompute at the end.
        in_photo.add(person_id)
        touched.add(person_id)
    session.flush()
    recompute(session, touched)


def _nearest_or_new(
    session: Session,
    event_id: uuid.UUID,
    tenant_id: uuid.UUID,
    template: list[float],
    in_photo: set[uuid.UUID],
) -> uuid.UUID:
    nearest = nearest_people(session, event_id, template, limit=NEAREST_PEOPLE + len(in_photo))
    candidates = [
        (person_id, Candidate(index, distance, members))
        for index, (person_id, distance, members) in enumerate(nearest)
        if person_id not in in_photo
    ]
    chosen = nearest_person_to_join(
        [candidate for _, candidate in candidates], people_count(session, event_id)
    )
    if chosen is not None:
        return nearest[chosen][0]
    person = Person(tenant_id=tenant_id, event_id=event_id, face_count=1, centroid=template)
    session.add(person)
    session.flush()
    return person.id


def group_ungrouped(session: Session, event_id: uuid.UUID) -> int:
    """Group the usable faces that have no person yet (indexed before people existed), photo
    by photo in upload order, from their stored templates: no photo is decoded again."""
    lock_event_people(session, event_id)
    photos = session.scalars(
        select(Photo)
        .where(
            Photo.event_id == event_id,
            select(PhotoFace.id)
            .where(
                PhotoFace.photo_id == Photo.id,
                PhotoFace.usable,
                PhotoFace.person_id.is_(None),
            )
            .exists(),
        )
        .order_by(Photo.created_at, Photo.id)
    ).all()
    for photo in photos:
        faces = list(
            session.scalars(
                select(PhotoFace).where(
                    PhotoFace.photo_id == photo.id, PhotoFace.person_id.is_(None)
                )
            )
        )
        templates = np.array([face.embedding for face in faces], dtype=np.float32)
        group_faces(session, photo, faces, templates, earlier=[])
    return len(photos)


# ---------------------------------------------------------------- organizers


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
    split_off = scope.add(
        Person(event_id=event.id, face_count=len(wanted), centroid=person.centroid)
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
