"""Which language a request gets."""

from __future__ import annotations

from visage.i18n import negotiation
from visage.i18n.context import Localization


def test_accept_language_is_read_by_weight() -> None:
    header = "de-DE,de;q=0.9,fr;q=0.8,en;q=0.7"
    assert negotiation.accepted_languages(header) == ["de-DE", "de", "fr", "en"]
    assert negotiation.from_header(header) == "fr"
    assert negotiation.from_header("en;q=0.5, fr-CA;q=0.9") == "fr"
    assert negotiation.from_header("es, de;q=bad") is None
    assert negotiation.from_header(None) is None


def test_the_cookie_beats_the_browser() -> None:
    chosen = negotiation.for_request("fr", "en-US,en;q=0.9")
    assert (chosen.locale, chosen.chosen) == ("fr", True)
    browser = negotiation.for_request("xx", "fr-FR")
    assert (browser.locale, browser.chosen) == ("fr", False)
    assert negotiation.for_request(None, None).locale == "en"


def test_a_saved_preference_wins_then_the_visitors_choice_then_the_tenants_default() -> None:
    from_browser = Localization(locale="en", from_header=True)
    negotiation.adopt_account(from_browser, user_locale=None, tenant_locale="fr")
    assert from_browser.locale == "fr"

    chosen_on_page = Localization(locale="en", chosen=True)
    negotiation.adopt_account(chosen_on_page, user_locale=None, tenant_locale="fr")
    assert chosen_on_page.locale == "en"

    saved = Localization(locale="en", chosen=True)
    negotiation.adopt_account(saved, user_locale="fr", tenant_locale="en")
    assert saved.locale == "fr"


def test_attendees_get_the_events_language_unless_their_browser_asks_otherwise() -> None:
    german_browser = "de-DE,de;q=0.9,en;q=0.5"
    assert negotiation.for_attendee(None, german_browser, "fr") == "fr"
    assert negotiation.for_attendee(None, "en-GB,en;q=0.9", "fr") == "en"
    assert negotiation.for_attendee("fr", "en-GB", "en") == "fr"
    assert negotiation.for_attendee(None, german_browser, None) == "en"
