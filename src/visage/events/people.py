"""People in events: each usable face of an indexed photo joins the nearest person of its event
or starts a new one (events.matching decides how near is near enough for the event's size),
and a person the photo touched absorbs another that the evidence of their faces shows to be
them; organizers see the people and merge or split them (events.people_admin).

A person's centroid and face count are recomputed from their faces whenever they change, so
they never drift. A re-indexed photo keeps the person of each face found again at the same
place: re-indexing leaves the same people, merges and splits by the organizer included.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from visage.events.matching import (
    FALSE_MATCH_RATE,
    NEAREST_FALSE_RATE,
    Candidate,
    consensus_probe,
    further_matches,
    nearest_match,
    nearest_person_to_join,
    people_to_merge,
)
from visage.events.models import Person, Photo, PhotoFace

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
    merge_fragments(session, event_id, touched)


def _photo_mates(session: Session, person_id: uuid.UUID, others: list[uuid.UUID]) -> set[uuid.UUID]:
    """Those of `others` in a photo with the person: never the same person."""
    theirs = select(PhotoFace.photo_id).where(PhotoFace.person_id == person_id)
    mates = session.scalars(
        select(PhotoFace.person_id).where(
            PhotoFace.photo_id.in_(theirs), PhotoFace.person_id.in_(others)
        )
    ).all()
    return {mate for mate in mates if mate is not None}


def merge_fragments(session: Session, event_id: uuid.UUID, person_ids: set[uuid.UUID]) -> None:
    """Each of these people absorbs their nearest other person while the two are near enough
    to be one (events.matching): the larger keeps their id. Call with the people locked."""
    queue = sorted(person_ids)
    people = people_count(session, event_id)
    while queue:
        person = session.get(Person, queue.pop())
        if person is None or person.kept_by_organizer:
            continue
        distance = Person.centroid.l2_distance(person.centroid).label("distance")
        nearest = session.execute(
            select(Person.id, distance, Person.face_count)
            .where(
                Person.event_id == event_id,
                Person.id != person.id,
                ~Person.kept_by_organizer,
            )
            .order_by(distance)
            .limit(NEAREST_PEOPLE)
        ).all()
        candidates = [
            Candidate(index, float(between), int(members))
            for index, (_, between, members) in enumerate(nearest)
        ]
        if all(people_to_merge([one], people, person.face_count) is None for one in candidates):
            continue  # most people: nobody is near enough, photo mates or not
        mates = _photo_mates(session, person.id, [row[0] for row in nearest])
        chosen = people_to_merge(
            [one for one in candidates if nearest[one.index][0] not in mates],
            people,
            person.face_count,
        )
        if chosen is None:
            continue
        other = session.get_one(Person, nearest[chosen][0])
        keeper, absorbed = (
            (person, other) if person.face_count >= other.face_count else (other, person)
        )
        session.execute(
            update(PhotoFace).where(PhotoFace.person_id == absorbed.id).values(person_id=keeper.id)
        )
        recompute(session, {keeper.id, absorbed.id})
        session.expire(keeper)
        people -= 1
        queue.append(keeper.id)  # nearer the rest of themselves now: look again


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
