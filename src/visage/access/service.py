"""Access rules: plans, memberships, opening hours, check-ins and their statistics.

No FastAPI here. Every query goes through the caller's tenant scope; nothing commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, distinct, func, select
from sqlalchemy.orm import Session

from visage.access import pins
from visage.access.decision import (
    KIOSK_MESSAGES,
    Attempt,
    Decision,
    FreezeSpan,
    Identification,
    MembershipFacts,
    PlanKind,
    Reason,
    decide,
    override,
)
from visage.access.hours import WeeklySchedule, always_open, schedule_from_json
from visage.access.models import (
    Checkin,
    CheckinSource,
    Membership,
    MembershipFreeze,
    OpeningHours,
    Plan,
)
from visage.access.schemas import (
    CheckinStats,
    DayVisits,
    FreezeCreate,
    HourVisits,
    MembershipCreate,
    MembershipUpdate,
    OpeningHoursIn,
    OpeningHoursOut,
    PlanCreate,
    PlanUpdate,
)
from visage.config import Settings
from visage.core.db import flush_or_raise, utcnow
from visage.core.errors import Conflict, NotFound, ValidationFailed
from visage.core.images import DecodedImage
from visage.core.tenancy import TenantScope
from visage.faces import service as faces_service
from visage.faces.inference.scheduling import Priority
from visage.identity import audit
from visage.identity.principal import ClientInfo, Principal
from visage.members.models import Member

# One export is one query held in memory; a wider range is asked for in pieces.
MAX_EXPORT_ROWS = 100_000
MAX_STATS_DAYS = 366
DEFAULT_STATS_DAYS = 30
PEAK_HOURS = 3


# ---------------------------------------------------------------- plans


def _flush_plan(session: Session, name: str) -> None:
    # The unique index on (tenant, lower(name)) decides, so concurrent requests cannot both win.
    flush_or_raise(
        session, Conflict(f"A plan named '{name}' already exists.", details={"field": "name"})
    )


def create_plan(session: Session, principal: Principal, data: PlanCreate) -> Plan:
    scope = principal.scope(session)
    plan = scope.add(
        Plan(
            name=data.name,
            kind=data.kind,
            visits=data.visits,
            duration_days=data.duration_days,
            is_active=True,
        )
    )
    _flush_plan(session, data.name)
    return plan


def list_plans(session: Session, principal: Principal, *, include_retired: bool) -> list[Plan]:
    statement = principal.scope(session).select(Plan).order_by(func.lower(Plan.name))
    if not include_retired:
        statement = statement.where(Plan.is_active)
    return list(session.scalars(statement))


def get_plan(session: Session, principal: Principal, plan_id: uuid.UUID) -> Plan:
    return principal.scope(session).get(Plan, plan_id, what="Plan")


def update_plan(
    session: Session, principal: Principal, plan_id: uuid.UUID, data: PlanUpdate
) -> Plan:
    scope = principal.scope(session)
    plan = scope.get(Plan, plan_id, what="Plan")
    if data.name is not None:
        plan.name = data.name
    if data.is_active is not None:
        plan.is_active = data.is_active
    _flush_plan(session, plan.name)
    return plan


def delete_plan(session: Session, principal: Principal, plan_id: uuid.UUID) -> None:
    scope = principal.scope(session)
    plan = scope.get(Plan, plan_id, what="Plan")
    sold = scope.select(Membership).where(Membership.plan_id == plan.id).limit(1)
    if session.scalar(sold) is not None:
        raise Conflict(
            'This plan has been sold: retire it with PATCH {"is_active": false} instead.'
        )
    session.delete(plan)


# ---------------------------------------------------------------- opening hours


def tenant_schedule(scope: TenantScope) -> WeeklySchedule:
    hours = scope.session.scalar(scope.select(OpeningHours))
    if hours is None:
        return always_open()
    return schedule_from_json(hours.timezone, hours.weekly)


def _hours_out(hours: OpeningHours | None, now: datetime | None) -> OpeningHoursOut:
    schedule = always_open() if hours is None else schedule_from_json(hours.timezone, hours.weekly)
    return OpeningHoursOut.model_validate(
        {
            "timezone": schedule.timezone.key,
            "weekly": hours.weekly if hours is not None else {},
            "always_open": hours is None,
            "open_now": schedule.is_open(now or utcnow()),
        }
    )


def get_opening_hours(
    session: Session, principal: Principal, *, now: datetime | None = None
) -> OpeningHoursOut:
    return _hours_out(session.scalar(principal.scope(session).select(OpeningHours)), now)


def set_opening_hours(
    session: Session, principal: Principal, data: OpeningHoursIn, client: ClientInfo
) -> OpeningHoursOut:
    scope = principal.scope(session)
    weekly = data.model_dump(mode="json")["weekly"]
    hours = session.scalar(scope.select(OpeningHours))
    if hours is None:
        hours = scope.add(OpeningHours(timezone=data.timezone, weekly=weekly))
    else:
        hours.timezone, hours.weekly = data.timezone, weekly
    details = {"timezone": data.timezone, "weekly": weekly}
    _audit(session, principal, client, "opening_hours.updated", "tenant", scope.tenant_id, details)
    session.flush()
    return _hours_out(hours, None)


def clear_opening_hours(session: Session, principal: Principal, client: ClientInfo) -> None:
    """Back to no opening hours: the clock never closes the door."""
    scope = principal.scope(session)
    hours = session.scalar(scope.select(OpeningHours))
    if hours is None:
        raise NotFound("No opening hours are set.")
    session.delete(hours)
    _audit(session, principal, client, "opening_hours.cleared", "tenant", scope.tenant_id, {})


# ---------------------------------------------------------------- memberships


@dataclass(frozen=True)
class MembershipView:
    membership: Membership
    status_today: Reason


def _facts(membership: Membership) -> MembershipFacts:
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
        memberships=(_facts(membership),),
    )
    return MembershipView(membership, decide(attempt).reason)


def _today(scope: TenantScope, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(tenant_schedule(scope).timezone).date()


def _member(scope: TenantScope, member_id: uuid.UUID, *, lock: bool = False) -> Member:
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
    member = _member(scope, member_id)
    plan = scope.get(Plan, data.plan_id, what="Plan")
    if not plan.is_active:
        raise Conflict("This plan is retired and cannot be sold.")
    today = _today(scope, now)
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
    _audit(session, principal, client, "membership.created", "membership", membership.id, details)
    return _view(membership, today)


def list_memberships(
    session: Session, principal: Principal, member_id: uuid.UUID
) -> list[MembershipView]:
    scope = principal.scope(session)
    _member(scope, member_id)
    memberships = session.scalars(
        scope.select(Membership)
        .where(Membership.member_id == member_id)
        .order_by(Membership.starts_on.desc(), Membership.id)
    ).unique()
    today = _today(scope)
    return [_view(membership, today) for membership in memberships]


def get_membership(
    session: Session, principal: Principal, member_id: uuid.UUID, membership_id: uuid.UUID
) -> MembershipView:
    scope = principal.scope(session)
    return _view(_membership(scope, member_id, membership_id), _today(scope))


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
    _audit(session, principal, client, "membership.updated", "membership", membership.id, changes)
    return _view(membership, _today(scope))


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
    _audit(session, principal, client, "membership.deleted", "membership", membership.id, {})


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
    today = _today(scope)
    details = change.apply(membership, today)
    _audit(session, principal, client, change.action, "membership", membership.id, details)
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


# ---------------------------------------------------------------- check-ins


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
            return f"Welcome, {self.member.full_name}!"
        return KIOSK_MESSAGES[self.decision.reason]


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
    identification = faces_service.identify_image(
        session, scope.tenant_id, image, priority=Priority.KIOSK
    )
    outcome, member_id = pins.resolve(session, settings, principal, identification, pin)
    member = None
    if outcome == "MATCH" and member_id is not None:
        member = _member(scope, member_id, lock=True)
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
    member = _member(scope, member_id, lock=True)
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
    _audit(session, principal, client, "checkin.manual", "member", member.id, details)
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
            memberships=[_facts(m) for m in memberships],
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


@dataclass(frozen=True)
class CheckinFilters:
    member_id: uuid.UUID | None = None
    since: date | None = None  # tenant days, inclusive
    until: date | None = None
    allowed: bool | None = None
    reason: Reason | None = None
    source: CheckinSource | None = None


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def _filtered(scope: TenantScope, filters: CheckinFilters) -> Select[Checkin]:
    zone = tenant_schedule(scope).timezone
    statement = scope.select(Checkin)
    if filters.member_id is not None:
        statement = statement.where(Checkin.member_id == filters.member_id)
    if filters.since is not None:
        statement = statement.where(Checkin.created_at >= _local_midnight(filters.since, zone))
    if filters.until is not None:
        next_day = filters.until + timedelta(days=1)
        statement = statement.where(Checkin.created_at < _local_midnight(next_day, zone))
    if filters.allowed is not None:
        statement = statement.where(Checkin.allowed.is_(filters.allowed))
    if filters.reason is not None:
        statement = statement.where(Checkin.reason == filters.reason)
    if filters.source is not None:
        statement = statement.where(Checkin.source == filters.source)
    return statement.order_by(Checkin.created_at.desc(), Checkin.id)


def _with_member_names(
    scope: TenantScope, checkins: list[Checkin]
) -> list[tuple[Checkin, str | None]]:
    member_ids = {c.member_id for c in checkins if c.member_id is not None}
    named = scope.select(Member).with_only_columns(Member.id, Member.full_name)
    rows = scope.session.execute(named.where(Member.id.in_(member_ids)))
    names: dict[uuid.UUID, str] = {member_id: name for member_id, name in rows}
    return [(c, names.get(c.member_id) if c.member_id else None) for c in checkins]


def list_checkins(
    session: Session, principal: Principal, filters: CheckinFilters, *, page: int, page_size: int
) -> tuple[list[tuple[Checkin, str | None]], int]:
    scope = principal.scope(session)
    checkins, total = scope.page(_filtered(scope, filters), page=page, page_size=page_size)
    return _with_member_names(scope, checkins), total


def export_checkins(
    session: Session, principal: Principal, filters: CheckinFilters
) -> list[tuple[Checkin, str | None]]:
    scope = principal.scope(session)
    statement = _filtered(scope, filters).limit(MAX_EXPORT_ROWS + 1)
    checkins = list(session.scalars(statement))
    if len(checkins) > MAX_EXPORT_ROWS:
        raise ValidationFailed(
            f"More than {MAX_EXPORT_ROWS} check-ins match: narrow the date range.",
            details={"max_rows": MAX_EXPORT_ROWS},
        )
    return _with_member_names(scope, checkins)


def checkin_stats(
    session: Session,
    settings: Settings,
    principal: Principal,
    *,
    since: date | None,
    until: date | None,
    now: datetime | None = None,
) -> CheckinStats:
    scope = principal.scope(session)
    zone = tenant_schedule(scope).timezone
    now = now or utcnow()
    today = now.astimezone(zone).date()
    until = until or today
    since = since or until - timedelta(days=DEFAULT_STATS_DAYS - 1)
    if since > until or (until - since).days >= MAX_STATS_DAYS:
        raise ValidationFailed(
            f"`since` must be on or before `until`, at most {MAX_STATS_DAYS} days apart.",
            details=[{"field": "since", "message": "invalid date range"}],
        )
    attempts = _filtered(scope, CheckinFilters(since=since, until=until)).order_by(None).subquery()
    local_time = func.timezone(zone.key, attempts.c.created_at)
    day, hour = func.date(local_time), func.extract("hour", local_time)

    def grouped(column: object, *conditions: object) -> dict[object, int]:
        rows = session.execute(
            select(column, func.count()).where(*conditions).group_by(column)  # type: ignore[call-overload]
        ).all()
        return {key: count for key, count in rows}

    per_day = grouped(day, attempts.c.counted)
    per_hour = {int(key): count for key, count in grouped(hour, attempts.c.counted).items()}  # type: ignore[call-overload]
    denied = grouped(attempts.c.reason, ~attempts.c.allowed)
    hours = [HourVisits(hour=h, visits=per_hour.get(h, 0)) for h in range(24)]
    inside_since = max(
        now - timedelta(minutes=settings.checkin_visit_minutes), _local_midnight(today, zone)
    )
    inside = (
        scope.select(Checkin)
        .where(Checkin.allowed, Checkin.created_at >= inside_since, Checkin.created_at <= now)
        .subquery()
    )
    return CheckinStats(
        timezone=zone.key,
        since=since,
        until=until,
        attempts=session.scalar(select(func.count()).select_from(attempts)) or 0,
        visits=sum(per_day.values()),
        visits_per_day=[
            DayVisits(date=d, visits=per_day.get(d, 0))
            for d in (since + timedelta(days=n) for n in range((until - since).days + 1))
        ],
        visits_per_hour=hours,
        peak_hours=sorted((h for h in hours if h.visits), key=lambda h: (-h.visits, h.hour))[
            :PEAK_HOURS
        ],
        currently_inside=session.scalar(select(func.count(distinct(inside.c.member_id)))) or 0,
        denied_by_reason={Reason(str(key)): count for key, count in denied.items()},
    )


def _audit(
    session: Session,
    principal: Principal,
    client: ClientInfo,
    action: str,
    target_type: str,
    target_id: uuid.UUID,
    details: Mapping[str, object],
) -> None:
    audit.record(
        session,
        action=action,
        actor=principal,
        tenant_id=principal.tenant(),
        target_type=target_type,
        target_id=str(target_id),
        details=dict(details),
        ip=client.ip,
        user_agent=client.user_agent,
    )
