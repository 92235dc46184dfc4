"""The notices no single request sends: a membership about to end, and a check-in refused
because a payment is due. Periodic sweeps find them and call the one hook; its dedupe key
makes a sweep that runs again (the next tick, a retried job) tell each member once. Each tick
is deferred once however many workers run (Procrastinate's periodic lock).

The denied check-in is found after the fact (within a minute) rather than sent from the
check-in itself: the kiosk's answer never waits on messaging, and a refused check-in stays a
plain row of the access domain.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session, aliased

from visage.access.decision import PaymentStatus, Reason
from visage.access.models import Checkin, Membership
from visage.config import Settings
from visage.members.models import Member
from visage.notifications.service import NotificationKind, notify

logger = logging.getLogger(__name__)

# A refused check-in older than this is not news any more (the sweep runs every minute).
DENIED_LOOKBACK = timedelta(hours=1)


@dataclass(frozen=True)
class SweepResult:
    found: int
    told: int


def _link(settings: Settings) -> str:
    return f"{settings.public_base_url.rstrip('/')}/app/me"


def expiring_memberships(session: Session, today: date, days: int) -> list[Membership]:
    """Memberships of active members that end within `days` and that nothing continues: no
    other membership of the member starts by the day after and runs longer."""
    later = aliased(Membership)
    continued = exists().where(
        later.member_id == Membership.member_id,
        later.id != Membership.id,
        later.starts_on <= Membership.ends_on + 1,
        or_(later.ends_on.is_(None), later.ends_on > Membership.ends_on),
    )
    statement = (
        select(Membership)
        .join(Member, and_(Member.id == Membership.member_id, Member.is_active.is_(True)))
        .where(
            Membership.ends_on.is_not(None),
            Membership.ends_on >= today,
            Membership.ends_on <= today + timedelta(days=days),
            Membership.starts_on <= today,
            Membership.payment_status != PaymentStatus.LAPSED,
            ~continued,
        )
        .order_by(Membership.ends_on)
        .limit(1000)
    )
    return list(session.scalars(statement).unique())


def tell_expiring(session: Session, settings: Settings, today: date) -> SweepResult:
    days = settings.notify_membership_expiring_days
    if days == 0:
        return SweepResult(0, 0)
    found = expiring_memberships(session, today, days)
    told = 0
    for membership in found:
        assert membership.ends_on is not None
        notified = notify(
            session,
            tenant_id=membership.tenant_id,
            member_id=membership.member_id,
            kind=NotificationKind.MEMBERSHIP_EXPIRING,
            variables={"end_date": membership.ends_on.isoformat(), "link": _link(settings)},
            dedupe_key=f"membership:{membership.id}:{membership.ends_on.isoformat()}",
        )
        told += notified.channel is not None and not notified.repeated
    return SweepResult(len(found), told)


def denied_for_payment(session: Session, since: datetime) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(tenant, member) of the check-ins refused since then because a payment is overdue."""
    statement = (
        select(Checkin.tenant_id, Checkin.member_id)
        .where(
            Checkin.created_at >= since,
            Checkin.allowed.is_(False),
            Checkin.reason == Reason.OVERDUE,
            Checkin.member_id.is_not(None),
        )
        .distinct()
    )
    rows = session.execute(statement)
    return [(tenant_id, member_id) for tenant_id, member_id in rows if member_id is not None]


def tell_denied(session: Session, settings: Settings, now: datetime) -> SweepResult:
    found = denied_for_payment(session, now - DENIED_LOOKBACK)
    told = 0
    for tenant_id, member_id in found:
        notified = notify(
            session,
            tenant_id=tenant_id,
            member_id=member_id,
            kind=NotificationKind.CHECKIN_DENIED_PAYMENT,
            variables={"link": _link(settings)},
            # Once a day: three tries at the door are one problem, not three messages.
            dedupe_key=f"checkin-denied:{member_id}:{now.date().isoformat()}",
        )
        told += notified.channel is not None and not notified.repeated
    return SweepResult(len(found), told)
