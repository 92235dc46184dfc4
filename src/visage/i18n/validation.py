"""pydantic's per-field messages (a `VALIDATION_ERROR`'s `details`) in the request's language.

pydantic writes them in English, and English keeps its wording. In another locale, each error
`type` our schemas and FastAPI produce has its own catalog text, filled from the error's `ctx`;
a type not listed keeps pydantic's English. The `type` and the field (`loc`) never change:
programs read those.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from visage.i18n.catalogs import DEFAULT_LOCALE
from visage.i18n.context import N_, current_locale, gettext, ngettext
from visage.i18n.formatting import format_number

Context = Mapping[str, Any]

# pydantic's EmailStr reports a `value_error` whose message starts so; its `reason` comes from
# email-validator, in English only, so the French text goes without it.
EMAIL_ERROR_START = "value is not a valid email address"


def _number(ctx: Context, key: str) -> str:
    value = ctx.get(key)
    return format_number(value) if isinstance(value, int | float) else str(value)


def _choices(ctx: Context) -> str:
    """pydantic's `expected` ("'en' or 'fr'", "'a', 'b' or 'c'") with this language's "or"."""
    expected = str(ctx.get("expected", ""))
    choices, separator, last = expected.rpartition(" or ")
    if not separator:
        return expected
    return gettext("%(choices)s or %(last)s") % {"choices": choices, "last": last}


def _one_of(ctx: Context) -> str:
    return gettext("Should be %(choices)s") % {"choices": _choices(ctx)}


def _characters(count: int, at_least: bool) -> str:
    if at_least:
        text = ngettext(
            "Should have at least %(num)s character",
            "Should have at least %(num)s characters",
            count,
        )
    else:
        text = ngettext(
            "Should have at most %(num)s character", "Should have at most %(num)s characters", count
        )
    return text % {"num": count}


def _items(count: int, at_least: bool) -> str:
    if at_least:
        text = ngettext(
            "Should have at least %(num)s item", "Should have at least %(num)s items", count
        )
    else:
        text = ngettext(
            "Should have at most %(num)s item", "Should have at most %(num)s items", count
        )
    return text % {"num": count}


def _value_error(ctx: Context, english: str) -> str:
    """Our validators' `ValueError`s are in the catalogs (marked `N_` where raised)."""
    if english.startswith(EMAIL_ERROR_START):
        return gettext("Not a valid email address")
    reason = str(ctx.get("error", ""))
    translated = gettext(reason) if reason else ""
    if translated and translated != reason:
        return translated
    return gettext("Invalid value: %(reason)s") % {"reason": reason or english}


_NUMBER = N_("Should be a number")
_INTEGER = N_("Should be a whole number")
_BOOLEAN = N_("Should be true or false")
_UUID = N_("Should be a UUID")
_DATE = N_("Should be a date: YYYY-MM-DD")
_DATETIME = N_("Should be a date and time: YYYY-MM-DDTHH:MM, with its offset")
_TIME = N_("Should be a time: HH:MM")
_OBJECT = N_("Should be an object")

# Types whose message needs nothing from the error (pydantic's own detail, such as the
# position of a bad character, is English only).
FIXED_MESSAGES = {
    "missing": N_("Field required"),
    "extra_forbidden": N_("Unknown field: not allowed here"),
    "json_invalid": N_("The body is not valid JSON"),
    "string_type": N_("Should be text"),
    "string_pattern_mismatch": N_("Not in the expected form"),
    "int_type": _INTEGER,
    "int_parsing": _INTEGER,
    "int_from_float": _INTEGER,
    "float_type": _NUMBER,
    "float_parsing": _NUMBER,
    "bool_type": _BOOLEAN,
    "bool_parsing": _BOOLEAN,
    "uuid_type": _UUID,
    "uuid_parsing": _UUID,
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": _DATE,
    "datetime_type": _DATETIME,
    "datetime_parsing": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "time_type": _TIME,
    "time_parsing": _TIME,
    "list_type": N_("Should be a list"),
    "dict_type": _OBJECT,
    "model_type": _OBJECT,
    "model_attributes_type": _OBJECT,
}


def _limit(message: str, key: str) -> Callable[[Context], str]:
    return lambda ctx: gettext(message) % {"limit": _number(ctx, key)}


# Types whose message says the limit or the choices, from the error's `ctx`.
DESCRIBED_MESSAGES: dict[str, Callable[[Context], str]] = {
    "string_too_short": lambda ctx: _characters(int(ctx.get("min_length", 0)), at_least=True),
    "string_too_long": lambda ctx: _characters(int(ctx.get("max_length", 0)), at_least=False),
    "too_short": lambda ctx: _items(int(ctx.get("min_length", 0)), at_least=True),
    "too_long": lambda ctx: _items(int(ctx.get("max_length", 0)), at_least=False),
    "greater_than": _limit(N_("Should be greater than %(limit)s"), "gt"),
    "greater_than_equal": _limit(N_("Should be at least %(limit)s"), "ge"),
    "less_than": _limit(N_("Should be less than %(limit)s"), "lt"),
    "less_than_equal": _limit(N_("Should be at most %(limit)s"), "le"),
    "literal_error": _one_of,
    "enum": _one_of,
}


def field_message(error: Mapping[str, Any]) -> str:
    """The message of one pydantic error (`{"type", "msg", "ctx", ...}`) in this language."""
    english = str(error.get("msg", ""))
    if current_locale() == DEFAULT_LOCALE:
        return english
    kind = str(error.get("type", ""))
    ctx: Context = error.get("ctx") or {}
    if kind == "value_error":
        return _value_error(ctx, english)
    if kind in FIXED_MESSAGES:
        return gettext(FIXED_MESSAGES[kind])
    describe = DESCRIBED_MESSAGES.get(kind)
    return describe(ctx) if describe else english
