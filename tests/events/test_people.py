"""People in events: faces grouped into people as photos are indexed, in any order; selfie
search by person on a large synthetic event; the organizer's merge and split, which a
re-index keeps.

The large event is synthetic (the repository holds five portraits): people are drawn around
a mean face so that two faces of one person lie about 0.45 apart and two people about 0.85,
as real dlib embeddings do (events.matching), and their faces are composed into group photos
of four, nobody twice in a photo, indexed through the worker's own `store_faces`.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, update
from typer.testing import CliRunner

from visage.cli import app as cli
from visage.config import Settings
from visage.core.db import Database
from visage.core.tenancy import TenantId, TenantScope
from visage.events.detection import FoundFace
from visage.events.indexing import IndexTarget, store_faces
from visage.events.models import Event, Person, Photo, PhotoFace
from visage.events.search import matches_for_template
from visage.faces.protection import tenant_protector

DIMENSIONS = 128
GROUP_SIZE = 4
# Per-dimension spreads: people around the mean face, a person's faces around them.
PERSON_SPREAD = 0.045
FACE_SPREAD = 0.028
FACE_SIDE = 120


@dataclass(frozen=True)
class SyntheticPhoto:
    name: str
    people: list[int]
    faces: list[npt.NDArray[np.float32]]


@dataclass(frozen=True)
class SyntheticEvent:
    photos: list[SyntheticPhoto]
    selfies: dict[int, npt.NDArray[np.float32]]  # searcher -> a face not in the event

    def photos_of(self, person: int) -> set[str]:
        return {photo.name for photo in self.photos if person in photo.people}


def synthetic_event(searchers: int, distractors: int, seed: int = 7) -> SyntheticEvent:
    """Searchers are in 3-4 photos, distractors in 1-2; each searcher has a fresh selfie."""
    rng = np.random.default_rng(seed)
    mean_face = rng.normal(0.0, 0.1, DIMENSIONS)
    people = mean_face + rng.normal(0.0, PERSON_SPREAD, (searchers + distractors, DIMENSIONS))

    def face(person: int) -> npt.NDArray[np.float32]:
        return (people[person] + rng.normal(0.0, FACE_SPREAD, DIMENSIONS)).astype(np.float32)

    appearances = [
        person
        for person in range(searchers + distractors)
        for _ in range(int(rng.integers(3, 5) if person < searchers else rng.integers(1, 3)))
    ]
    groups: list[list[int]] = []
    for person in (appearances[index] for index in rng.permutation(len(appearances))):
        home = next((g for g in groups if len(g) < GROUP_SIZE and person not in g), None)
        if home is None:
            groups.append([person])
        else:
            home.append(person)
    photos = [
        SyntheticPhoto(f"group-{index:04d}", group, [face(person) for person in group])
        for index, group in enumerate(groups)
    ]
    return SyntheticEvent(photos, {person: face(person) for person in range(searchers)})


def _found(vectors: list[npt.NDArray[np.float32]]) -> list[FoundFace]:
    return [
        FoundFace(
            box={
                "left": slot * 2 * FACE_SIDE,
                "top": 40,
                "right": slot * 2 * FACE_SIDE + FACE_SIDE,
                "bottom": 40 + FACE_SIDE,
            },
            score=0.99,
            sharpness=200.0,
            usable=True,
            embedding=vector,
            analyzed_width=FACE_SIDE,
        )
        for slot, vector in enumerate(vectors)
    ]


def _photo_rows(database: Database, event_id: uuid.UUID, names: list[str]) -> dict[str, Photo]:
    with database.session() as session:
        event = session.get(Event, event_id)
        assert event is not None
        scope = TenantScope(session, TenantId(event.tenant_id))
        rows = {
            name: scope.add(
                Photo(
                    event_id=event_id,
                    filename=f"{name}.jpg",
                    content_hash=hashlib.sha256(f"{event_id}{name}".encode()).hexdigest(),
                    format="jpeg",
                    size_bytes=1,
                    width=1000,
                    height=200,
                )
            )
            for name in names
        }
        session.flush()
        return rows


def index(
    database: Database, event_id: uuid.UUID, photos: list[SyntheticPhoto]
) -> dict[str, uuid.UUID]:
    """Store each photo's faces as the indexing job does, in the order given: name -> id."""
    rows = _photo_rows(database, event_id, [photo.name for photo in photos])
    for photo in photos:
        reindex(database, rows[photo.name], photo)
    return {name: row.id for name, row in rows.items()}


def reindex(database: Database, photo: Photo, synthetic: SyntheticPhoto) -> None:
    target = IndexTarget(photo.id, photo.tenant_id, "unused")
    with database.session() as session:
        store_faces(session, target, _found(synthetic.faces), started=time.monotonic())


def partition(database: Database, event_id: uuid.UUID) -> set[frozenset[tuple[str, int]]]:
    """The event's people as sets of (photo file, face position): comparable across events."""
    with database.session() as session:
        rows = session.execute(
            select(PhotoFace.person_id, Photo.filename, PhotoFace.left)
            .join(Photo, Photo.id == PhotoFace.photo_id)
            .where(PhotoFace.event_id == event_id)
        ).all()
    people: dict[uuid.UUID, set[tuple[str, int]]] = {}
    for person_id, filename, left in rows:
        assert person_id is not None
        people.setdefault(person_id, set()).add((filename, left))
    return {frozenset(faces) for faces in people.values()}


def truth(event: SyntheticEvent) -> set[frozenset[tuple[str, int]]]:
    people: dict[int, set[tuple[str, int]]] = {}
    for photo in event.photos:
        for slot, person in enumerate(photo.people):
            people.setdefault(person, set()).add((f"{photo.name}.jpg", slot * 2 * FACE_SIDE))
    return {frozenset(faces) for faces in people.values()}


def _new_event(make_event: Callable[..., dict[str, Any]]) -> uuid.UUID:
    return uuid.UUID(make_event(visibility="public")["id"])


@pytest.fixture(scope="module")
def large_event() -> SyntheticEvent:
    return synthetic_event(searchers=60, distractors=240)


def test_selfie_search_finds_the_person_in_a_large_event(
    database: Database,
    settings: Settings,
    make_event: Callable[..., dict[str, Any]],
    large_event: SyntheticEvent,
) -> None:
    event_id = _new_event(make_event)
    photo_ids = index(database, event_id, large_event.photos)
    names = {photo_id: name for name, photo_id in photo_ids.items()}
    precisions, recalls = [], []
    with database.session() as session:
        event = session.get(Event, event_id)
        assert event is not None
        scope = TenantScope(session, TenantId(event.tenant_id))
        protector = tenant_protector(session, event.tenant_id)
        for person, selfie in large_event.selfies.items():
            template = [float(value) for value in protector.protect(selfie)]
            found = {
                names[match.photo_id]
                for match in matches_for_template(scope, event, template, settings, limit=200)
            }
            expected = large_event.photos_of(person)
            precisions.append(len(found & expected) / len(found) if found else 1.0)
            recalls.append(len(found & expected) / len(expected))
    assert float(np.mean(precisions)) >= 0.95
    assert float(np.mean(recalls)) >= 0.9


def test_people_do_not_depend_on_the_order_photos_arrive_in(
    database: Database, make_event: Callable[..., dict[str, Any]]
) -> None:
    event = synthetic_event(searchers=20, distractors=40, seed=11)
    in_order = _new_event(make_event)
    index(database, in_order, event.photos)
    shuffled = _new_event(make_event)
    order = np.random.default_rng(3).permutation(len(event.photos))
    index(database, shuffled, [event.photos[i] for i in order])
    assert partition(database, in_order) == partition(database, shuffled) == truth(event)


def _people(client: TestClient, event_id: uuid.UUID, headers: dict[str, str]) -> Any:
    response = client.get(f"/api/v1/events/{event_id}/people", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_merge_and_split_by_the_organizer_survive_a_reindex(
    client: TestClient,
    database: Database,
    make_event: Callable[..., dict[str, Any]],
    organizer_headers: dict[str, str],
) -> None:
    event = synthetic_event(searchers=6, distractors=6, seed=5)
    event_id = _new_event(make_event)
    photo_ids = index(database, event_id, event.photos)
    listed = _people(client, event_id, organizer_headers)
    assert listed["total"] == 12
    busiest = listed["items"][0]
    assert busiest["face_count"] >= 3
    assert busiest["photo_count"] == busiest["face_count"]

    faces = client.get(
        f"/api/v1/events/{event_id}/people/{busiest['id']}/faces", headers=organizer_headers
    ).json()["faces"]
    split_face = faces[-1]["id"]
    split = client.post(
        f"/api/v1/events/{event_id}/people/{busiest['id']}/split",
        json={"face_ids": [split_face]},
        headers=organizer_headers,
    )
    assert split.status_code == 201, split.text
    assert split.json()["face_count"] == 1
    after_split = partition(database, event_id)
    assert len(after_split) == 13

    # A face of another person cannot be split off it; every face of it is no split either.
    other = listed["items"][1]["id"]
    refused = client.post(
        f"/api/v1/events/{event_id}/people/{other}/split",
        json={"face_ids": [faces[0]["id"]]},
        headers=organizer_headers,
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "EVENT_008"

    # Re-indexing every photo (in another order) leaves the organizer's people as they were.
    rows = _photo_rows_by_id(database, photo_ids)
    for synthetic in reversed(event.photos):
        reindex(database, rows[synthetic.name], synthetic)
    assert partition(database, event_id) == after_split

    merged = client.post(
        f"/api/v1/events/{event_id}/people/merge",
        json={"person_ids": [busiest["id"], split.json()["id"]]},
        headers=organizer_headers,
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["face_count"] == busiest["face_count"]
    assert partition(database, event_id) == truth(event)
    for synthetic in event.photos:
        reindex(database, rows[synthetic.name], synthetic)
    assert partition(database, event_id) == truth(event)

    # Turning face search off deletes the people (their centroids are templates) too.
    client.patch(
        f"/api/v1/events/{event_id}", json={"face_search_enabled": False}, headers=organizer_headers
    )
    with database.session() as session:
        left = session.scalar(select(func.count()).where(Person.event_id == event_id))
    assert left == 0


def _photo_rows_by_id(database: Database, photo_ids: dict[str, uuid.UUID]) -> dict[str, Photo]:
    with database.session() as session:
        return {name: session.get_one(Photo, photo_id) for name, photo_id in photo_ids.items()}


def test_real_faces_of_one_person_are_one_person(
    client: TestClient,
    make_event: Callable[..., dict[str, Any]],
    upload: Callable[..., dict[str, Any]],
    index_photos: Callable[[], None],
    group_photos: dict[str, bytes],
    organizer_headers: dict[str, str],
) -> None:
    event = make_event(visibility="public")
    upload(event["id"], group_photos)
    index_photos()
    listed = _people(client, uuid.UUID(event["id"]), organizer_headers)
    # Obama, Biden and Hopper in two photos each; the two faces of the astronaut photo (0.83
    # apart) once each.
    assert sorted(person["photo_count"] for person in listed["items"]) == [1, 1, 2, 2, 2]
    reader = client.get(f"/api/v1/events/{event['id']}/people", headers={})
    assert reader.status_code == 401


def test_faces_indexed_before_people_existed_are_grouped_without_reindexing(
    database: Database, make_event: Callable[..., dict[str, Any]]
) -> None:
    event = synthetic_event(searchers=8, distractors=8, seed=13)
    event_id = _new_event(make_event)
    index(database, event_id, event.photos)
    with database.session() as session:  # as an event of before migration 0008 looks
        session.execute(
            update(PhotoFace).where(PhotoFace.event_id == event_id).values(person_id=None)
        )
        session.execute(delete(Person).where(Person.event_id == event_id))
    result = CliRunner().invoke(cli, ["events", "group-people", str(event_id)])
    assert result.exit_code == 0, result.output
    assert partition(database, event_id) == truth(event)
