"""Plans, memberships, opening hours and check-ins under /api/v1 (thin: parse, authorize, call)."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response, status

from visage.access import checkin_reports, checkins, memberships, opening_hours, pins, plans
from visage.access.decision import Reason
from visage.access.models import Checkin, CheckinSource
from visage.access.schemas import (
    CheckinOut,
    CheckinPage,
    CheckinResult,
    CheckinStats,
    FreezeCreate,
    FreezeOut,
    HoldCreate,
    KioskFrame,
    ManualCheckin,
    MemberBrief,
    MembershipCreate,
    MembershipOut,
    MembershipUpdate,
    OpeningHoursIn,
    OpeningHoursOut,
    PinIn,
    PlanOut,
)
from visage.billing import plans as priced_plans
from visage.billing.schemas import PricedPlanCreate, PricedPlanOut, PricedPlanUpdate
from visage.core.deps import AppSettings, DbSession
from visage.core.paging import PageRequest, page_of, page_request
from visage.faces.intake import ImageBody, image_body, openapi_body
from visage.identity.dependencies import Client, require
from visage.identity.permissions import Permission
from visage.identity.principal import Principal

router = APIRouter(tags=["access"])


PlanReader = Annotated[Principal, Depends(require(Permission.MEMBERS_READ))]
PlanManager = Annotated[Principal, Depends(require(Permission.MEMBERSHIPS_MANAGE))]
MembershipReader = Annotated[Principal, Depends(require(Permission.MEMBERS_READ))]
MembershipManager = Annotated[Principal, Depends(require(Permission.MEMBERSHIPS_MANAGE))]
HoursReader = Annotated[Principal, Depends(require(Permission.TENANT_READ))]
HoursManager = Annotated[Principal, Depends(require(Permission.MEMBERSHIPS_MANAGE))]
Kiosk = Annotated[Principal, Depends(require(Permission.CHECKINS_CREATE))]
MemberManager = Annotated[Principal, Depends(require(Permission.MEMBERS_MANAGE))]
FrontDesk = Annotated[Principal, Depends(require(Permission.CHECKINS_MANUAL))]
CheckinReader = Annotated[Principal, Depends(require(Permission.CHECKINS_READ))]
CheckinPaging = Annotated[PageRequest, Depends(page_request(default_size=50, max_size=200))]


# ---------------------------------------------------------------- plans


# A plan carries its price (price_cents, currency, billing_interval, trial_days,
# setup_fee_cents): billing.plans applies the plan's rules here and prices it in Stripe.
@router.post("/plans", status_code=status.HTTP_201_CREATED, response_model=PricedPlanOut)
def create_plan(
    body: PricedPlanCreate, session: DbSession, settings: AppSettings, principal: PlanManager
) -> PricedPlanOut:
    return priced_plans.create_plan(session, settings, principal, body)


@router.get("/plans", response_model=list[PricedPlanOut])
def list_plans(
    session: DbSession, principal: PlanReader, include_retired: bool = False
) -> list[PricedPlanOut]:
    return priced_plans.list_plans(session, principal, include_retired=include_retired)


@router.get("/plans/{plan_id}", response_model=PricedPlanOut)
def get_plan(plan_id: uuid.UUID, session: DbSession, principal: PlanReader) -> PricedPlanOut:
    return priced_plans.get_plan(session, principal, plan_id)


@router.patch("/plans/{plan_id}", response_model=PricedPlanOut)
def update_plan(
    plan_id: uuid.UUID,
    body: PricedPlanUpdate,
    session: DbSession,
    settings: AppSettings,
    principal: PlanManager,
) -> PricedPlanOut:
    return priced_plans.update_plan(session, settings, principal, plan_id, body)


@router.delete("/plans/{plan_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_plan(plan_id: uuid.UUID, session: DbSession, principal: PlanManager) -> None:
    plans.delete_plan(session, principal, plan_id)


# ---------------------------------------------------------------- memberships


def _membership_out(view: memberships.MembershipView) -> MembershipOut:
    membership = view.membership
    return MembershipOut(
        id=membership.id,
        member_id=membership.member_id,
        plan=PlanOut.model_validate(membership.plan),
        starts_on=membership.starts_on,
        ends_on=membership.ends_on,
        visits_remaining=membership.visits_remaining,
        payment_status=membership.payment_status,
        on_hold=membership.on_hold,
        hold_reason=membership.hold_reason,
        held_at=membership.held_at,
        freezes=[FreezeOut.model_validate(f) for f in membership.freezes],
        status_today=view.status_today,
    )


MEMBERSHIP = "/members/{member_id}/memberships/{membership_id}"


@router.post(
    "/members/{member_id}/memberships",
    status_code=status.HTTP_201_CREATED,
    response_model=MembershipOut,
)
def create_membership(
    member_id: uuid.UUID,
    body: MembershipCreate,
    session: DbSession,
    principal: MembershipManager,
    client: Client,
) -> MembershipOut:
    view = memberships.create_membership(session, principal, member_id, body, client)
    return _membership_out(view)


@router.get("/members/{member_id}/memberships", response_model=list[MembershipOut])
def list_memberships(
    member_id: uuid.UUID, session: DbSession, principal: MembershipReader
) -> list[MembershipOut]:
    return [
        _membership_out(view)
        for view in memberships.list_memberships(session, principal, member_id)
    ]


@router.get(MEMBERSHIP, response_model=MembershipOut)
def get_membership(
    member_id: uuid.UUID, membership_id: uuid.UUID, session: DbSession, principal: MembershipReader
) -> MembershipOut:
    return _membership_out(memberships.get_membership(session, principal, member_id, membership_id))


@router.patch(MEMBERSHIP, response_model=MembershipOut)
def update_membership(
    member_id: uuid.UUID,
    membership_id: uuid.UUID,
    body: MembershipUpdate,
    session: DbSession,
    principal: MembershipManager,
    client: Client,
) -> MembershipOut:
    view = memberships.update_membership(session, principal, member_id, membership_id, body, client)
    return _membership_out(view)


@router.delete(MEMBERSHIP, status_code=status.HTTP_204_NO_CONTENT)
def delete_membership(
    member_id: uuid.UUID,
    membership_id: uuid.UUID,
    session: DbSession,
    principal: MembershipManager,
    client: Client,
) -> None:
    memberships.delete_membership(session, principal, member_id, membership_id, client)


def _changed(
    session: DbSession,
    principal: Principal,
    member_id: uuid.UUID,
    membership_id: uuid.UUID,
    client: Client,
    change: memberships.MembershipChange,
) -> MembershipOut:
    view = memberships.change_membership(
        session, principal, member_id, membership_id, client, change
    )
    return _membership_out(view)


@router.post(MEMBERSHIP + "/freeze", response_model=MembershipOut)
def freeze_membership(
    member_id: uuid.UUID,
    membership_id: uuid.UUID,
    body: FreezeCreate,
    session: DbSession,
    principal: MembershipManager,
    client: Client,
) -> MembershipOut:
    """Freeze from `starts_on` (default today) to `ends_on` (default: until unfrozen)."""
    change = memberships.freeze(body, principal)
    return _changed(session, principal, member_id, membership_id, client, change)


@router.post(MEMBERSHIP + "/unfreeze", response_model=MembershipOut)
def unfreeze_membership(
    member_id: uuid.UUID,
    membership_id: uuid.UUID,
    session: DbSession,
    principal: MembershipManager,
    client: Client,
) -> MembershipOut:
    """End the current freeze (it lasted until yesterday) and cancel planned ones."""
    change = memberships.UNFREEZE
    return _changed(session, principal, member_id, membership_id, client, change)


@router.post(MEMBERSHIP + "/hold", response_model=MembershipOut)
def hold_membership(
    member_id: uuid.UUID,
    membership_id: uuid.UUID,
    body: HoldCreate,
    session: DbSession,
    principal: MembershipManager,
    client: Client,
) -> MembershipOut:
    """Stop the member at the door until released (the kiosk does not say why)."""
    change = memberships.hold(body.reason, principal)
    return _changed(session, principal, member_id, membership_id, client, change)


@router.post(MEMBERSHIP + "/release", response_model=MembershipOut)
def release_membership(
    member_id: uuid.UUID,
    membership_id: uuid.UUID,
    session: DbSession,
    principal: MembershipManager,
    client: Client,
) -> MembershipOut:
    change = memberships.RELEASE
    return _changed(session, principal, member_id, membership_id, client, change)


# ---------------------------------------------------------------- opening hours


@router.get("/tenant/opening-hours", response_model=OpeningHoursOut)
def get_opening_hours(session: DbSession, principal: HoursReader) -> OpeningHoursOut:
    return opening_hours.get_opening_hours(session, principal)


@router.put("/tenant/opening-hours", response_model=OpeningHoursOut)
def set_opening_hours(
    body: OpeningHoursIn, session: DbSession, principal: HoursManager, client: Client
) -> OpeningHoursOut:
    return opening_hours.set_opening_hours(session, principal, body, client)


@router.delete("/tenant/opening-hours", status_code=status.HTTP_204_NO_CONTENT)
def clear_opening_hours(session: DbSession, principal: HoursManager, client: Client) -> None:
    opening_hours.clear_opening_hours(session, principal, client)


# ---------------------------------------------------------------- check-ins

FrameBody = Annotated[ImageBody[KioskFrame], Depends(image_body(KioskFrame, "image"))]


def _result(outcome: checkins.CheckinOutcome) -> CheckinResult:
    member = outcome.member
    return CheckinResult(
        allowed=outcome.decision.allowed,
        reason=outcome.decision.reason,
        member=MemberBrief.model_validate(member) if member is not None else None,
        distance=outcome.checkin.distance,
        checkin_id=outcome.checkin.id,
        message=outcome.message,
        visits_remaining=outcome.visits_remaining,
        repeat=outcome.repeat,
        overridden_reason=outcome.decision.overrides,
    )


@router.post(
    "/checkins", response_model=CheckinResult, openapi_extra=openapi_body(KioskFrame, "image")
)
def kiosk_checkin(
    body: FrameBody, session: DbSession, settings: AppSettings, principal: Kiosk
) -> CheckinResult:
    """A kiosk (`X-API-Key`) sends one camera frame (multipart `image` or JSON base64);
    the answer says whether to open the door, and why not."""
    (image,) = body.decoded(settings)
    outcome = checkins.kiosk_checkin(session, settings, principal, image, pin=body.fields.pin)
    return _result(outcome)


@router.put("/members/{member_id}/pin", status_code=status.HTTP_204_NO_CONTENT)
def set_member_pin(
    member_id: uuid.UUID,
    body: PinIn,
    session: DbSession,
    principal: MemberManager,
    client: Client,
) -> None:
    """Set or change the member's kiosk PIN (4-6 digits); the kiosk asks for it when the
    face alone is not enough (faces settings' kiosk_mode)."""
    pins.set_pin(session, principal, member_id, body.pin, client)


@router.post("/checkins/manual", response_model=CheckinResult)
def manual_checkin(
    body: ManualCheckin,
    session: DbSession,
    settings: AppSettings,
    principal: FrontDesk,
    client: Client,
) -> CheckinResult:
    """Staff check a member in by hand (same rules, audited); `override` lets them in anyway."""
    outcome = checkins.manual_checkin(
        session, settings, principal, body.member_id, client, override_note=body.override
    )
    return _result(outcome)


def _filters(
    member_id: uuid.UUID | None = None,
    since: Annotated[date | None, Query(description="First day (tenant time)")] = None,
    until: Annotated[date | None, Query(description="Last day, inclusive")] = None,
    allowed: bool | None = None,
    reason: Reason | None = None,
    source: CheckinSource | None = None,
) -> checkin_reports.CheckinFilters:
    return checkin_reports.CheckinFilters(member_id, since, until, allowed, reason, source)


Filters = Annotated[checkin_reports.CheckinFilters, Depends(_filters)]

CSV_COLUMNS = (
    "id",
    "created_at",
    "source",
    "allowed",
    "reason",
    "member_id",
    "member_name",
    "membership_id",
    "distance",
    "overridden_reason",
    "note",
    "counted",
    "device_id",
    "user_id",
)


def _checkin_out(checkin: Checkin, member_name: str | None) -> CheckinOut:
    return CheckinOut(
        id=checkin.id,
        created_at=checkin.created_at,
        source=checkin.source,
        device_id=checkin.device_id,
        user_id=checkin.user_id,
        member_id=checkin.member_id,
        member_name=member_name,
        membership_id=checkin.membership_id,
        allowed=checkin.allowed,
        reason=checkin.reason,
        distance=checkin.distance,
        overridden_reason=checkin.overridden_reason,
        note=checkin.note,
        counted=checkin.counted,
    )


def _csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A name like "=HYPERLINK(...)" must stay text when the file is opened in a spreadsheet.
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def _csv_response(rows: list[tuple[Checkin, str | None]]) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for checkin, name in rows:
        record = _checkin_out(checkin, name).model_dump(mode="json")
        writer.writerow([_csv_cell(record[column]) for column in CSV_COLUMNS])
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="checkins.csv"'},
    )


@router.get(
    "/checkins",
    response_model=CheckinPage,
    responses={200: {"content": {"text/csv": {}}, "description": "JSON page, or CSV"}},
)
def list_checkins(
    session: DbSession,
    principal: CheckinReader,
    filters: Filters,
    paging: CheckinPaging,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> CheckinPage | Response:
    if format == "csv":
        return _csv_response(checkin_reports.export_checkins(session, principal, filters))
    rows, total = checkin_reports.list_checkins(
        session, principal, filters, page=paging.page, page_size=paging.page_size
    )
    return page_of([_checkin_out(checkin, name) for checkin, name in rows], total, paging)


@router.get("/checkins/export.csv", response_class=Response)
def export_checkins(session: DbSession, principal: CheckinReader, filters: Filters) -> Response:
    """Every check-in matching the filters, as CSV."""
    return _csv_response(checkin_reports.export_checkins(session, principal, filters))


@router.get("/checkins/stats", response_model=CheckinStats)
def checkin_stats(
    session: DbSession,
    settings: AppSettings,
    principal: CheckinReader,
    since: Annotated[date | None, Query(description="Default: 30 days before `until`")] = None,
    until: Annotated[date | None, Query(description="Default: today (tenant time)")] = None,
) -> CheckinStats:
    return checkin_reports.checkin_stats(session, settings, principal, since=since, until=until)
