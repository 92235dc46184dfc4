"""Dates, times, numbers and money in the current locale and time zone (Babel, CLDR data):
"1 décembre 2026, 09:30" / "December 1, 2026, 9:30 AM", "49,00 €" / "€49.00"."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import dates, numbers

from visage.i18n.context import current

EMPTY = "—"
# The "long date, short time" of the issue: "1 décembre 2026, 09:30".
DATETIME_PATTERNS = {"fr": "d MMMM y, HH:mm", "en": "MMMM d, y, h:mm a"}


def _zone(name: str | None = None) -> ZoneInfo:
    try:
        return ZoneInfo(name or current().timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def format_datetime(value: datetime | None, timezone: str | None = None) -> str:
    """A moment, in the tenant's time zone (naive values are UTC)."""
    if value is None:
        return EMPTY
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    locale = current().locale
    local = value.astimezone(_zone(timezone))
    pattern = DATETIME_PATTERNS.get(locale)
    if pattern is None:
        return dates.format_datetime(local, "medium", locale=locale)
    return dates.format_datetime(local, pattern, locale=locale)


def format_date(value: date | datetime | None, style: str = "long") -> str:
    if value is None:
        return EMPTY
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(_zone()).date()
    return dates.format_date(value, style, locale=current().locale)


def format_weekday(value: date) -> str:
    """The short weekday name: "Mon" / "lun."."""
    return dates.format_date(value, "EEE", locale=current().locale)


def format_time(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return dates.format_time(value.astimezone(_zone()), "short", locale=current().locale)


def format_number(value: float | int | Decimal) -> str:
    return numbers.format_decimal(value, locale=current().locale)


def format_percent(share: float) -> str:
    """0.012 -> "1.2%" / "1,2 %"."""
    return numbers.format_percent(share, "#,##0.0%", locale=current().locale)


def format_currency(amount: float | int | Decimal, currency: str) -> str:
    """`amount` in major units (49.0, "EUR") -> "49,00 €"."""
    return numbers.format_currency(amount, currency.upper(), locale=current().locale)


def format_minor_units(amount: int, currency: str) -> str:
    """Stripe's integer minor units (4900, "eur") -> "49,00 €"."""
    digits = numbers.get_currency_precision(currency.upper())
    return format_currency(Decimal(amount).scaleb(-digits), currency)
