"""One Jinja2 environment for pages and fragments, and the security headers every page carries."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from visage import __version__
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
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def _words(value: object) -> str:
    """`NO_VISITS_LEFT` / `visit_pack` -> `No visits left` / `Visit pack`."""
    text = str(getattr(value, "value", value)).replace("_", " ").strip().lower()
    return text[:1].upper() + text[1:]


def _with_page(request: Request, page: int) -> str:
    """This fragment's URL on another page, relative: right behind any proxy."""
    query = request.url.include_query_params(page=page).query
    return f"{request.url.path}?{query}"


templates = Jinja2Templates(directory=WEB_DIR / "templates")
templates.env.globals["with_page"] = _with_page
templates.env.globals["password_hint"] = (
    f"At least {PASSWORD_MIN_LENGTH} characters and hard to guess: "
    "a phrase of a few words works well."
)
templates.env.filters["when"] = _when
templates.env.filters["words"] = _words
templates.env.globals["asset_version"] = __version__


def render(request: Request, name: str, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, headers=PAGE_HEADERS)
