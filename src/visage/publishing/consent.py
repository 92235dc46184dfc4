"""Publicity consent: may this member or attendee appear, recognizable, in published photos.

Recorded per member (by staff) and per attendee (by themself on the event page); a withdrawal
applies to every post published after it. Changes are audited.
"""

from __future__ import annotations

import uuid

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from visage.core.db import utcnow
from visage.events.access import AttendeePass
from visage.events.models import SelfieSubscription
from visage.faces.models import FaceTemplate
from visage.identity import audit
from visage.identity.principal import Principal
from visage.members.models import Member
from visage.publishing.errors import ContentInvalid
from visage.publishing.models import PublicityConsent


def _upsert(
    session: Session,
    tenant_id: uuid.UUID,
    consent: bool,
    *,
    member_id: uuid.UUID | None = None,
    attendee_id: uuid.UUID | None = None,
) -> None:
    column = "member_id" if member_id is not None else "attendee_id"
    session.execute(
        insert(PublicityConsent)
        .values(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            member_id=member_id,
            attendee_id=attendee_id,
            consent=consent,
            changed_at=utcnow(),
        )
        .on_conflict_do_update(
            index_elements=[column], set_={"consent": consent, "changed_at": utcnow()}
        )
    )


def set_member_publicity(
    session: Session, principal: Principal, member_id: uuid.UUID, consent: bool
) -> bool:
    scope = principal.scope(session)
    member = scope.get(Member, member_id, what="Member")
    _upsert(session, scope.tenant_id, consent, member_id=member.id)
    audit.record(
        session,
        action="member.publicity_consent" if consent else "member.publicity_withdrawn",
        actor=principal,
        tenant_id=scope.tenant_id,
        target_type="member",
        target_id=str(member.id),
    )
    return consent


def member_publicity(session: Session, principal: Principal, member_id: uuid.UUID) -> bool:
    scope = principal.scope(session)
    member = scope.get(Member, member_id, what="Member")
    return bool(
        session.scalar(
            select(PublicityConsent.consent).where(PublicityConsent.member_id == member.id)
        )
    )


def set_attendee_publicity(session: Session, attendee: AttendeePass, consent: bool) -> bool:
    if attendee.attendee_id is None:
        raise ContentInvalid("Register for the event first: anonymous visitors cannot consent.")
    _upsert(session, attendee.tenant_id, consent, attendee_id=attendee.attendee_id)
    return consent


def attendee_publicity(session: Session, attendee: AttendeePass) -> bool:
    if attendee.attendee_id is None:
        return False
    return bool(
        session.scalar(
            select(PublicityConsent.consent).where(
                PublicityConsent.attendee_id == attendee.attendee_id
            )
        )
    )


def nearest_consenting_distance(
    session: Session, tenant_id: uuid.UUID, event_id: uuid.UUID, vector: npt.NDArray[np.float32]
) -> float | None:
    """Distance from a protected face vector to the nearest template of someone who agreed:
    a member's enrolled face, or the selfie of an attendee of this event."""
    values = [float(value) for value in vector]
    # min() rather than ORDER BY ... LIMIT 1: an exact scan of the few consenting people's
    # templates, never an approximate (HNSW) walk that a join filter could leave empty.
    member = session.scalar(
        select(func.min(FaceTemplate.embedding.l2_distance(values)))
        .join(PublicityConsent, PublicityConsent.member_id == FaceTemplate.member_id)
        .where(FaceTemplate.tenant_id == tenant_id, PublicityConsent.consent.is_(True))
    )
    attendee = session.scalar(
        select(func.min(SelfieSubscription.embedding.l2_distance(values)))
        .join(PublicityConsent, PublicityConsent.attendee_id == SelfieSubscription.attendee_id)
        .where(
            SelfieSubscription.tenant_id == tenant_id,
            SelfieSubscription.event_id == event_id,
            PublicityConsent.consent.is_(True),
        )
    )
    distances = [float(d) for d in (member, attendee) if d is not None]
    return min(distances) if distances else None
