"""Opening hours: the tenant's weekly schedule and time zone, which close the door to the
kiosk and give the tenant's calendar day.

No FastAPI here. Every query goes through the caller's tenant scope; nothing commits.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from visage.access.auditing import record_change
from visage.access.hours import WeeklySchedule, always_open, schedule_from_json
from visage.access.models import OpeningHours
from visage.access.schemas import OpeningHoursIn, OpeningHoursOut
from visage.core.db import utcnow
from visage.core.errors import NotFound
from visage.core.tenancy import TenantScope
from visage.identity.principal import ClientInfo, Principal


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
    record_change(
        session, principal, client, "opening_hours.updated", "tenant", scope.tenant_id, details
    )
    session.flush()
    return _hours_out(hours, None)


def clear_opening_hours(session: Session, principal: Principal, client: ClientInfo) -> None:
    """Back to no opening hours: the clock never closes the door."""
    scope = principal.scope(session)
    hours = session.scalar(scope.select(OpeningHours))
    if hours is None:
        raise NotFound("No opening hours are set.")
    session.delete(hours)
    record_change(
        session, principal, client, "opening_hours.cleared", "tenant", scope.tenant_id, {}
    )


def tenant_today(scope: TenantScope, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(tenant_schedule(scope).timezone).date()
