"""The door's decision: one example per reason, the precedence between them, and properties
checked over generated attempts (hypothesis) against rules restated independently here."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from visage.access.decision import (
    Attempt,
    FreezeSpan,
    MembershipFacts,
    PaymentStatus,
    PlanKind,
    Reason,
    decide,
    override,
)

TODAY = date(2026, 11, 22)
DAY = timedelta(days=1)


def membership(**changes: object) -> MembershipFacts:
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "kind": PlanKind.UNLIMITED,
        "starts_on": TODAY - 30 * DAY,
        "ends_on": None,
        "visits_remaining": None,
        "payment_status": PaymentStatus.CURRENT,
        "on_hold": False,
        "freezes": (),
    }
    fields.update(changes)
    return MembershipFacts(**fields)  # type: ignore[arg-type]


def attempt(*memberships: MembershipFacts, **changes: object) -> Attempt:
    fields: dict[str, object] = {
        "identification": "MATCH",
        "member_active": True,
        "today": TODAY,
        "open_now": True,
        "repeat": False,
        "memberships": memberships,
    }
    fields.update(changes)
    return Attempt(**fields)  # type: ignore[arg-type]


def pack(visits: int, **changes: object) -> MembershipFacts:
    return membership(kind=PlanKind.VISIT_PACK, visits_remaining=visits, **changes)


# ---------------------------------------------------------------- one example per reason


def test_a_current_membership_is_granted() -> None:
    current = membership()
    decision = decide(attempt(current))
    assert decision.allowed
    assert decision.reason is Reason.GRANTED
    assert decision.membership_id == current.id
    assert not decision.uses_visit


def test_identity_reasons_come_first() -> None:
    for outcome in ("UNKNOWN_FACE", "LOW_CONFIDENCE"):
        decision = decide(attempt(membership(), identification=outcome, open_now=False))
        assert decision.reason is Reason(outcome)
        assert not decision.allowed
        assert decision.membership_id is None


def test_closed_door_refuses_everyone_identified() -> None:
    assert decide(attempt(membership(), open_now=False)).reason is Reason.OUTSIDE_HOURS


def test_no_membership_when_none_has_started_or_the_member_is_inactive() -> None:
    assert decide(attempt()).reason is Reason.NO_MEMBERSHIP
    assert decide(attempt(membership(starts_on=TODAY + DAY))).reason is Reason.NO_MEMBERSHIP
    assert decide(attempt(membership(), member_active=False)).reason is Reason.NO_MEMBERSHIP


def test_expired_by_date_or_lapsed_payment() -> None:
    assert decide(attempt(membership(ends_on=TODAY - DAY))).reason is Reason.EXPIRED
    assert decide(attempt(membership(ends_on=TODAY))).allowed  # the last day is valid
    lapsed = membership(payment_status=PaymentStatus.LAPSED)
    assert decide(attempt(lapsed)).reason is Reason.EXPIRED


def test_frozen_only_during_the_freeze() -> None:
    frozen = membership(freezes=(FreezeSpan(TODAY - DAY, TODAY + DAY),))
    assert decide(attempt(frozen)).reason is Reason.FROZEN
    open_ended = membership(freezes=(FreezeSpan(TODAY, None),))
    assert decide(attempt(open_ended)).reason is Reason.FROZEN
    over = membership(freezes=(FreezeSpan(TODAY - 5 * DAY, TODAY - DAY),))
    assert decide(attempt(over)).allowed


def test_overdue_payment() -> None:
    overdue = membership(payment_status=PaymentStatus.OVERDUE)
    assert decide(attempt(overdue)).reason is Reason.OVERDUE


def test_visit_pack_uses_a_visit_until_none_is_left() -> None:
    decision = decide(attempt(pack(1)))
    assert decision.allowed
    assert decision.uses_visit
    assert decide(attempt(pack(0))).reason is Reason.NO_VISITS_LEFT


def test_a_repeat_of_an_empty_pack_is_let_in_without_using_a_visit() -> None:
    decision = decide(attempt(pack(0), repeat=True))
    assert decision.allowed
    assert not decision.uses_visit


def test_staff_hold_wins_over_another_valid_membership() -> None:
    held = membership(on_hold=True)
    assert decide(attempt(held, membership())).reason is Reason.STAFF_HOLD


def test_a_hold_on_an_ended_membership_no_longer_stops_anyone() -> None:
    old = membership(on_hold=True, ends_on=TODAY - 10 * DAY)
    assert decide(attempt(old, membership())).allowed


def test_the_refusal_closest_to_granting_is_given() -> None:
    expired = membership(ends_on=TODAY - DAY)
    frozen = membership(freezes=(FreezeSpan(TODAY, None),))
    overdue = membership(payment_status=PaymentStatus.OVERDUE)
    assert decide(attempt(expired, frozen)).reason is Reason.FROZEN
    assert decide(attempt(expired, overdue)).reason is Reason.OVERDUE
    assert decide(attempt(expired, pack(0))).reason is Reason.NO_VISITS_LEFT
    assert decide(attempt(overdue, frozen)).reason is Reason.FROZEN


def test_an_unlimited_membership_is_used_before_a_visit_pack() -> None:
    unlimited = membership()
    decision = decide(attempt(pack(5), unlimited))
    assert decision.membership_id == unlimited.id
    assert not decision.uses_visit


def test_the_pack_that_ends_first_is_used_first() -> None:
    later = pack(5, ends_on=TODAY + 60 * DAY)
    sooner = pack(5, ends_on=TODAY + 5 * DAY)
    assert decide(attempt(later, sooner)).membership_id == sooner.id


def test_staff_override_lets_a_refused_member_in_on_no_membership() -> None:
    refused = decide(attempt(pack(0)))
    overridden = override(refused)
    assert overridden.allowed
    assert overridden.overrides is Reason.NO_VISITS_LEFT
    assert overridden.membership_id is None
    assert not overridden.uses_visit
    granted = decide(attempt(pack(2)))
    assert override(granted) == granted


# ---------------------------------------------------------------- properties

offsets = st.integers(min_value=-6, max_value=6).map(lambda n: TODAY + n * DAY)


@st.composite
def freeze_spans(draw: st.DrawFn) -> FreezeSpan:
    starts_on = draw(offsets)
    length = draw(st.none() | st.integers(min_value=0, max_value=4))
    return FreezeSpan(starts_on, None if length is None else starts_on + length * DAY)


@st.composite
def memberships_facts(draw: st.DrawFn, *, holds: bool = True) -> MembershipFacts:
    kind = draw(st.sampled_from(PlanKind))
    starts_on = draw(offsets)
    ends_on = draw(st.none() | offsets.filter(lambda d: d >= starts_on))
    return MembershipFacts(
        id=uuid.UUID(int=draw(st.integers(min_value=0, max_value=2**64))),
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        visits_remaining=(
            draw(st.integers(min_value=0, max_value=2)) if kind is PlanKind.VISIT_PACK else None
        ),
        payment_status=draw(st.sampled_from(PaymentStatus)),
        on_hold=holds and draw(st.booleans()),
        freezes=tuple(draw(st.lists(freeze_spans(), max_size=2))),
    )


attempts = st.builds(
    Attempt,
    identification=st.sampled_from(["MATCH", "MATCH", "MATCH", "UNKNOWN_FACE", "LOW_CONFIDENCE"]),
    member_active=st.booleans(),
    today=st.just(TODAY),
    open_now=st.booleans(),
    repeat=st.booleans(),
    memberships=st.lists(memberships_facts(), max_size=4).map(tuple),
)
# Identified members at an open door with no hold: only their memberships decide.
unheld_attempts = st.builds(
    Attempt,
    identification=st.just("MATCH"),
    member_active=st.just(True),
    today=st.just(TODAY),
    open_now=st.just(True),
    repeat=st.booleans(),
    memberships=st.lists(memberships_facts(holds=False), max_size=4).map(tuple),
)


def admits_today(m: MembershipFacts, today: date, repeat: bool) -> bool:
    """The rules restated plainly: what a valid membership looks like today."""
    in_term = m.starts_on <= today and (m.ends_on is None or today <= m.ends_on)
    frozen = any(
        f.starts_on <= today and (f.ends_on is None or today <= f.ends_on) for f in m.freezes
    )
    paid = m.payment_status is PaymentStatus.CURRENT
    has_visit = m.kind is not PlanKind.VISIT_PACK or repeat or (m.visits_remaining or 0) > 0
    return in_term and not frozen and paid and has_visit


def held_now(m: MembershipFacts, today: date) -> bool:
    still_running = m.ends_on is None or today <= m.ends_on
    return (
        m.on_hold
        and m.starts_on <= today
        and still_running
        and m.payment_status is not PaymentStatus.LAPSED
    )


@settings(max_examples=150, deadline=None)
@given(attempts)
def test_granted_exactly_when_the_plain_rules_say_so(case: Attempt) -> None:
    expected = (
        case.identification == "MATCH"
        and case.open_now
        and case.member_active
        and not any(held_now(m, case.today) for m in case.memberships)
        and any(admits_today(m, case.today, case.repeat) for m in case.memberships)
    )
    decision = decide(case)
    assert decision.allowed is expected
    assert (decision.reason is Reason.GRANTED) is expected


@settings(max_examples=100, deadline=None)
@given(attempts, st.randoms(use_true_random=False))
def test_the_order_of_memberships_does_not_matter(case: Attempt, rng: random.Random) -> None:
    shuffled = list(case.memberships)
    rng.shuffle(shuffled)
    reordered = Attempt(**{**case.__dict__, "memberships": tuple(shuffled)})
    assert decide(reordered) == decide(case)


@settings(max_examples=150, deadline=None)
@given(attempts)
def test_precedence_of_identity_hours_membership_and_hold(case: Attempt) -> None:
    reason = decide(case).reason
    started = [m for m in case.memberships if m.starts_on <= case.today]
    if case.identification != "MATCH":
        assert reason is Reason(case.identification)
    elif not case.open_now:
        assert reason is Reason.OUTSIDE_HOURS
    elif not case.member_active or not started:
        assert reason is Reason.NO_MEMBERSHIP
    elif any(held_now(m, case.today) for m in case.memberships):
        assert reason is Reason.STAFF_HOLD
    else:
        assert reason not in {Reason.UNKNOWN_FACE, Reason.LOW_CONFIDENCE, Reason.STAFF_HOLD}


@settings(max_examples=150, deadline=None)
@given(attempts)
def test_visits_are_used_only_from_a_granting_visit_pack_and_never_on_repeat(
    case: Attempt,
) -> None:
    decision = decide(case)
    chosen = next((m for m in case.memberships if m.id == decision.membership_id), None)
    if decision.uses_visit:
        assert decision.allowed
        assert not case.repeat
        assert chosen is not None
        assert chosen.kind is PlanKind.VISIT_PACK
        assert (chosen.visits_remaining or 0) > 0
        # A visit is spent only when nothing unlimited would have let the member in.
        assert not any(
            m.kind is not PlanKind.VISIT_PACK and admits_today(m, case.today, case.repeat)
            for m in case.memberships
        )
    if case.repeat:
        assert decision.reason is not Reason.NO_VISITS_LEFT
    assert (chosen is not None) is decision.allowed


@settings(max_examples=150, deadline=None)
@given(unheld_attempts)
def test_adding_a_valid_membership_admits_anyone_identified_and_not_held(case: Attempt) -> None:
    with_valid = Attempt(**{**case.__dict__, "memberships": (*case.memberships, membership())})
    assert decide(with_valid).allowed
