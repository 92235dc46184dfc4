"""Page routes: each returns the page's HTML shell; data comes from fragments and the JSON API,
called by the browser with the signed-in user's bearer token (see docs/decisions.md)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response

from visage.access.decision import Reason
from visage.identity.models import Role
from visage.web.fragments import router as fragments_router
from visage.web.rendering import STATIC_DIR, render

APP_PREFIX = "/app"

router = APIRouter(include_in_schema=False)

# Version of the consent text the enrollment form shows (recorded with the consent).
CONSENT_TEXT_VERSION = "2026-11"

# Roles a tenant owner hands out from the users page (super admins are made with the CLI).
ASSIGNABLE_ROLES = [Role.TENANT_OWNER, Role.STAFF, Role.PHOTOGRAPHER, Role.MEMBER]


# ---------------------------------------------------------------- signing in (no session yet)


@router.get(APP_PREFIX + "/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return render(request, "login.html", title="Sign in")


@router.get(APP_PREFIX + "/logout", response_class=HTMLResponse)
def logout_page(request: Request) -> HTMLResponse:
    return render(request, "logout.html", title="Signing out")


@router.get(APP_PREFIX + "/forgot-password", response_class=HTMLResponse)
def forgot_password_page(request: Request) -> HTMLResponse:
    return render(request, "forgot_password.html", title="Forgot your password?")


# The two pages below are the links in the emails identity sends (`/reset-password?token=`).
@router.get("/reset-password", response_class=HTMLResponse)
def reset_password_page(request: Request) -> HTMLResponse:
    return render(request, "reset_password.html", title="Choose a new password")


@router.get("/verify-email", response_class=HTMLResponse)
def verify_email_page(request: Request) -> HTMLResponse:
    return render(request, "verify_email.html", title="Confirm your email")


# ---------------------------------------------------------------- kiosk and attendees


@router.get(APP_PREFIX + "/kiosk", response_class=HTMLResponse)
def kiosk_page(request: Request) -> HTMLResponse:
    return render(request, "kiosk.html", title="Check-in kiosk")


# The share link and QR code of an event point here (`events.service.share_url`).
@router.get("/e/{access_code}", response_class=HTMLResponse)
def attendee_page(request: Request, access_code: str) -> HTMLResponse:
    return render(request, "attendee.html", title="Find your photos", access_code=access_code)


# ---------------------------------------------------------------- signed-in app


@router.get(APP_PREFIX, include_in_schema=False)
def app_root() -> RedirectResponse:
    return RedirectResponse(APP_PREFIX + "/")


@router.get(APP_PREFIX + "/", response_class=HTMLResponse)
def dashboard_page(request: Request) -> HTMLResponse:
    return render(request, "dashboard.html", title="Dashboard", nav="dashboard")


@router.get(APP_PREFIX + "/checkins", response_class=HTMLResponse)
def checkins_page(request: Request) -> HTMLResponse:
    return render(request, "checkins.html", title="Check-ins", nav="checkins", reasons=list(Reason))


@router.get(APP_PREFIX + "/members", response_class=HTMLResponse)
def members_page(request: Request) -> HTMLResponse:
    return render(request, "members.html", title="Members", nav="members")


@router.get(APP_PREFIX + "/members/{member_id}", response_class=HTMLResponse)
def member_page(request: Request, member_id: uuid.UUID) -> HTMLResponse:
    return render(
        request,
        "member.html",
        title="Member",
        nav="members",
        member_id=member_id,
        consent_version=CONSENT_TEXT_VERSION,
    )


@router.get(APP_PREFIX + "/plans", response_class=HTMLResponse)
def plans_page(request: Request) -> HTMLResponse:
    return render(request, "plans.html", title="Plans", nav="plans")


@router.get(APP_PREFIX + "/users", response_class=HTMLResponse)
def users_page(request: Request) -> HTMLResponse:
    return render(
        request, "users.html", title="Users and roles", nav="users", roles=ASSIGNABLE_ROLES
    )


@router.get(APP_PREFIX + "/account", response_class=HTMLResponse)
def account_page(request: Request) -> HTMLResponse:
    return render(request, "account.html", title="My account", nav="account")


@router.get(APP_PREFIX + "/tenants", response_class=HTMLResponse)
def tenants_page(request: Request) -> HTMLResponse:
    return render(request, "tenants.html", title="Tenants", nav="tenants")


@router.get(APP_PREFIX + "/kiosks", response_class=HTMLResponse)
def kiosks_page(request: Request) -> HTMLResponse:
    return render(request, "kiosks.html", title="Kiosks", nav="kiosks")


@router.get(APP_PREFIX + "/audit", response_class=HTMLResponse)
def audit_page(request: Request) -> HTMLResponse:
    return render(request, "audit.html", title="Audit log", nav="audit")


@router.get(APP_PREFIX + "/events", response_class=HTMLResponse)
def events_page(request: Request) -> HTMLResponse:
    return render(request, "events.html", title="Events", nav="events")


@router.get(APP_PREFIX + "/events/{event_id}", response_class=HTMLResponse)
def event_page(request: Request, event_id: uuid.UUID) -> HTMLResponse:
    return render(
        request,
        "event.html",
        title="Event",
        nav="events",
        event_id=event_id,
    )


class BrowserHomeRedirect(BaseHTTPMiddleware):
    """A browser opening `/` lands on the app; API clients keep `GET /`'s JSON."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        accepts_html = "text/html" in request.headers.get("accept", "")
        if request.url.path == "/" and request.method == "GET" and accepts_html:
            return RedirectResponse(APP_PREFIX + "/")
        return await call_next(request)


def mount_web(app: FastAPI) -> None:
    """Pages, htmx fragments and `/static` on the app (outside /api/v1)."""
    app.include_router(router)
    app.include_router(fragments_router, prefix=APP_PREFIX + "/fragments")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(BrowserHomeRedirect)
