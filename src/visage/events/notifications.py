"""Notifications: new photos of an opted-in attendee, their email, and expiring the kept
selfie templates with their event."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from visage.config import Settings
from visage.events.links import share_url
from visage.events.matching import MAX_DISTANCE
from visage.events.models import (
    Attendee,
    Event,
    Person,
    Photo,
    PhotoFace,
    PhotoNotification,
    SelfieSubscription,
)
from visage.events.people import matched_people
from visage.identity import audit


def record_new_matches(session: Session, photo: Photo) -> list[uuid.UUID]:
    """Subscribers whose kept selfie matches a person in this (just grouped) photo, as their
    search would: the people near enough are candidates, the search rule decides."""
    in_photo = select(PhotoFace.person_id).where(
        PhotoFace.photo_id == photo.id, PhotoFace.person_id.is_not(None)
    )
    already = select(PhotoNotification.subscription_id).where(
        PhotoNotification.photo_id == photo.id
    )
    distance = Person.centroid.l2_distance(SelfieSubscription.embedding)
    candidates = session.execute(
        select(SelfieSubscription.id, SelfieSubscription.embedding, func.min(distance))
        .join(Person, Person.event_id == SelfieSubscription.event_id)
        .where(
            SelfieSubscription.tenant_id == photo.tenant_id,
            SelfieSubscription.event_id == photo.event_id,
            SelfieSubscription.expires_at > func.now(),
            # Only photos published after the opt-in are news (re-indexing old ones is not).
            SelfieSubscription.created_at < photo.created_at,
            SelfieSubscription.id.not_in(already),
            Person.id.in_(in_photo),
            distance <= MAX_DISTANCE,
        )
        .group_by(SelfieSubscription.id)
    ).all()
    people_here = set(session.scalars(in_photo))
    notification_ids = []
    for subscription_id, template, nearest in candidates:
        if not people_here & set(matched_people(session, photo.event_id, template)):
            continue
        notification = PhotoNotification(
            tenant_id=photo.tenant_id,
            subscription_id=subscription_id,
            photo_id=photo.id,
            distance=float(nearest),
        )
        session.add(notification)
        session.flush()
        notification_ids.append(notification.id)
    return notification_ids


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
class NewPhotoNotice:
    """What the notification hook needs to tell a subscriber about a new photo of them."""

    tenant_id: uuid.UUID
    attendee_id: uuid.UUID
    variables: dict[str, str]


def new_photo_notice(
    session: Session, notification_id: uuid.UUID, settings: Settings
) -> NewPhotoNotice | None:
    """The "new photos of you" notice, or None when the subscriber is gone."""
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
    variables = {"event_name": event.name, "link": share_url(settings, event)}
    return NewPhotoNotice(event.tenant_id, attendee.id, variables)
