"""One Jinja2 environment for pages and fragments, and the security headers every page carries."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.responses import HTMLResponse

from visage import __version__
from visage.i18n import catalogs, formatting
from visage.i18n.context import current_locale, gettext, ngettext
from visage.identity.passwords import PASSWORD_MIN_LENGTH

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"

# Scripts and styles only from our own origin: a bearer token lives in sessionStorage, so no
# injected script may run. Camera frames and gallery thumbnails are blob: URLs.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "media-src 'self' blob: mediastream:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
# nosniff and `Referrer-Policy: same-origin` (reset tokens in page URLs never reach other
# sites) come with every response from core.http.
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
    "Cache-Control": "no-store",
}


def _when(value: datetime | date | None) -> str:
    """A moment in the tenant's time zone, or a day, in the request's locale."""
    if isinstance(value, datetime):
        return formatting.format_datetime(value)
    return formatting.format_date(value, "medium")


def _words(value: object) -> str:
    """`NO_VISITS_LEFT` / `visit_pack` -> `No visits left` / `Visit pack`, translated (the
    enum values' words are in the catalogs, see visage/i18n/labels.py)."""
    text = str(getattr(value, "value", value)).replace("_", " ").strip().lower()
    return gettext(text[:1].upper() + text[1:])


def _language_links(request: Request) -> list[dict[str, str]]:
    """The language switch: one link per locale, back to this very page."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return [
        {
            "code": code,
            "name": name,
            "href": f"/app/language/{code}?next={quote(here, safe='')}",
        }
        for code, name in catalogs.LANGUAGE_NAMES.items()
    ]


def _script_messages() -> Markup:
    """The scripts' strings in this locale, for the page's JSON data block (never executed:
    the CSP's script-src does not apply to it). `/app/i18n/<locale>.json` serves the same."""
    text = json.dumps(catalogs.js_messages(current_locale()), ensure_ascii=False)
    return Markup(text.replace("<", "\\u003c"))  # noqa: S704 - JSON with "<" escaped


def _with_page(request: Request, page: int) -> str:
    """This fragment's URL on another page, relative: right behind any proxy."""
    query = request.url.include_query_params(page=page).query
    return f"{request.url.path}?{query}"


def _password_hint() -> str:
    return gettext(
        "At least %(count)s characters and hard to guess: a phrase of a few words works well."
    ) % {"count": PASSWORD_MIN_LENGTH}


templates = Jinja2Templates(directory=WEB_DIR / "templates")
templates.env.add_extension("jinja2.ext.i18n")
templates.env.policies["ext.i18n.trimmed"] = True
templates.env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
templates.env.globals["with_page"] = _with_page
templates.env.globals["password_hint"] = _password_hint
templates.env.globals["current_locale"] = current_locale
templates.env.globals["language_links"] = _language_links
templates.env.globals["script_messages"] = _script_messages
templates.env.filters["when"] = _when
templates.env.filters["day"] = lambda value: formatting.format_date(value, "long")
templates.env.filters["weekday"] = formatting.format_weekday
templates.env.filters["number"] = formatting.format_number
templates.env.filters["money"] = formatting.format_minor_units
templates.env.filters["words"] = _words
templates.env.globals["asset_version"] = __version__


def render(request: Request, name: str, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, headers=PAGE_HEADERS)
