"""Page routes: each returns the page's HTML shell; data comes from fragments and the JSON API,
called by the browser with the signed-in user's bearer token (see docs/decisions.md)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, get_args

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from visage.access.decision import Reason
from visage.access.schemas import Weekday
from visage.core.deps import DbSession
from visage.events import service as events_service
from visage.i18n import negotiation
from visage.i18n.context import N_, gettext, using
from visage.i18n.middleware import cookie_value
from visage.web import billing_pages
from visage.web.fragments import ASSIGNABLE_ROLES
from visage.web.fragments import router as fragments_router
from visage.web.rendering import STATIC_DIR, render

APP_PREFIX = "/app"

router = APIRouter(include_in_schema=False)

SOCIAL_PLATFORMS = [
    ("x", "X"),
    ("facebook", N_("Facebook Page")),
    ("instagram", "Instagram"),
    ("linkedin", "LinkedIn"),
    ("mastodon", "Mastodon"),
]

# Version of the consent text the enrollment form shows (recorded with the consent).
CONSENT_TEXT_VERSION = "2026-11"


@dataclass(frozen=True)
class Shell:
    """A page whose HTML needs nothing from the request: its data comes from the browser."""

    template: str
    title: str
    nav: str | None = None  # the main menu entry it belongs to
    context: dict[str, Any] = field(default_factory=dict)


SHELLS = {
    # Signing in: no session yet.
    APP_PREFIX + "/login": Shell("login.html", N_("Sign in")),
    APP_PREFIX + "/logout": Shell("logout.html", N_("Signing out")),
    APP_PREFIX + "/forgot-password": Shell("forgot_password.html", N_("Forgot your password?")),
    # The links in the emails identity sends (`/reset-password?token=`, `/verify-email?token=`).
    "/reset-password": Shell("reset_password.html", N_("Choose a new password")),
    "/verify-email": Shell("verify_email.html", N_("Confirm your email")),
    # The door tablet, signed in with a device key.
    APP_PREFIX + "/kiosk": Shell("kiosk.html", N_("Check-in kiosk")),
    # The signed-in app.
    APP_PREFIX + "/": Shell("dashboard.html", N_("Dashboard"), "dashboard"),
    APP_PREFIX + "/account": Shell("account.html", N_("My account"), "account"),
    APP_PREFIX + "/tenants": Shell("tenants.html", N_("Tenants"), "tenants"),
    APP_PREFIX + "/settings": Shell(
        "settings.html", N_("Settings"), "settings", {"weekdays": list(get_args(Weekday))}
    ),
    APP_PREFIX + "/checkins": Shell(
        "checkins.html", N_("Check-ins"), "checkins", {"reasons": list(Reason)}
    ),
    APP_PREFIX + "/members": Shell("members.html", N_("Members"), "members"),
    APP_PREFIX + "/plans": Shell("plans.html", N_("Plans"), "plans"),
    APP_PREFIX + "/users": Shell(
        "users.html", N_("Users and roles"), "users", {"roles": ASSIGNABLE_ROLES}
    ),
    APP_PREFIX + "/kiosks": Shell("kiosks.html", N_("Kiosks"), "kiosks"),
    APP_PREFIX + "/tokens": Shell("api_tokens.html", N_("API tokens"), "tokens"),
    APP_PREFIX + "/audit": Shell("audit.html", N_("Audit log"), "audit"),
    APP_PREFIX + "/events": Shell("events.html", N_("Events"), "events"),
    APP_PREFIX + "/whatsapp": Shell("whatsapp.html", N_("WhatsApp"), "whatsapp"),
    APP_PREFIX + "/publishing": Shell(
        "publishing.html", N_("Social publishing"), "publishing", {"platforms": SOCIAL_PLATFORMS}
    ),
}


def _shell_route(shell: Shell) -> Callable[[Request], HTMLResponse]:
    def page(request: Request) -> HTMLResponse:
        return render(
            request, shell.template, title=gettext(shell.title), nav=shell.nav, **shell.context
        )

    return page


for path, shell in SHELLS.items():
    router.add_api_route(path, _shell_route(shell), methods=["GET"], response_class=HTMLResponse)


@router.get(APP_PREFIX, include_in_schema=False)
def app_root() -> RedirectResponse:
    return RedirectResponse(APP_PREFIX + "/")


# The share link and QR code of an event point here (`events.links.share_url`).
@router.get("/e/{access_code}", response_class=HTMLResponse)
def attendee_page(request: Request, access_code: str, session: DbSession) -> HTMLResponse:
    """In the event's language unless the visitor chose one or their browser asks for one."""
    locale = negotiation.for_attendee(
        cookie_value(request.headers, negotiation.LOCALE_COOKIE),
        request.headers.get("accept-language"),
        events_service.page_language(session, access_code[:32]),
    )
    with using(locale):
        return render(
            request, "attendee.html", title=gettext("Find your photos"), access_code=access_code
        )


@router.get(APP_PREFIX + "/members/{member_id}", response_class=HTMLResponse)
def member_page(request: Request, member_id: uuid.UUID) -> HTMLResponse:
    return render(
        request,
        "member.html",
        title=gettext("Member"),
        nav="members",
        member_id=member_id,
        consent_version=CONSENT_TEXT_VERSION,
    )


@router.get(APP_PREFIX + "/events/{event_id}", response_class=HTMLResponse)
def event_page(request: Request, event_id: uuid.UUID) -> HTMLResponse:
    return render(request, "event.html", title=gettext("Event"), nav="events", event_id=event_id)


@router.get(APP_PREFIX + "/publishing/compose", response_class=HTMLResponse)
def compose_page(request: Request, event: uuid.UUID) -> HTMLResponse:
    """The composer, starting from an event's gallery."""
    return render(
        request, "compose.html", title=gettext("New post"), nav="publishing", event_id=event
    )


class BrowserHomeRedirect:
    """A browser opening `/` lands on the app; API clients keep `GET /`'s JSON."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] == "/"
            and scope["method"] == "GET"
            and "text/html" in Headers(scope=scope).get("accept", "")
        ):
            await RedirectResponse(APP_PREFIX + "/")(scope, receive, send)
            return
        await self.app(scope, receive, send)


def mount_web(app: FastAPI) -> None:
    """Pages, htmx fragments and `/static` on the app (outside /api/v1)."""
    app.include_router(router)
    app.include_router(fragments_router, prefix=APP_PREFIX + "/fragments")
    app.include_router(billing_pages.pages)
    app.include_router(billing_pages.fragments, prefix=APP_PREFIX + "/fragments")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(BrowserHomeRedirect)
