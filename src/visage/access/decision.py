"""Whether a person may enter, and why not: one pure function over plain facts.

No database and no clock here: the service gathers the facts (who the face is, the member's
memberships, whether the gym is open now, whether this is a repeat) and `decide` applies the
rules in one fixed order, so the same facts always give the same answer.

Precedence, first match wins:

1. `UNKNOWN_FACE`, `LOW_CONFIDENCE`, `PIN_REQUIRED` (the face narrowed it to a few members:
   the kiosk asks for a PIN), `WRONG_PIN`: nothing is known about who is at the door.
2. `OUTSIDE_HOURS`: the door is closed for everyone (kiosk check-ins only; a staff member
   checking someone in by hand is on site, so the gym is open).
3. `NO_MEMBERSHIP`: the member is inactive or has no membership that has started.
4. `STAFF_HOLD`: staff stopped the member on a membership that has not ended; it wins over
   every other membership, or a second membership would walk around the hold.
5. Otherwise each started membership is judged on its own (ended or lapsed -> `EXPIRED`,
   frozen today -> `FROZEN`, payment overdue -> `OVERDUE`, visit pack used up ->
   `NO_VISITS_LEFT`, else `GRANTED`). Any membership that grants lets the member in; if none
   does, the reason of the membership closest to granting is given, in the order
   `FROZEN`, `OVERDUE`, `NO_VISITS_LEFT`, `EXPIRED` (a frozen current membership says more
   than an old expired one).

Staff at the front desk may override a refusal (`override`): the member is let in on no
membership, spending no visit, and the refused reason is kept beside the entry.

A repeat (a counted visit of the same member within the repeat window) never uses a visit:
the visit-pack check is skipped and no visit is consumed.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from visage.i18n.context import N_


class Reason(enum.StrEnum):
    GRANTED = "GRANTED"
    UNKNOWN_FACE = "UNKNOWN_FACE"
    LOW_CONFIDENCE = "LOW_CONFIDENCE"
    NO_MEMBERSHIP = "NO_MEMBERSHIP"
    EXPIRED = "EXPIRED"
    FROZEN = "FROZEN"
    OVERDUE = "OVERDUE"
    NO_VISITS_LEFT = "NO_VISITS_LEFT"
    OUTSIDE_HOURS = "OUTSIDE_HOURS"
    STAFF_HOLD = "STAFF_HOLD"
    PIN_REQUIRED = "PIN_REQUIRED"
    WRONG_PIN = "WRONG_PIN"


class PlanKind(enum.StrEnum):
    UNLIMITED = "unlimited"  # unlimited visits, runs until ended
    VISIT_PACK = "visit_pack"  # N visits, optionally valid for a number of days
    FIXED_TERM = "fixed_term"  # unlimited visits for a number of days


class PaymentStatus(enum.StrEnum):
    """Driven by billing (Stripe webhooks) or by staff."""

    CURRENT = "current"
    OVERDUE = "overdue"  # -> OVERDUE
    LAPSED = "lapsed"  # -> EXPIRED


Identification = Literal["MATCH", "UNKNOWN_FACE", "LOW_CONFIDENCE", "PIN_REQUIRED", "WRONG_PIN"]

# What the kiosk shows (translated where it is sent); it never says why staff put a hold on
# someone.
KIOSK_MESSAGES: dict[Reason, str] = {
    Reason.GRANTED: N_("Welcome!"),
    Reason.UNKNOWN_FACE: N_("We do not recognize you: please see the front desk."),
    Reason.LOW_CONFIDENCE: N_(
        "We could not confirm who you are: look at the camera and try again."
    ),
    Reason.NO_MEMBERSHIP: N_("No active membership: please see the front desk."),
    Reason.EXPIRED: N_("Your membership has expired: renew it at the front desk."),
    Reason.FROZEN: N_("Your membership is frozen."),
    Reason.OVERDUE: N_("Your payment is overdue: please see the front desk."),
    Reason.NO_VISITS_LEFT: N_("No visits left on your pack: get a new one at the front desk."),
    Reason.OUTSIDE_HOURS: N_("We are closed right now: see the opening hours."),
    Reason.STAFF_HOLD: N_("Please see the front desk."),
    Reason.PIN_REQUIRED: N_("Enter your PIN"),
    Reason.WRONG_PIN: N_("Wrong PIN: look at the camera and try again."),
}

# Among memberships that all refuse, the reason of the one closest to granting is given.
_CLOSEST_FIRST = (Reason.FROZEN, Reason.OVERDUE, Reason.NO_VISITS_LEFT, Reason.EXPIRED)


@dataclass(frozen=True)
class FreezeSpan:
    starts_on: date
    ends_on: date | None  # None: frozen until staff unfreezes

    def covers(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


@dataclass(frozen=True)
class MembershipFacts:
    id: uuid.UUID
    kind: PlanKind
    starts_on: date
    ends_on: date | None  # last valid day (inclusive); None: open-ended
    visits_remaining: int | None  # visit packs only
    payment_status: PaymentStatus
    on_hold: bool
    freezes: tuple[FreezeSpan, ...] = ()

    def started(self, today: date) -> bool:
        return self.starts_on <= today

    def ended(self, today: date) -> bool:
        return (
            self.ends_on is not None and self.ends_on < today
        ) or self.payment_status is PaymentStatus.LAPSED

    def status(self, today: date, *, repeat: bool) -> Reason:
        """This membership's own answer for a member who started it before `today`."""
        if self.ended(today):
            return Reason.EXPIRED
        if any(span.covers(today) for span in self.freezes):
            return Reason.FROZEN
        if self.payment_status is PaymentStatus.OVERDUE:
            return Reason.OVERDUE
        if self.kind is PlanKind.VISIT_PACK and not repeat and (self.visits_remaining or 0) <= 0:
            return Reason.NO_VISITS_LEFT
        return Reason.GRANTED


@dataclass(frozen=True)
class Attempt:
    identification: Identification
    member_active: bool
    today: date  # in the tenant's time zone
    open_now: bool
    repeat: bool
    memberships: Sequence[MembershipFacts]


@dataclass(frozen=True)
class Decision:
    reason: Reason
    # The membership that let the member in, and whether this entry uses one of its visits.
    membership_id: uuid.UUID | None = None
    uses_visit: bool = False
    # The refusal staff overrode to let the member in.
    overrides: Reason | None = None

    @property
    def allowed(self) -> bool:
        return self.reason is Reason.GRANTED


def override(decision: Decision) -> Decision:
    """Staff let a refused member in anyway; a granted decision stays as it is."""
    return decision if decision.allowed else Decision(Reason.GRANTED, overrides=decision.reason)


def _granting_preference(membership: MembershipFacts) -> tuple[bool, date, str]:
    # Spend no visit when an unlimited membership also grants; among visit packs, use the
    # one that ends first. The id makes the choice independent of the input order.
    return (
        membership.kind is PlanKind.VISIT_PACK,
        membership.ends_on or date.max,
        str(membership.id),
    )


def decide(attempt: Attempt) -> Decision:
    if attempt.identification != "MATCH":
        return Decision(Reason(attempt.identification))
    if not attempt.open_now:
        return Decision(Reason.OUTSIDE_HOURS)
    started = [m for m in attempt.memberships if m.started(attempt.today)]
    if not attempt.member_active or not started:
        return Decision(Reason.NO_MEMBERSHIP)
    if any(m.on_hold and not m.ended(attempt.today) for m in started):
        return Decision(Reason.STAFF_HOLD)
    statuses = [(m, m.status(attempt.today, repeat=attempt.repeat)) for m in started]
    granting = [m for m, status in statuses if status is Reason.GRANTED]
    if granting:
        chosen = min(granting, key=_granting_preference)
        return Decision(
            Reason.GRANTED,
            membership_id=chosen.id,
            uses_visit=chosen.kind is PlanKind.VISIT_PACK and not attempt.repeat,
        )
    return Decision(min((status for _, status in statuses), key=_CLOSEST_FIRST.index))
