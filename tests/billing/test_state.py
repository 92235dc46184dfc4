"""The one mapping from a Stripe subscription to what the door decides, over every status."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from visage.access.decision import (
    Attempt,
    FreezeSpan,
    MembershipFacts,
    PaymentStatus,
    PlanKind,
    Reason,
    decide,
)
from visage.access.models import Membership
from visage.billing.state import BILLING_FREEZE_REASON, apply_to_membership, door_state
from visage.billing.stripe_objects import StripeSubscription

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
TODAY = NOW.date()


def remote(
    status: str, *, paused: bool = False, resumes_at: datetime | None = None
) -> StripeSubscription:
    return StripeSubscription(
        id="sub_1",
        customer_id="cus_1",
        status=status,
        current_period_end=NOW + timedelta(days=30),
        cancel_at_period_end=False,
        paused=paused,
        resumes_at=resumes_at,
        latest_invoice_id=None,
        metadata={},
    )


def door(status: str, *, past_due_for: timedelta | None = None, paused: bool = False) -> Reason:
    """The kiosk's answer for a member whose only membership Stripe drives."""
    since = NOW - past_due_for if past_due_for is not None else None
    subscription = remote(status, paused=paused)
    state = door_state(subscription, past_due_since=since, now=NOW, grace_days=3)
    membership = Membership(
        id=uuid.uuid4(),
        tenant_id=uuid.uuid4(),
        starts_on=TODAY - timedelta(days=40),
        ends_on=None,
        payment_status=PaymentStatus.CURRENT,
        freezes=[],
    )
    apply_to_membership(membership, state, today=TODAY, resumes_on=None)
    facts = MembershipFacts(
        id=membership.id,
        kind=PlanKind.UNLIMITED,
        starts_on=membership.starts_on,
        ends_on=membership.ends_on,
        visits_remaining=None,
        payment_status=membership.payment_status,
        on_hold=False,
        freezes=tuple(FreezeSpan(f.starts_on, f.ends_on) for f in membership.freezes),
    )
    attempt = Attempt("MATCH", True, TODAY, True, False, (facts,))
    return decide(attempt).reason


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("active", Reason.GRANTED),
        ("trialing", Reason.GRANTED),
        ("unpaid", Reason.OVERDUE),
        ("incomplete", Reason.OVERDUE),
        ("incomplete_expired", Reason.OVERDUE),
        ("canceled", Reason.EXPIRED),
        ("paused", Reason.FROZEN),
        ("some_future_status", Reason.OVERDUE),
    ],
)
def test_each_stripe_status_reaches_the_door(status: str, reason: Reason) -> None:
    assert door(status) is reason


def test_past_due_keeps_the_door_open_for_the_grace_period_only() -> None:
    assert door("past_due", past_due_for=timedelta(days=2, hours=23)) is Reason.GRANTED
    assert door("past_due", past_due_for=timedelta(days=3)) is Reason.OVERDUE


def test_paused_collection_freezes_an_active_subscription() -> None:
    assert door("active", paused=True) is Reason.FROZEN


def test_a_billing_freeze_is_lifted_on_resume_and_a_staff_freeze_is_kept() -> None:
    membership = Membership(
        tenant_id=uuid.uuid4(),
        starts_on=date(2026, 1, 1),
        payment_status=PaymentStatus.CURRENT,
        freezes=[],
    )
    resumes_on = TODAY + timedelta(days=14)
    frozen = door_state(
        remote("active", paused=True, resumes_at=NOW + timedelta(days=14)),
        past_due_since=None,
        now=NOW,
        grace_days=3,
    )
    assert apply_to_membership(membership, frozen, today=TODAY, resumes_on=resumes_on) == {
        "frozen": (False, True)
    }
    assert membership.freezes[0].ends_on == resumes_on - timedelta(days=1)
    assert membership.freezes[0].reason == BILLING_FREEZE_REASON
    # Applying the same state again changes nothing (events arrive twice).
    assert apply_to_membership(membership, frozen, today=TODAY, resumes_on=resumes_on) == {}

    later = TODAY + timedelta(days=3)
    active = door_state(remote("active"), past_due_since=None, now=NOW, grace_days=3)
    assert apply_to_membership(membership, active, today=later, resumes_on=None) == {
        "frozen": (True, False)
    }
    assert membership.freezes[0].ends_on == later - timedelta(days=1)


def test_cancellation_ends_the_membership_today() -> None:
    membership = Membership(
        tenant_id=uuid.uuid4(),
        starts_on=date(2026, 1, 1),
        payment_status=PaymentStatus.CURRENT,
        freezes=[],
    )
    state = door_state(remote("canceled"), past_due_since=None, now=NOW, grace_days=3)
    changes = apply_to_membership(membership, state, today=TODAY, resumes_on=None)
    assert changes == {"payment_status": ("current", "lapsed"), "ends_on": ("None", str(TODAY))}
