"""API error messages in the request's locale: the English message is the catalog key.

Messages raised as f-strings are in the catalogs as patterns (`"No tenant with slug '{0}'."`,
see extract.py); a message with no exact entry is matched against them, so its values
survive translation. The error `code` is never translated.
"""

from __future__ import annotations

import re
from functools import lru_cache

from visage.i18n.catalogs import DEFAULT_LOCALE, read_catalog, translations
from visage.i18n.context import N_, current_locale

FIELD = re.compile(r"(?<!\{)\{(\d+)\}(?!\})|\{\{|\}\}")

# Starlette's own HTTPException details (unknown route, wrong method).
STARLETTE_DETAILS = (N_("Not Found"), N_("Method Not Allowed"), N_("Unsupported Media Type"))


def _pattern(msgid: str) -> re.Pattern[str]:
    parts: list[str] = []
    position = 0
    for match in FIELD.finditer(msgid):
        parts.append(re.escape(msgid[position : match.start()]))
        token = match.group(0)
        if token == "{{":
            parts.append(re.escape("{"))
        elif token == "}}":
            parts.append(re.escape("}"))
        else:
            parts.append(f"(?P<f{match.group(1)}>.+?)")
        position = match.end()
    parts.append(re.escape(msgid[position:]))
    return re.compile("".join(parts), re.DOTALL)


@lru_cache(maxsize=4)
def _patterns(locale: str) -> list[tuple[re.Pattern[str], str]]:
    patterns = []
    for message in read_catalog(locale):
        msgid = message.id
        usable = isinstance(msgid, str) and message.string and not message.fuzzy
        if usable and re.search(r"(?<!\{)\{0\}", str(msgid)):
            patterns.append((_pattern(str(msgid)), str(message.string)))
    # Longest first: the most specific pattern wins.
    patterns.sort(key=lambda item: -len(item[0].pattern))
    return patterns


def translate_error_message(message: str) -> str:
    locale = current_locale()
    if locale == DEFAULT_LOCALE or not message:
        return message
    translated = translations(locale).ugettext(message)
    if translated != message:
        return translated
    catalog = translations(locale)
    for pattern, text in _patterns(locale):
        match = pattern.fullmatch(message)
        if match:
            values = match.groupdict()
            # A value that is itself a catalog word ("Member" in "{0} not found.") is too.
            return text.format(
                *(catalog.ugettext(values[f"f{index}"]) for index in range(len(values)))
            )
    return message
