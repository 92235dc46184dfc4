"""Request and response bodies of plans, memberships, opening hours and check-ins."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from visage.access.decision import PaymentStatus, PlanKind, Reason
from visage.access.models import CheckinSource
from visage.core.paging import Page
from visage.i18n.context import N_

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class PlanCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: PlanKind
    visits: int | None = Field(default=None, ge=1, le=10_000, description="Visit packs only")
    duration_days: int | None = Field(
        default=None,
        ge=1,
        le=3660,
        description="Fixed terms (required) and visit packs (optional validity)",
    )

    @model_validator(mode="after")
    def _terms_fit_kind(self) -> PlanCreate:
        if self.kind is PlanKind.VISIT_PACK and self.visits is None:
            raise ValueError(N_("a visit pack needs `visits`"))
        if self.kind is not PlanKind.VISIT_PACK and self.visits is not None:
            raise ValueError(N_("only visit packs have `visits`"))
        if self.kind is PlanKind.FIXED_TERM and self.duration_days is None:
            raise ValueError(N_("a fixed term needs `duration_days`"))
        if self.kind is PlanKind.UNLIMITED and self.duration_days is not None:
            raise ValueError(N_("an unlimited plan runs until ended: no `duration_days`"))
        return self


class PlanUpdate(BaseModel):
    """Terms (kind, visits, days) are fixed once sold: create a new plan to change them."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    is_active: bool | None = None


class PlanOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    kind: PlanKind
    visits: int | None
    duration_days: int | None
    is_active: bool
    created_at: datetime


class MembershipCreate(BaseModel):
    plan_id: uuid.UUID
    starts_on: date | None = Field(default=None, description="Default: today (tenant time)")
    ends_on: date | None = Field(default=None, description="Default: from the plan's days")
    visits_remaining: int | None = Field(
        default=None, ge=0, description="Visit packs; default: the plan's visits"
    )
    payment_status: PaymentStatus = PaymentStatus.CURRENT


class MembershipUpdate(BaseModel):
    """Only the fields sent change; `ends_on: null` makes the membership open-ended."""

    ends_on: date | None = None
    visits_remaining: int | None = Field(default=None, ge=0)
    payment_status: PaymentStatus | None = None


class FreezeCreate(BaseModel):
    starts_on: date | None = Field(default=None, description="Default: today (tenant time)")
    ends_on: date | None = Field(default=None, description="Default: until unfrozen")
    reason: str | None = Field(default=None, max_length=500)


class HoldCreate(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class FreezeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    starts_on: date
    ends_on: date | None
    reason: str | None


class MembershipOut(BaseModel):
    id: uuid.UUID
    member_id: uuid.UUID
    plan: PlanOut
    starts_on: date
    ends_on: date | None
    visits_remaining: int | None
    payment_status: PaymentStatus
    on_hold: bool
    hold_reason: str | None
    held_at: datetime | None
    freezes: list[FreezeOut]
    status_today: Reason = Field(description="What the door would say today on this membership")


class IntervalIn(BaseModel):
    opens: time
    closes: time = Field(description="Not after `opens`: closes the next day (00:00-00:00 = 24h)")

    @field_validator("opens", "closes")
    @classmethod
    def _local_time(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError(
                N_(
                    "give a local time such as 06:00, without an offset "
                    "(the schedule's timezone applies)"
                )
            )
        return value


class OpeningHoursIn(BaseModel):
    timezone: str = Field(examples=["Europe/Amsterdam"])
    weekly: dict[Weekday, list[IntervalIn]] = Field(
        description="Intervals per weekday; a missing day is closed",
        examples=[{"monday": [{"opens": "06:00", "closes": "22:00"}]}],
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(N_("unknown IANA time zone (e.g. Europe/Amsterdam)")) from error
        return value

    @field_validator("weekly")
    @classmethod
    def _few_intervals(cls, value: dict[str, list[IntervalIn]]) -> dict[str, list[IntervalIn]]:
        if any(len(intervals) > 8 for intervals in value.values()):
            raise ValueError(N_("at most 8 intervals per day"))
        return value


class OpeningHoursOut(BaseModel):
    timezone: str
    weekly: dict[Weekday, list[IntervalIn]]
    always_open: bool = Field(description="True while no opening hours are set")
    open_now: bool


PIN_PATTERN = r"^[0-9]{4,6}$"


class KioskFrame(BaseModel):
    """The frame `image`, and the PIN when the previous answer was PIN_REQUIRED."""

    model_config = ConfigDict(extra="forbid")
    pin: str | None = Field(
        default=None, pattern=PIN_PATTERN, description="4-6 digits, typed at the kiosk"
    )


class PinIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pin: str = Field(pattern=PIN_PATTERN, description="4-6 digits (stored as an argon2id hash)")


class ManualCheckin(BaseModel):
    member_id: uuid.UUID
    override: str | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="Let the member in despite a refusal, for this reason (audited)",
    )


class MemberBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    full_name: str


class CheckinResult(BaseModel):
    allowed: bool
    reason: Reason
    member: MemberBrief | None
    distance: float | None
    checkin_id: uuid.UUID
    message: str = Field(description="What the kiosk shows")
    visits_remaining: int | None = Field(description="Left on the visit pack used, if any")
    repeat: bool = Field(description="A repeat within the window: not counted as a new visit")
    overridden_reason: Reason | None = Field(description="The refusal staff overrode, if any")


class CheckinOut(BaseModel):
    id: uuid.UUID
    created_at: datetime
    source: CheckinSource
    device_id: uuid.UUID | None
    user_id: uuid.UUID | None
    member_id: uuid.UUID | None
    member_name: str | None
    membership_id: uuid.UUID | None
    allowed: bool
    reason: Reason
    distance: float | None
    overridden_reason: Reason | None
    note: str | None
    counted: bool


CheckinPage = Page[CheckinOut]


class DayVisits(BaseModel):
    date: date
    visits: int


class HourVisits(BaseModel):
    hour: int
    visits: int


class CheckinStats(BaseModel):
    timezone: str
    since: date
    until: date
    attempts: int
    visits: int = Field(description="Granted entries that counted (repeats excluded)")
    visits_per_day: list[DayVisits]
    visits_per_hour: list[HourVisits] = Field(description="Hours 0-23, tenant time")
    peak_hours: list[HourVisits] = Field(description="Busiest hours, busiest first")
    currently_inside: int = Field(description="Members let in today within the visit duration")
    denied_by_reason: dict[Reason, int]
