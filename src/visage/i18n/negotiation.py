"""Which locale a request gets.

Order (issue 18): the signed-in user's saved preference, then the language the visitor chose
on the page (the `visage_locale` cookie), then the tenant's default, then `Accept-Language`.
An attendee page uses the event's language unless the browser's first choice is a language
Visage speaks.
"""

from __future__ import annotations

from visage.i18n.catalogs import DEFAULT_LOCALE
from visage.i18n.context import Localization, supported

LOCALE_COOKIE = "visage_locale"
# A year: the choice outlives signing out and in.
LOCALE_COOKIE_MAX_AGE = 365 * 24 * 3600
MAX_LANGUAGE_RANGES = 20


def accepted_languages(header: str | None) -> list[str]:
    """`Accept-Language` ranges, best first (RFC 9110 §12.5.4 weights; bad weights are 0)."""
    ranges: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")[:MAX_LANGUAGE_RANGES]):
        language, _, parameters = part.strip().partition(";")
        weight = 1.0
        name, _, value = parameters.strip().partition("=")
        if name.strip() == "q":
            try:
                weight = float(value)
            except ValueError:
                weight = 0.0
        if language and weight > 0:
            ranges.append((-weight, position, language.strip()))
    return [language for _, _, language in sorted(ranges)]


def from_header(header: str | None) -> str | None:
    """The first language of the header that Visage speaks."""
    for language in accepted_languages(header):
        locale = supported(language)
        if locale:
            return locale
    return None


def browser_first_choice(header: str | None) -> str | None:
    """The browser's most wanted language, when Visage speaks it."""
    languages = accepted_languages(header)
    return supported(languages[0]) if languages else None


def for_request(cookie: str | None, accept_language: str | None) -> Localization:
    """What is known before authentication: the visitor's choice, else the browser's."""
    chosen = supported(cookie)
    if chosen:
        return Localization(locale=chosen, chosen=True)
    header_locale = from_header(accept_language)
    return Localization(locale=header_locale or DEFAULT_LOCALE, from_header=True)


def adopt_account(
    localization: Localization, *, user_locale: str | None, tenant_locale: str | None
) -> None:
    """Refine the request's locale once the caller is known (in place)."""
    preferred = supported(user_locale)
    tenant_default = None if localization.chosen else supported(tenant_locale)
    account_locale = preferred or tenant_default
    if account_locale:
        localization.locale = account_locale
    localization.from_account = account_locale is not None
    localization.from_header = False


def for_attendee(cookie: str | None, accept_language: str | None, event_locale: str | None) -> str:
    """An attendee page: the visitor's choice, else the browser's first choice, else the
    event's language, else any language of the browser that Visage speaks."""
    return (
        supported(cookie)
        or browser_first_choice(accept_language)
        or supported(event_locale)
        or from_header(accept_language)
        or DEFAULT_LOCALE
    )
