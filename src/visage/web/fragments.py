"""htmx fragments: server-rendered pieces of the signed-in pages.

The browser asks for them with the user's bearer token (an `htmx:configRequest` hook adds the
header), so each fragment is authorized by the same `require(Permission...)` dependency and
answered by the same service function as the JSON API it mirrors.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BeforeValidator

from visage.access import checkin_reports as access_checkin_reports
from visage.access import memberships as access_memberships
from visage.access.decision import Reason
from visage.access.schemas import DayVisits
from visage.billing import plans as priced_plans
from visage.core.deps import AppSettings, DbSession
from visage.core.paging import PageRequest
from visage.events import service as events_service
from visage.i18n.formatting import format_weekday
from visage.identity import api_tokens, management
from visage.identity import service as identity_service
from visage.identity.dependencies import CurrentUser, require
from visage.identity.models import Role
from visage.identity.permissions import Permission
from visage.identity.principal import Principal
from visage.members import service as members_service
from visage.web.rendering import render

router = APIRouter(include_in_schema=False)

# Roles handed out from the users page (super admins are made with the CLI).
ASSIGNABLE_ROLES = [Role.TENANT_OWNER, Role.STAFF, Role.PHOTOGRAPHER, Role.MEMBER]

PAGE_SIZE = 20
WEEK_DAYS = 7

PageNumber = Annotated[int, Query(ge=1)]
Search = Annotated[str | None, Query(max_length=200)]
# Filter forms send every field; an empty one means "any".
Day = Annotated[date | None, BeforeValidator(lambda value: value or None), Query()]


CheckinReader = Annotated[Principal, Depends(require(Permission.CHECKINS_READ))]
MemberReader = Annotated[Principal, Depends(require(Permission.MEMBERS_READ))]
UserReader = Annotated[Principal, Depends(require(Permission.USERS_READ))]
DeviceManager = Annotated[Principal, Depends(require(Permission.DEVICES_MANAGE))]
AuditReader = Annotated[Principal, Depends(require(Permission.AUDIT_READ))]
EventReader = Annotated[Principal, Depends(require(Permission.EVENTS_READ))]
TenantAdmin = Annotated[Principal, Depends(require(Permission.TENANTS_MANAGE))]


def _pages(total: int, page: int, page_size: int = PAGE_SIZE) -> dict[str, int]:
    last = max(1, -(-total // page_size))
    return {"page": page, "last_page": last, "total": total}


def _bars(days: list[DayVisits]) -> list[dict[str, object]]:
    """Bar heights (0-100) of the week chart, drawn as inline SVG by the template."""
    top = max((day.visits for day in days), default=0) or 1
    return [
        {
            "label": format_weekday(day.date),
            "date": day.date,
            "visits": day.visits,
            "height": round(100 * day.visits / top),
        }
        for day in days
    ]


@router.get("/stats", response_class=HTMLResponse)
def stats(
    request: Request, session: DbSession, settings: AppSettings, principal: CheckinReader
) -> HTMLResponse:
    result = access_checkin_reports.checkin_stats(
        session, settings, principal, since=None, until=None
    )
    week = result.visits_per_day[-WEEK_DAYS:]
    return render(
        request,
        "fragments/stats.html",
        stats=result,
        today=week[-1].visits if week else 0,
        week_total=sum(day.visits for day in week),
        bars=_bars(week),
    )


@router.get("/checkins", response_class=HTMLResponse)
def checkins(
    request: Request,
    session: DbSession,
    principal: CheckinReader,
    page: PageNumber = 1,
    member_id: uuid.UUID | None = None,
    allowed: Annotated[str | None, Query(pattern="^(true|false|)$")] = None,
    reason: Annotated[Reason | Literal[""] | None, Query()] = None,
    since: Day = None,
    until: Day = None,
) -> HTMLResponse:
    filters = access_checkin_reports.CheckinFilters(
        member_id=member_id,
        since=since,
        until=until,
        allowed={"true": True, "false": False}.get(allowed or ""),
        reason=Reason(reason) if reason else None,
    )
    rows, total = access_checkin_reports.list_checkins(
        session, principal, filters, page=page, page_size=PAGE_SIZE
    )
    return render(
        request,
        "fragments/checkins.html",
        rows=rows,
        show_member=member_id is None,
        **_pages(total, page),
    )


@router.get("/members", response_class=HTMLResponse)
def members(
    request: Request,
    session: DbSession,
    principal: MemberReader,
    q: Search = None,
    page: PageNumber = 1,
) -> HTMLResponse:
    views, total = members_service.list_members(
        session, principal, query=q or None, active=None, page=page, page_size=PAGE_SIZE
    )
    return render(request, "fragments/members.html", views=views, **_pages(total, page))


@router.get("/members/{member_id}", response_class=HTMLResponse)
def member(
    request: Request, member_id: uuid.UUID, session: DbSession, principal: MemberReader
) -> HTMLResponse:
    view = members_service.view(session, members_service.get_member(session, principal, member_id))
    return render(
        request,
        "fragments/member.html",
        view=view,
        can_manage=principal.can(Permission.MEMBERS_MANAGE),
    )


@router.get("/members/{member_id}/memberships", response_class=HTMLResponse)
def memberships(
    request: Request, member_id: uuid.UUID, session: DbSession, principal: MemberReader
) -> HTMLResponse:
    views = access_memberships.list_memberships(session, principal, member_id)
    return render(
        request,
        "fragments/memberships.html",
        views=views,
        member_id=member_id,
        can_manage=principal.can(Permission.MEMBERSHIPS_MANAGE),
    )


@router.get("/plans", response_class=HTMLResponse)
def plans(
    request: Request,
    session: DbSession,
    principal: MemberReader,
    as_options: bool = False,
) -> HTMLResponse:
    found = priced_plans.list_plans(session, principal, include_retired=not as_options)
    template = "fragments/plan_options.html" if as_options else "fragments/plans.html"
    return render(request, template, plans=found)


@router.get("/users", response_class=HTMLResponse)
def users(
    request: Request,
    session: DbSession,
    principal: UserReader,
    q: Search = None,
    page: PageNumber = 1,
) -> HTMLResponse:
    found, total = management.list_users(
        session,
        principal,
        role=None,
        active=None,
        search=q or None,
        tenant_id=None,
        paging=PageRequest(page=page, page_size=PAGE_SIZE),
    )
    return render(
        request,
        "fragments/users.html",
        users=found,
        roles=ASSIGNABLE_ROLES,
        can_manage=principal.can(Permission.USERS_MANAGE),
        **_pages(total, page),
    )


@router.get("/devices", response_class=HTMLResponse)
def devices(request: Request, session: DbSession, principal: DeviceManager) -> HTMLResponse:
    return render(
        request, "fragments/devices.html", devices=identity_service.list_devices(session, principal)
    )


@router.get("/api-tokens", response_class=HTMLResponse)
def personal_api_tokens(
    request: Request, session: DbSession, principal: CurrentUser
) -> HTMLResponse:
    return render(
        request,
        "fragments/api_tokens.html",
        tokens=api_tokens.list_api_tokens(session, principal),
    )


def _day_start(day: date | None, *, next_day: bool = False) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=int(next_day)), time(), tzinfo=UTC)


@router.get("/audit", response_class=HTMLResponse)
def audit(
    request: Request,
    session: DbSession,
    principal: AuditReader,
    action: Annotated[str | None, Query(max_length=100)] = None,
    since: Day = None,
    until: Day = None,
    page: PageNumber = 1,
) -> HTMLResponse:
    events, total = management.list_audit_events(
        session,
        principal,
        action=action or None,
        actor_id=None,
        since=_day_start(since),
        until=_day_start(until, next_day=True),
        tenant_id=None,
        paging=PageRequest(page=page, page_size=PAGE_SIZE),
    )
    return render(request, "fragments/audit.html", events=events, **_pages(total, page))


@router.get("/events", response_class=HTMLResponse)
def events(
    request: Request, session: DbSession, principal: EventReader, page: PageNumber = 1
) -> HTMLResponse:
    found, total = events_service.list_events(session, principal, page=page, page_size=PAGE_SIZE)
    return render(request, "fragments/events.html", events=found, **_pages(total, page))


@router.get("/tenants", response_class=HTMLResponse)
def tenants(
    request: Request,
    session: DbSession,
    principal: TenantAdmin,
    q: Search = None,
    page: PageNumber = 1,
) -> HTMLResponse:
    del principal  # authorization only: tenants are the platform's, not a tenant's
    found, total = management.list_tenants(
        session, search=q or None, active=None, paging=PageRequest(page=page, page_size=PAGE_SIZE)
    )
    return render(request, "fragments/tenants.html", tenants=found, **_pages(total, page))
