"""The organizer's people of an event: list them, see their faces, merge and split them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, status

from visage.core.deps import DbSession
from visage.core.paging import PageRequest, page_of, page_request
from visage.events import people_admin as people
from visage.events.links import API_PREFIX
from visage.events.models import Person
from visage.events.schemas import (
    FaceBox,
    PeopleMerge,
    PersonFaceOut,
    PersonFaces,
    PersonOut,
    PersonPage,
    PersonSplit,
)
from visage.identity.dependencies import require
from visage.identity.permissions import Permission
from visage.identity.principal import Principal

people_router = APIRouter(prefix="/events/{event_id}/people", tags=["events"])

PeopleReader = Annotated[Principal, Depends(require(Permission.EVENTS_READ))]
PeopleEditor = Annotated[Principal, Depends(require(Permission.PHOTOS_MANAGE))]
PeoplePaging = Annotated[PageRequest, Depends(page_request(default_size=50, max_size=200))]


def _face_out(shown: people.FaceInPhoto) -> PersonFaceOut:
    face = shown.face
    return PersonFaceOut(
        id=face.id,
        photo_id=face.photo_id,
        box=FaceBox(**face.box()),
        photo_width=shown.photo_width,
        photo_height=shown.photo_height,
        thumbnail_url=f"{API_PREFIX}/photos/{face.photo_id}/thumbnail",
    )


def _person_out(view: people.PersonView) -> PersonOut:
    return PersonOut(
        id=view.id,
        face_count=view.face_count,
        photo_count=view.photo_count,
        cover=_face_out(view.cover),
    )


def _one(session: DbSession, principal: Principal, person: Person) -> PersonOut:
    views = people.views_of(session, principal, [person])
    return _person_out(views[0])


@people_router.get("")
def list_people(
    event_id: uuid.UUID, session: DbSession, principal: PeopleReader, paging: PeoplePaging
) -> PersonPage:
    views, total = people.list_people(
        session, principal, event_id, page=paging.page, page_size=paging.page_size
    )
    return page_of([_person_out(view) for view in views], total, paging)


@people_router.get("/{person_id}/faces")
def person_faces(
    event_id: uuid.UUID, person_id: uuid.UUID, session: DbSession, principal: PeopleReader
) -> PersonFaces:
    faces = people.person_faces(session, principal, event_id, person_id)
    return PersonFaces(person_id=person_id, faces=[_face_out(face) for face in faces])


@people_router.post("/merge")
def merge_people(
    event_id: uuid.UUID, body: PeopleMerge, session: DbSession, principal: PeopleEditor
) -> PersonOut:
    merged = people.merge_people(session, principal, event_id, body.person_ids)
    return _one(session, principal, merged)


@people_router.post("/{person_id}/split", status_code=status.HTTP_201_CREATED)
def split_person(
    event_id: uuid.UUID,
    person_id: uuid.UUID,
    body: PersonSplit,
    session: DbSession,
    principal: PeopleEditor,
) -> PersonOut:
    split_off = people.split_person(session, principal, event_id, person_id, body.face_ids)
    return _one(session, principal, split_off)
