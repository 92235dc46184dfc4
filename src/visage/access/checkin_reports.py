"""The check-in log as staff read it: filtered pages, the CSV export and the statistics
(visits per day and hour, peak hours, who is inside, refusals by reason).

No FastAPI here. Every query goes through the caller's tenant scope; nothing commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, distinct, func, select
from sqlalchemy.orm import Session

from visage.access.decision import Reason
from visage.access.models import Checkin, CheckinSource
from visage.access.opening_hours import tenant_schedule
from visage.access.schemas import CheckinStats, DayVisits, HourVisits
from visage.config import Settings
from visage.core.db import utcnow
from visage.core.errors import ValidationFailed
from visage.core.tenancy import TenantScope
from visage.identity.principal import Principal
from visage.members.models import Member

# One export is one query held in memory; a wider range is asked for in pieces.
MAX_EXPORT_ROWS = 100_000
MAX_STATS_DAYS = 366
DEFAULT_STATS_DAYS = 30
PEAK_HOURS = 3


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
