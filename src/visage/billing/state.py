"""The one place where a Stripe subscription's status becomes a membership's state.

The kiosk's decision (access/decision.py) reads only the membership: payment status,
end date and freezes. This module writes exactly those, from what Stripe says now:

| Stripe                                   | membership                                  |
|------------------------------------------|---------------------------------------------|
| `active`, `trialing`                     | current (a cancellation at period end keeps |
|                                          | `active`: the member keeps the paid period) |
| `past_due`                               | current for the grace period, then OVERDUE  |
| `unpaid`, `incomplete`, `incomplete_expired` | OVERDUE, with the reason in words       |
| `canceled`                               | ends now (EXPIRED)                          |
| `paused`, or collection paused           | FROZEN until it resumes                     |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from visage.access.decision import PaymentStatus
from visage.access.models import Membership, MembershipFreeze
from visage.billing.stripe_objects import StripeSubscription

# Freezes made by billing carry this reason, so billing only ever lifts its own.
BILLING_FREEZE_REASON = "Payments paused in Stripe"

# The statuses whose reason is the status itself (billing.reasons puts them in words).
OVERDUE_REASONS = ("unpaid", "incomplete", "incomplete_expired")


@dataclass(frozen=True)
class DoorState:
    payment_status: PaymentStatus
    frozen: bool = False
    ended: bool = False
    # Why the door says so, for billing.reasons: {"code": ..., and its facts}.
    problem: dict[str, str] | None = None


def door_state(
    subscription: StripeSubscription,
    *,
    past_due_since: datetime | None,
    now: datetime,
    grace_days: int,
) -> DoorState:
    status = subscription.status
    if status == "canceled":
        return DoorState(PaymentStatus.LAPSED, ended=True, problem={"code": "canceled"})
    if subscription.paused or status == "paused":
        return DoorState(PaymentStatus.CURRENT, frozen=True)
    if status in ("active", "trialing"):
        return DoorState(PaymentStatus.CURRENT)
    if status == "past_due":
        since = past_due_since or now
        grace_ends = since + timedelta(days=grace_days)
        if now < grace_ends:
            return DoorState(
                PaymentStatus.CURRENT,
                problem={"code": "grace", "date": grace_ends.date().isoformat()},
            )
        return DoorState(
            PaymentStatus.OVERDUE,
            problem={"code": "grace_over", "date": since.date().isoformat()},
        )
    if status in OVERDUE_REASONS:
        return DoorState(PaymentStatus.OVERDUE, problem={"code": status})
    return DoorState(PaymentStatus.OVERDUE, problem={"code": "other_status", "status": status})


def apply_to_membership(
    membership: Membership, state: DoorState, *, today: date, resumes_on: date | None
) -> dict[str, Any]:
    """Make the membership say what `state` says; returns what changed (old, new)."""
    changes: dict[str, Any] = {}
    if membership.payment_status is not state.payment_status:
        changes["payment_status"] = (membership.payment_status.value, state.payment_status.value)
        membership.payment_status = state.payment_status
    if state.ended and (membership.ends_on is None or membership.ends_on > today):
        changes["ends_on"] = (str(membership.ends_on), str(today))
        membership.ends_on = today
    ours = [f for f in membership.freezes if f.reason == BILLING_FREEZE_REASON]
    current = [f for f in ours if f.ends_on is None or f.ends_on >= today]
    until = resumes_on - timedelta(days=1) if resumes_on else None
    if state.frozen and not current:
        membership.freezes.append(
            MembershipFreeze(
                tenant_id=membership.tenant_id,
                starts_on=today,
                ends_on=until,
                reason=BILLING_FREEZE_REASON,
            )
        )
        changes["frozen"] = (False, True)
    elif state.frozen and current[0].ends_on != until:
        current[0].ends_on = until
    elif not state.frozen and current:
        for period in current:
            if period.starts_on >= today:
                membership.freezes.remove(period)
            else:
                period.ends_on = today - timedelta(days=1)
        changes["frozen"] = (True, False)
    return changes
