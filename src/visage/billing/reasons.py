"""The front desk's payment reason: kept as a code and its facts (Stripe's decline message as
Stripe gave it), put in words in the reader's language only when it is shown."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from visage.i18n.context import N_, gettext
from visage.i18n.formatting import format_date

HEADLINES = {
    "unpaid": N_("Unpaid: Stripe stopped retrying the card; take a new payment method."),
    "incomplete": N_("First payment not completed: the card was declined or needs authentication."),
    "incomplete_expired": N_("First payment never completed: subscribe again with another card."),
    "canceled": N_("Subscription canceled."),
    "grace": N_("Payment failed: grace period until {date}."),
    "grace_over": N_("Payment failed on {date}; the grace period is over."),
    "other_status": N_("Stripe status '{status}'."),
    "pending": N_("Payment pending"),
}
CONFIRM_WITH_BANK = N_("the bank asks the member to confirm the payment")
# A reason stored as English words before reasons were codes (migration 0021), shown as it was
# until the next reconciliation or Stripe event stores its code.
WRITTEN_BEFORE_CODES = "as_written"


def payment_reason(
    door_reason: Mapping[str, str] | None,
    card_problem: str | None,
    *,
    confirm_with_bank: bool,
) -> dict[str, Any] | None:
    """What is stored: the door state's reason (`code` and its facts), with why the payment
    waits: the card's decline message and whether the bank asks to confirm."""
    if door_reason is None and not confirm_with_bank:
        return None
    reason: dict[str, Any] = dict(door_reason or {"code": "pending"})
    if card_problem:
        reason["card"] = card_problem
    if confirm_with_bank:
        reason["confirm_with_bank"] = True
    return reason


def describe(reason: Mapping[str, Any] | None) -> str | None:
    """The stored reason in the current locale's words, e.g. "First payment not completed: …
    (Your card was declined.)"."""
    if reason is None:
        return None
    if reason["code"] == WRITTEN_BEFORE_CODES:
        return str(reason["text"])
    facts = {"status": reason.get("status", "")}
    if "date" in reason:
        facts["date"] = format_date(date.fromisoformat(reason["date"]))
    headline = gettext(HEADLINES[reason["code"]]).format(**facts)
    details = [reason["card"]] if reason.get("card") else []
    if reason.get("confirm_with_bank"):
        details.append(gettext(CONFIRM_WITH_BANK))
    return f"{headline} ({'; '.join(details)})" if details else headline
