"""The message catalogs: `locales/<locale>/LC_MESSAGES/messages.po`, compiled to `.mo`.

The `.mo` files are build output, not committed: the first use in a process compiles any that
is missing or older than its `.po` (next to it when the package folder is writable, else in
memory), so a fresh checkout, a wheel and `pybabel update` all work without a separate step.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Final

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

logger = logging.getLogger(__name__)

LOCALES: Final = ("en", "fr")
DEFAULT_LOCALE: Final = "en"
DOMAIN: Final = "messages"
LOCALES_DIR: Final = Path(__file__).parent / "locales"
LANGUAGE_NAMES: Final = {"en": "English", "fr": "Français"}

_lock = threading.Lock()


def po_path(locale: str) -> Path:
    return LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(locale: str) -> Catalog:
    with po_path(locale).open("rb") as po:
        return read_po(po, locale=locale, domain=DOMAIN)


def _compiled(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def compile_catalog(locale: str) -> bytes:
    """The `.mo` of `locale`: the file when it is newer than the `.po`, else compiled now (and
    written beside it when possible)."""
    po = po_path(locale)
    mo = po.with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        return mo.read_bytes()
    data = _compiled(read_catalog(locale))
    try:
        mo.write_bytes(data)
    except OSError as error:  # an installed, read-only package: keep it in memory
        logger.info("Catalog %s compiled in memory (%s)", locale, error)
    return data


def compile_all() -> None:
    for locale in LOCALES:
        compile_catalog(locale)


@lru_cache(maxsize=len(LOCALES))
def translations(locale: str) -> Translations:
    if locale not in LOCALES:
        locale = DEFAULT_LOCALE
    with _lock:
        data = compile_catalog(locale)
    return Translations(io.BytesIO(data), domain=DOMAIN)


def reload() -> None:
    """Forget loaded catalogs (after `pybabel compile`, or in tests)."""
    translations.cache_clear()
    js_messages.cache_clear()


def _is_js_entry(locations: Sequence[tuple[str, int]]) -> bool:
    return any(path.endswith(".js") for path, _ in locations)


@lru_cache(maxsize=len(LOCALES))
def js_messages(locale: str) -> dict[str, str | list[str]]:
    """The messages the web app's scripts use, as `{msgid: text}` (a list of forms for plurals);
    an untranslated entry maps to its English text."""
    if locale not in LOCALES:
        locale = DEFAULT_LOCALE
    messages: dict[str, str | list[str]] = {}
    for message in read_catalog(locale):
        if not message.id or not _is_js_entry(message.locations) or message.fuzzy:
            continue
        if isinstance(message.id, tuple):
            forms = [str(text) for text in message.string] if message.string else []
            if not all(forms):
                forms = [message.id[0], message.id[1]]
            messages[str(message.id[0])] = forms
        else:
            messages[str(message.id)] = str(message.string or message.id)
    return messages
