"""Memberships: a member's plans, with their dates, visits left, payment, freezes and holds,
and the status each has today.

No FastAPI here. Every query goes through the caller's tenant scope; nothing commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from visage.access.auditing import record_change
from visage.access.decision import Attempt, FreezeSpan, MembershipFacts, PlanKind, Reason, decide
from visage.access.models import Membership, MembershipFreeze, Plan
from visage.access.opening_hours import tenant_today
from visage.access.schemas import FreezeCreate, MembershipCreate, MembershipUpdate
from visage.core.db import utcnow
from visage.core.errors import Conflict, NotFound, ValidationFailed
from visage.core.tenancy import TenantScope
from visage.identity.principal import ClientInfo, Principal
from visage.members.models import Member


@dataclass(frozen=True)
class MembershipView:
    membership: Membership
    status_today: Reason


def membership_facts(membership: Membership) -> MembershipFacts:
    return MembershipFacts(
        id=membership.id,
        kind=membership.plan.kind,
        starts_on=membership.starts_on,
        ends_on=membership.ends_on,
        visits_remaining=membership.visits_remaining,
        payment_status=membership.payment_status,
        on_hold=membership.on_hold,
        freezes=tuple(FreezeSpan(f.starts_on, f.ends_on) for f in membership.freezes),
    )


def _view(membership: Membership, today: date) -> MembershipView:
    attempt = Attempt(
        identification="MATCH",
        member_active=True,
        today=today,
        open_now=True,
        repeat=False,
        memberships=(membership_facts(membership),),
    )
    return MembershipView(membership, decide(attempt).reason)


def find_member(scope: TenantScope, member_id: uuid.UUID, *, lock: bool = False) -> Member:
    statement = scope.select(Member).where(Member.id == member_id)
    member = scope.session.scalar(statement.with_for_update() if lock else statement)
    if member is None:
        raise NotFound("Member not found.")
    return member


def _membership(scope: TenantScope, member_id: uuid.UUID, membership_id: uuid.UUID) -> Membership:
    membership = scope.session.scalar(
        scope.select(Membership).where(
            Membership.id == membership_id, Membership.member_id == member_id
        )
    )
    if membership is None:
        raise NotFound("Membership not found.")
    return membership


def _check_dates(starts_on: date, ends_on: date | None) -> None:
    if ends_on is not None and ends_on < starts_on:
        raise ValidationFailed(
            "`ends_on` is before `starts_on`.",
            details=[{"field": "ends_on", "message": "must not be before starts_on"}],
        )


def create_membership(
    session: Session,
    principal: Principal,
    member_id: uuid.UUID,
    data: MembershipCreate,
    client: ClientInfo,
    *,
    now: datetime | None = None,
) -> MembershipView:
    scope = principal.scope(session)
    member = find_member(scope, member_id)
    plan = scope.get(Plan, data.plan_id, what="Plan")
    if not plan.is_active:
        raise Conflict("This plan is retired and cannot be sold.")
    today = tenant_today(scope, now)
    starts_on = data.starts_on or today
    ends_on = data.ends_on
    if ends_on is None and plan.duration_days is not None:
        ends_on = starts_on + timedelta(days=plan.duration_days - 1)
    _check_dates(starts_on, ends_on)
    visits = data.visits_remaining
    if plan.kind is PlanKind.VISIT_PACK:
        visits = plan.visits if visits is None else visits
    elif visits is not None:
        raise ValidationFailed("Only visit packs have `visits_remaining`.")
    membership = scope.add(
        Membership(
            member_id=member.id,
            plan=plan,
            starts_on=starts_on,
            ends_on=ends_on,
            visits_remaining=visits,
            payment_status=data.payment_status,
        )
    )
    session.flush()
    details = {"member_id": str(member.id), "plan_id": str(plan.id), "plan": plan.name}
    record_change(
        session, principal, client, "membership.created", "membership", membership.id, details
    )
    return _view(membership, today)


def list_memberships(
    session: Session, principal: Principal, member_id: uuid.UUID
) -> list[MembershipView]:
    scope = principal.scope(session)
    find_member(scope, member_id)
    memberships = session.scalars(
        scope.select(Membership)
        .where(Membership.member_id == member_id)
        .order_by(Membership.starts_on.desc(), Membership.id)
    ).unique()
    today = tenant_today(scope)
    return [_view(membership, today) for membership in memberships]


def get_membership(
    session: Session, principal: Principal, member_id: uuid.UUID, membership_id: uuid.UUID
) -> MembershipView:
    scope = principal.scope(session)
    return _view(_membership(scope, member_id, membership_id), tenant_today(scope))


def update_membership(
    session: Session,
    principal: Principal,
    member_id: uuid.UUID,
    membership_id: uuid.UUID,
    data: MembershipUpdate,
    client: ClientInfo,
) -> MembershipView:
    scope = principal.scope(session)
    membership = _membership(scope, member_id, membership_id)
    sent = data.model_fields_set
    if "ends_on" in sent:
        _check_dates(membership.starts_on, data.ends_on)
        membership.ends_on = data.ends_on
    if "visits_remaining" in sent:
        if membership.plan.kind is not PlanKind.VISIT_PACK or data.visits_remaining is None:
            raise ValidationFailed("Only visit packs have `visits_remaining` (a number).")
        membership.visits_remaining = data.visits_remaining
    if data.payment_status is not None:
        membership.payment_status = data.payment_status
    session.flush()
    changes = data.model_dump(mode="json", exclude_unset=True)
    record_change(
        session, principal, client, "membership.updated", "membership", membership.id, changes
    )
    return _view(membership, tenant_today(scope))


def delete_membership(
    session: Session,
    principal: Principal,
    member_id: uuid.UUID,
    membership_id: uuid.UUID,
    client: ClientInfo,
) -> None:
    scope = principal.scope(session)
    membership = _membership(scope, member_id, membership_id)
    session.delete(membership)
    record_change(session, principal, client, "membership.deleted", "membership", membership.id, {})


@dataclass(frozen=True)
class MembershipChange:
    """A staff change to one membership: `apply(membership, today)` returns audit details."""

    action: str
    apply: Callable[[Membership, date], Mapping[str, object]]


def change_membership(
    session: Session,
    principal: Principal,
    member_id: uuid.UUID,
    membership_id: uuid.UUID,
    client: ClientInfo,
    change: MembershipChange,
) -> MembershipView:
    """Apply a staff change (freeze, unfreeze, hold, release) to a membership, audited."""
    scope = principal.scope(session)
    membership = _membership(scope, member_id, membership_id)
    today = tenant_today(scope)
    details = change.apply(membership, today)
    record_change(session, principal, client, change.action, "membership", membership.id, details)
    session.flush()
    return _view(membership, today)


def freeze(data: FreezeCreate, actor: Principal) -> MembershipChange:
    def apply(membership: Membership, today: date) -> Mapping[str, object]:
        span = FreezeSpan(data.starts_on or today, data.ends_on)
        _check_dates(span.starts_on, span.ends_on)
        for existing in membership.freezes:
            if _overlap(FreezeSpan(existing.starts_on, existing.ends_on), span):
                raise Conflict(
                    "The membership is already frozen during that period.",
                    details={"freeze_id": str(existing.id)},
                )
        membership.freezes.append(
            MembershipFreeze(
                tenant_id=membership.tenant_id,
                starts_on=span.starts_on,
                ends_on=span.ends_on,
                reason=data.reason,
                created_by=actor.id,
            )
        )
        return {
            "starts_on": str(span.starts_on),
            "ends_on": str(span.ends_on),
            "reason": data.reason,
        }

    return MembershipChange("membership.frozen", apply)


def _overlap(first: FreezeSpan, second: FreezeSpan) -> bool:
    return (first.ends_on is None or second.starts_on <= first.ends_on) and (
        second.ends_on is None or first.starts_on <= second.ends_on
    )


def _unfreeze(membership: Membership, today: date) -> Mapping[str, object]:
    """Ends the current freeze yesterday and cancels the ones still to come."""
    ending = [f for f in membership.freezes if f.ends_on is None or f.ends_on >= today]
    if not ending:
        raise Conflict("The membership is not frozen, now or later.")
    for period in ending:
        if period.starts_on >= today:
            membership.freezes.remove(period)
        else:
            period.ends_on = today - timedelta(days=1)
    return {"freezes": len(ending)}


def hold(reason: str, actor: Principal) -> MembershipChange:
    def apply(membership: Membership, _: date) -> Mapping[str, object]:
        if membership.on_hold:
            raise Conflict("The membership is already on hold.")
        membership.held_at, membership.hold_reason, membership.held_by = utcnow(), reason, actor.id
        return {"reason": reason}

    return MembershipChange("membership.hold", apply)


def _release(membership: Membership, _: date) -> Mapping[str, object]:
    if not membership.on_hold:
        raise Conflict("The membership is not on hold.")
    details = {"reason": membership.hold_reason}
    membership.held_at, membership.hold_reason, membership.held_by = None, None, None
    return details


UNFREEZE = MembershipChange("membership.unfrozen", _unfreeze)
RELEASE = MembershipChange("membership.released", _release)
