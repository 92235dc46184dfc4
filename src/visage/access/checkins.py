"""Check-ins: a kiosk frame or a staff member's hand decides who comes in, and each attempt is
kept, granted or not, with its reason (the rules themselves are in decision.py).

No FastAPI here. Every query goes through the caller's tenant scope; nothing commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from visage.access import pins
from visage.access.auditing import record_change
from visage.access.decision import (
    KIOSK_MESSAGES,
    Attempt,
    Decision,
    Identification,
    decide,
    override,
)
from visage.access.memberships import find_member, membership_facts
from visage.access.models import Checkin, CheckinSource, Membership
from visage.access.opening_hours import tenant_schedule
from visage.config import Settings
from visage.core.db import utcnow
from visage.core.images import DecodedImage
from visage.core.tenancy import TenantScope
from visage.faces import service as faces_service
from visage.faces.inference.scheduling import Priority
from visage.i18n.context import gettext
from visage.identity.principal import ClientInfo, Principal
from visage.members.models import Member


@dataclass(frozen=True)
class CheckinOutcome:
    checkin: Checkin
    decision: Decision
    member: Member | None
    repeat: bool
    visits_remaining: int | None

    @property
    def message(self) -> str:
        if self.decision.allowed and self.member is not None:
            return gettext("Welcome, {name}!").format(name=self.member.full_name)
        return gettext(KIOSK_MESSAGES[self.decision.reason])


def kiosk_checkin(
    session: Session,
    settings: Settings,
    principal: Principal,
    image: DecodedImage,
    *,
    pin: str | None = None,
    now: datetime | None = None,
) -> CheckinOutcome:
    """A frame from the door (and a PIN when one was asked): who is it, may they come in."""
    scope = principal.scope(session)
    # The check-in marks the member it lets in as seen, after locking the row.
    identification = faces_service.identify_image(
        session,
        scope.tenant_id,
        image,
        priority=Priority.KIOSK,
        mark_member_seen=False,
        kiosk=principal.id if principal.kind == "device" else None,
    )
    outcome, member_id = pins.resolve(session, settings, principal, identification, pin)
    member = None
    if outcome == "MATCH" and member_id is not None:
        member = find_member(scope, member_id, lock=True)
    return _record_attempt(
        scope,
        settings,
        now or utcnow(),
        identification=outcome,
        member=member,
        distance=identification.distance,
        source=CheckinSource.KIOSK,
        principal=principal,
    )


def manual_checkin(
    session: Session,
    settings: Settings,
    principal: Principal,
    member_id: uuid.UUID,
    client: ClientInfo,
    *,
    override_note: str | None = None,
    now: datetime | None = None,
) -> CheckinOutcome:
    """Staff check a member in by hand: the same rules, but staff on site means open.

    With `override_note` a refusal is overridden: the member comes in, the refusal and the
    note are kept on the check-in and in the audit log."""
    scope = principal.scope(session)
    member = find_member(scope, member_id, lock=True)
    outcome = _record_attempt(
        scope,
        settings,
        now or utcnow(),
        identification="MATCH",
        member=member,
        distance=None,
        source=CheckinSource.MANUAL,
        principal=principal,
        override_note=override_note,
    )
    overridden = outcome.decision.overrides
    details = {
        "checkin_id": str(outcome.checkin.id),
        "allowed": outcome.decision.allowed,
        "reason": outcome.decision.reason.value,
        "overridden_reason": overridden.value if overridden else None,
        "note": override_note,
    }
    record_change(session, principal, client, "checkin.manual", "member", member.id, details)
    return outcome


def _record_attempt(
    scope: TenantScope,
    settings: Settings,
    now: datetime,
    *,
    identification: Identification,
    member: Member | None,
    distance: float | None,
    source: CheckinSource,
    principal: Principal,
    override_note: str | None = None,
) -> CheckinOutcome:
    # The caller locked the member row, so two frames of one person at once cannot both
    # count a visit or both spend the last visit of a pack.
    session = scope.session
    schedule = tenant_schedule(scope)
    memberships: list[Membership] = []
    repeat = False
    if member is not None:
        memberships = list(
            session.scalars(
                scope.select(Membership).where(Membership.member_id == member.id)
            ).unique()
        )
        repeat = _counted_since(
            scope, member.id, now - timedelta(minutes=settings.checkin_repeat_window_minutes)
        )
        faces_service.mark_seen(member)  # retention counts from the last visit
    decision = decide(
        Attempt(
            identification=identification,
            member_active=member is not None and member.is_active,
            today=now.astimezone(schedule.timezone).date(),
            open_now=source is CheckinSource.MANUAL or schedule.is_open(now),
            repeat=repeat,
            memberships=[membership_facts(m) for m in memberships],
        )
    )
    if override_note is not None:
        decision = override(decision)
    visits_remaining = None
    chosen = next((m for m in memberships if m.id == decision.membership_id), None)
    if chosen is not None and chosen.visits_remaining is not None:
        if decision.uses_visit:
            chosen.visits_remaining -= 1
        visits_remaining = chosen.visits_remaining
    checkin = scope.add(
        Checkin(
            created_at=now,
            source=source,
            device_id=principal.id if principal.kind == "device" else None,
            user_id=principal.id if principal.kind == "user" else None,
            member_id=member.id if member is not None else None,
            membership_id=decision.membership_id,
            allowed=decision.allowed,
            reason=decision.reason,
            distance=distance,
            overridden_reason=decision.overrides,
            note=override_note,
            counted=decision.allowed and not repeat,
        )
    )
    session.flush()
    return CheckinOutcome(checkin, decision, member, repeat and decision.allowed, visits_remaining)


def _counted_since(scope: TenantScope, member_id: uuid.UUID, since: datetime) -> bool:
    recent = scope.select(Checkin).where(
        Checkin.member_id == member_id, Checkin.counted, Checkin.created_at > since
    )
    return scope.session.scalar(recent.limit(1)) is not None
