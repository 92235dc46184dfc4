"""Words the pages show for enum values (`{{ value|words }}`: `NO_VISITS_LEFT` -> "No visits
left"), marked here so the catalogs hold them; web.rendering translates them when shown."""

from __future__ import annotations

from visage.i18n.context import N_

ENUM_WORDS = (
    # Check-in reasons (access.decision.Reason)
    N_("Granted"),
    N_("Unknown face"),
    N_("Low confidence"),
    N_("No membership"),
    N_("Expired"),
    N_("Frozen"),
    N_("Overdue"),
    N_("No visits left"),
    N_("Outside hours"),
    N_("Staff hold"),
    N_("Pin required"),
    N_("Wrong pin"),
    # Check-in sources
    N_("Kiosk"),
    N_("Manual"),
    # Roles
    N_("Super admin"),
    N_("Tenant owner"),
    N_("Staff"),
    N_("Photographer"),
    N_("Member"),
    # Plan kinds
    N_("Unlimited"),
    N_("Visit pack"),
    N_("Fixed term"),
    # Payment statuses
    N_("Current"),
    N_("Lapsed"),
    # Billing intervals
    N_("Month"),
    N_("Year"),
    N_("One time"),
    # Event visibility
    N_("Public"),
    N_("Private"),
    # Weekdays (settings)
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
    # Stripe subscription and invoice statuses, Stripe modes
    N_("Active"),
    N_("Trialing"),
    N_("Past due"),
    N_("Unpaid"),
    N_("Incomplete"),
    N_("Incomplete expired"),
    N_("Canceled"),
    N_("Paused"),
    N_("None"),
    N_("Draft"),
    N_("Open"),
    N_("Paid"),
    N_("Void"),
    N_("Uncollectible"),
    N_("Not configured"),
    N_("Localstripe"),
    N_("Test"),
    N_("Live"),
    # Consent methods
    N_("Paper"),
    N_("Web"),
)
