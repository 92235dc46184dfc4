"""The locale (and time zone) of the request or job at hand, and gettext over it.

A `Localization` object lives in a context variable: the middleware sets one per request from
the cookie and `Accept-Language`; the sign-in dependency refines it in place with the user's
saved preference and the tenant's default (in place, because sync dependencies run in worker
threads whose context changes would not come back). Emails and jobs use `using(locale)`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from visage.i18n.catalogs import DEFAULT_LOCALE, LOCALES, translations

DEFAULT_TIMEZONE = "UTC"


@dataclass
class Localization:
    locale: str = DEFAULT_LOCALE
    # The visitor chose it on the page (the language cookie); an account preference still wins.
    chosen: bool = False
    # The tenant's default locale may still replace it (nothing better was known).
    from_header: bool = False
    # The account decided it (the user's saved choice, else the tenant's default): sign-in
    # keeps it in the language cookie, so the pages render in it from their first request.
    from_account: bool = False
    timezone: str = DEFAULT_TIMEZONE


_current: ContextVar[Localization | None] = ContextVar("visage_localization", default=None)


def current() -> Localization:
    localization = _current.get()
    if localization is None:
        localization = Localization()
        _current.set(localization)
    return localization


def current_locale() -> str:
    return current().locale


def begin(localization: Localization) -> object:
    """Make `localization` current; returns the token `end` takes."""
    return _current.set(localization)


def end(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


def supported(locale: str | None) -> str | None:
    """`locale` if Visage speaks it (`fr_FR`, `fr-CA` -> `fr`), else None."""
    if not locale:
        return None
    language = locale.replace("_", "-").split("-")[0].lower()
    return language if language in LOCALES else None


@contextmanager
def using(locale: str | None, timezone: str | None = None) -> Iterator[Localization]:
    """Translate and format in `locale` (and `timezone`) inside the block: an email to one
    person, a job's message."""
    outer = current()
    localization = Localization(
        locale=supported(locale) or outer.locale, timezone=timezone or outer.timezone
    )
    token = _current.set(localization)
    try:
        yield localization
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    return translations(current_locale()).ugettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_locale()).ungettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return translations(current_locale()).upgettext(context, message)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    """Marks `message` for extraction; it is translated where it is shown."""
    return message


_ = gettext
