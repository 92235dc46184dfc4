"""Billing pages: the owner's billing page (settings, prices, dunning), a member's billing
tab, a member's own page, and the card page Stripe Checkout stands in for on LocalStripe."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from visage.access import plans as access_plans
from visage.access.models import Plan
from visage.billing import card_links
from visage.billing import service as billing_service
from visage.billing import views as billing_views
from visage.billing.gateway import StripeGateway
from visage.billing.models import BillingInterval, PlanPrice
from visage.core.deps import AppSettings, DbSession
from visage.core.errors import AppError
from visage.i18n.context import gettext
from visage.i18n.errors import translate_error_message
from visage.identity.dependencies import CurrentUser, require
from visage.identity.permissions import Permission
from visage.identity.principal import Principal
from visage.web.rendering import CONTENT_SECURITY_POLICY, PAGE_HEADERS, render, templates

APP_PREFIX = "/app"

pages = APIRouter(include_in_schema=False)
fragments = APIRouter(include_in_schema=False)

MemberReader = Annotated[Principal, Depends(require(Permission.MEMBERS_READ))]


def _gateway(settings: AppSettings) -> StripeGateway | None:
    return StripeGateway(settings) if settings.stripe_secret_key else None


Gateway = Annotated[StripeGateway | None, Depends(_gateway)]


@pages.get(APP_PREFIX + "/billing", response_class=HTMLResponse)
def billing_page(request: Request) -> HTMLResponse:
    return render(request, "billing.html", title=gettext("Billing"), nav="billing")


@pages.get(APP_PREFIX + "/me", response_class=HTMLResponse)
def my_page(request: Request) -> HTMLResponse:
    return render(request, "me.html", title=gettext("My membership"), nav="me")


@pages.get("/billing/done", response_class=HTMLResponse)
def checkout_done(request: Request, canceled: bool = False) -> HTMLResponse:
    return render(request, "billing_done.html", title=gettext("Membership"), canceled=canceled)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pages.get("/billing/card/{token}", response_class=HTMLResponse)
def card_page(
    request: Request, token: str, session: DbSession, settings: AppSettings
) -> HTMLResponse:
    """Stripe.js (LocalStripe serves its own) collects the card: no number reaches us."""
    try:
        link = card_links.read(settings, token)
        gateway = StripeGateway(settings)
        client_secret, _ = gateway.setup_intent(link.setup_intent)
    except AppError as error:
        response = render(
            request,
            "billing_done.html",
            title=gettext("Membership"),
            problem=translate_error_message(error.message),
        )
        response.status_code = error.status_code
        return response
    plan = session.get(Plan, link.plan_id)
    price = session.get(PlanPrice, link.plan_id) if link.plan_id else None
    # This page alone may load Stripe.js and let it call Stripe's API.
    stripe_origin = _origin(gateway.stripe_js_url)
    api_origin = _origin(gateway.api_base)
    policy = CONTENT_SECURITY_POLICY.replace(
        "script-src 'self'", f"script-src 'self' {stripe_origin}"
    ).replace("connect-src 'self'", f"connect-src 'self' {api_origin} {stripe_origin}")
    policy += f"; frame-src {stripe_origin}"
    return templates.TemplateResponse(
        request,
        "billing_card.html",
        {
            "title": gettext("Your membership") if plan else gettext("Your card"),
            "plan_name": plan.name if plan else "",
            "one_time": price is not None and price.billing_interval is BillingInterval.ONE_TIME,
            "stripe_js_url": gateway.stripe_js_url,
            "public_key": settings.stripe_public_key,
            "client_secret": client_secret,
            "token": token,
        },
        headers={**PAGE_HEADERS, "Content-Security-Policy": policy},
    )


@fragments.get("/billing/overview", response_class=HTMLResponse)
def overview(
    request: Request, session: DbSession, settings: AppSettings, principal: MemberReader
) -> HTMLResponse:
    plans = {p.id: p for p in access_plans.list_plans(session, principal, include_retired=True)}
    return render(
        request,
        "fragments/billing_overview.html",
        settings=billing_views.settings_of(session, settings, principal),
        prices=[
            (plans.get(price.plan_id), price)
            for price in billing_service.list_prices(session, principal)
        ],
        dunning=billing_views.dunning(session, principal),
    )


@fragments.get("/members/{member_id}/billing", response_class=HTMLResponse)
def member_billing(
    request: Request,
    member_id: uuid.UUID,
    session: DbSession,
    principal: MemberReader,
    gateway: Gateway,
) -> HTMLResponse:
    billing = billing_views.billing_of(session, principal.scope(session), gateway, member_id)
    return render(
        request,
        "fragments/member_billing.html",
        billing=billing,
        member_id=member_id,
        configured=gateway is not None,
        staff=True,
    )


@fragments.get("/me/billing", response_class=HTMLResponse)
def my_billing(
    request: Request, session: DbSession, principal: CurrentUser, gateway: Gateway
) -> HTMLResponse:
    member = billing_service.my_member(session, principal)
    scope = principal.scope(session)
    billing = billing_views.billing_of(session, scope, gateway, member.id) if member else None
    return render(
        request,
        "fragments/member_billing.html",
        billing=billing,
        member_id=member.id if member else None,
        configured=gateway is not None,
        staff=False,
    )
