"""Selfie search: the photos of the person a selfie shows, and the opt-in to be told about
new ones."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from visage.config import Settings
from visage.core.images import ImageLimits, decode_image
from visage.core.tenancy import TenantScope
from visage.events.access import (
    Viewer,
    issue_photo_link_token,
    viewer_scope,
)
from visage.events.errors import (
    FaceSearchDisabled,
    NoFaceInSelfie,
    NotificationsNeedAccount,
)
from visage.events.gallery import event_for_viewer
from visage.events.links import API_PREFIX
from visage.events.matching import FALSE_MATCH_RATE, NEAREST_FALSE_RATE
from visage.events.models import (
    Event,
    PhotoFace,
    SelfieSubscription,
)
from visage.events.people import matched_people
from visage.faces.pipeline import analyze, largest
from visage.faces.protection import tenant_protector
from visage.identity import audit


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


def matches_for_template(
    scope: TenantScope,
    event: Event,
    template: list[float],
    settings: Settings,
    *,
    limit: int,
    nearest_false_rate: float = NEAREST_FALSE_RATE,
    further_false_rate: float = FALSE_MATCH_RATE,
) -> list[Match]:
    """The photos of the people a protected template matches, nearest face first."""
    session = scope.session
    people = matched_people(
        session,
        event.id,
        template,
        nearest_false_rate=nearest_false_rate,
        further_false_rate=further_false_rate,
    )
    distance = PhotoFace.embedding.l2_distance(template)
    # The photos of the people the selfie matches, each once at its face nearest the selfie.
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
            PhotoFace.person_id.in_(people),
        )
        .subquery()
    )
    rows = session.execute(
        select(ranked).where(ranked.c.rank == 1).order_by(ranked.c.distance).limit(limit)
    ).all()
    return [
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
    scope = viewer_scope(session, viewer)
    template = selfie_template(session, event.tenant_id, image, settings)
    matches = matches_for_template(scope, event, template, settings, limit=limit)
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
