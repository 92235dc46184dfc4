"""Monthly AI credits per tenant: a credit is reserved (committed) before a provider is called
and refunded if the call fails; owners are told at 80 %; a month starts on the 1st in the
tenant's zone (a new period row, so the reset needs no job and survives DST)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from visage.config import Settings
from visage.i18n.context import gettext, using
from visage.i18n.formatting import format_date
from visage.i18n.preferences import locale_for_user
from visage.identity.email import send_email
from visage.identity.models import Role, User
from visage.publishing import posts
from visage.publishing.errors import AiCreditsExhausted
from visage.publishing.models import AiCreditPeriod, AiGeneration, PublishingSettings

ALERT_SHARE = 0.8


def tenant_zone(session: Session, tenant_id: uuid.UUID) -> ZoneInfo:
    row = session.get(PublishingSettings, tenant_id)
    return ZoneInfo(row.timezone if row else "UTC")


def month_start(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date().replace(day=1)


def next_reset(period_start: date, zone: ZoneInfo) -> datetime:
    year, month = (
        (period_start.year + 1, 1)
        if period_start.month == 12
        else (period_start.year, period_start.month + 1)
    )
    return datetime.combine(date(year, month, 1), time(0), zone).astimezone(UTC)


def _limit(session: Session, tenant_id: uuid.UUID, settings: Settings) -> int:
    row = session.get(PublishingSettings, tenant_id)
    if row is not None and row.monthly_ai_credits is not None:
        return row.monthly_ai_credits
    return settings.ai_monthly_credits


def current_period(
    session: Session, tenant_id: uuid.UUID, settings: Settings, now: datetime
) -> AiCreditPeriod:
    start = month_start(now, tenant_zone(session, tenant_id))
    session.execute(
        insert(AiCreditPeriod)
        .values(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            period_start=start,
            credits_limit=_limit(session, tenant_id, settings),
            credits_used=0,
        )
        .on_conflict_do_nothing(constraint="uq_ai_credit_periods_tenant_period")
    )
    return session.scalars(
        select(AiCreditPeriod)
        .where(AiCreditPeriod.tenant_id == tenant_id, AiCreditPeriod.period_start == start)
        .execution_options(populate_existing=True)
    ).one()


@dataclass(frozen=True)
class CreditsView:
    used: int
    limit: int
    remaining: int
    resets_at: datetime


def view(session: Session, tenant_id: uuid.UUID, settings: Settings, now: datetime) -> CreditsView:
    period = current_period(session, tenant_id, settings, now)
    return CreditsView(
        period.credits_used,
        period.credits_limit,
        max(0, period.credits_limit - period.credits_used),
        next_reset(period.period_start, tenant_zone(session, tenant_id)),
    )


def _alert_owners(session: Session, period: AiCreditPeriod, resets_at: datetime) -> None:
    owners = session.scalars(
        select(User).where(User.tenant_id == period.tenant_id, User.role == Role.TENANT_OWNER)
    )
    for owner in owners:
        with using(locale_for_user(session, owner)):
            send_email(
                session,
                to=owner.email,
                subject=gettext("80 % of this month's AI credits are used"),
                body=gettext("{used} of {limit} AI credits are used; they reset on {date}.").format(
                    used=period.credits_used,
                    limit=period.credits_limit,
                    date=format_date(resets_at.date()),
                ),
            )


def reserve(
    session: Session,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID | None,
    kind: str,
    settings: Settings,
    now: datetime,
) -> uuid.UUID:
    """Take one credit (atomically) and return the generation that holds it."""
    period = current_period(session, tenant_id, settings, now)
    resets_at = next_reset(period.period_start, tenant_zone(session, tenant_id))
    taken = session.execute(
        update(AiCreditPeriod)
        .where(
            AiCreditPeriod.id == period.id,
            AiCreditPeriod.credits_used < AiCreditPeriod.credits_limit,
        )
        .values(credits_used=AiCreditPeriod.credits_used + 1)
        .returning(AiCreditPeriod.credits_used)
    ).scalar_one_or_none()
    if taken is None:
        raise AiCreditsExhausted(
            f"This month's {period.credits_limit} AI credits are used up; they reset on "
            f"{resets_at.date().isoformat()}.",
            details={"limit": period.credits_limit, "resets_at": resets_at.isoformat()},
        )
    session.refresh(period)
    if period.alert_sent_at is None and taken >= ALERT_SHARE * period.credits_limit:
        period.alert_sent_at = now
        _alert_owners(session, period, resets_at)
    generation = AiGeneration(
        tenant_id=tenant_id, period_id=period.id, user_id=user_id, kind=kind, state="reserved"
    )
    session.add(generation)
    session.flush()
    return generation.id


def settle(session: Session, generation_id: uuid.UUID, provider: str) -> None:
    generation = session.get_one(AiGeneration, generation_id)
    generation.state, generation.provider = "succeeded", provider


def refund(session: Session, generation_id: uuid.UUID) -> None:
    generation = session.get_one(AiGeneration, generation_id, with_for_update=True)
    if generation.state != "reserved":
        return
    generation.state = "refunded"
    session.execute(
        update(AiCreditPeriod)
        .where(AiCreditPeriod.id == generation.period_id)
        .values(credits_used=AiCreditPeriod.credits_used - 1)
    )


def _settings_row(session: Session, tenant_id: uuid.UUID) -> PublishingSettings:
    row = session.get(PublishingSettings, tenant_id)
    if row is None:
        row = PublishingSettings(tenant_id=tenant_id, timezone="UTC")
        session.add(row)
    return row


def set_timezone(session: Session, tenant_id: uuid.UUID, zone_name: str) -> str:
    """The tenant's zone: where its credit months start (validated as an IANA name)."""
    posts.zone(zone_name)
    _settings_row(session, tenant_id).timezone = zone_name
    session.flush()
    return zone_name


def set_monthly_credits(
    session: Session,
    tenant_id: uuid.UUID,
    credits_per_month: int,
    settings: Settings,
    now: datetime,
) -> None:
    """A tenant's own monthly allowance (its plan); the current month gets it at once."""
    _settings_row(session, tenant_id).monthly_ai_credits = credits_per_month
    session.flush()
    current_period(session, tenant_id, settings, now).credits_limit = credits_per_month
