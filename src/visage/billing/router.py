"""Billing under /api/v1 (thin: parse, authorize, call) and the Stripe webhook."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from visage.billing import card_links, refunds, service, sync, views
from visage.billing.errors import StripeRefused
from visage.billing.gateway import StripeGateway, verify_webhook
from visage.billing.models import PlanPrice
from visage.billing.schemas import (
    BillingOut,
    BillingSettingsIn,
    BillingSettingsOut,
    CancelIn,
    CheckoutIn,
    CheckoutOut,
    DunningRow,
    FreezeIn,
    PlanChangeIn,
    PriceIn,
    PriceOut,
    RefundIn,
    RefundOut,
    SubscribeIn,
    SyncOut,
)
from visage.billing.tasks import process_event
from visage.config import Settings, get_settings
from visage.core.db import get_database
from visage.core.deps import AppSettings, DbSession
from visage.core.errors import NotFound
from visage.core.jobs import enqueue
from visage.identity.dependencies import CurrentUser, require
from visage.identity.permissions import Permission
from visage.identity.principal import Principal
from visage.members.models import Member

router = APIRouter(tags=["billing"])

Reader = Annotated[Principal, Depends(require(Permission.MEMBERS_READ))]
Manager = Annotated[Principal, Depends(require(Permission.MEMBERSHIPS_MANAGE))]
SettingsReader = Annotated[Principal, Depends(require(Permission.TENANT_READ))]
SettingsManager = Annotated[Principal, Depends(require(Permission.TENANT_UPDATE))]


def stripe_gateway(settings: AppSettings) -> StripeGateway:
    return StripeGateway(settings)


Gateway = Annotated[StripeGateway, Depends(stripe_gateway)]
MEMBER = "/members/{member_id}"


# ---------------------------------------------------------------- prices


@router.put("/plans/{plan_id}/price", response_model=PriceOut)
def set_price(
    plan_id: uuid.UUID, body: PriceIn, session: DbSession, principal: Manager, gateway: Gateway
) -> PlanPrice:
    return service.set_price(session, principal, gateway, plan_id, body)


@router.get("/plans/{plan_id}/price", response_model=PriceOut)
def get_price(plan_id: uuid.UUID, session: DbSession, principal: Reader) -> PlanPrice:
    return service.get_price(session, principal, plan_id)


@router.get("/billing/prices", response_model=list[PriceOut])
def list_prices(session: DbSession, principal: Reader) -> list[PlanPrice]:
    return service.list_prices(session, principal)


# ---------------------------------------------------------------- subscriptions


@router.post(f"{MEMBER}/subscriptions", status_code=status.HTTP_201_CREATED)
def subscribe(
    member_id: uuid.UUID,
    body: SubscribeIn,
    session: DbSession,
    settings: AppSettings,
    principal: Manager,
    gateway: Gateway,
) -> BillingOut:
    scope = principal.scope(session)
    service.subscribe(
        session, settings, scope, principal, gateway, member_id, body.plan_id, body.payment_method
    )
    return views.billing_of(session, principal.scope(session), gateway, member_id)


@router.post(f"{MEMBER}/checkout")
def checkout(
    member_id: uuid.UUID,
    body: CheckoutIn,
    session: DbSession,
    settings: AppSettings,
    principal: Manager,
    gateway: Gateway,
) -> CheckoutOut:
    url = service.checkout_url(session, principal, gateway, settings, member_id, body.plan_id)
    return CheckoutOut(url=url)


@router.get(f"{MEMBER}/billing")
def billing(
    member_id: uuid.UUID, session: DbSession, principal: Reader, gateway: Gateway
) -> BillingOut:
    return views.billing_of(session, principal.scope(session), gateway, member_id)


def _desk(
    session: DbSession, settings: AppSettings, principal: Manager, gateway: Gateway
) -> service.Desk:
    return service.Desk(session, settings, principal, gateway)


Desk = Annotated[service.Desk, Depends(_desk)]


@router.post(f"{MEMBER}/subscription/cancel")
def cancel(member_id: uuid.UUID, body: CancelIn, desk: Desk) -> BillingOut:
    desk.cancel(member_id, at_period_end=body.at_period_end)
    return desk.billing(member_id)


@router.post(f"{MEMBER}/subscription/freeze")
def freeze(member_id: uuid.UUID, body: FreezeIn, desk: Desk) -> BillingOut:
    desk.freeze(member_id, service.resume_time(body.resumes_on))
    return desk.billing(member_id)


@router.post(f"{MEMBER}/subscription/resume")
def resume(member_id: uuid.UUID, desk: Desk) -> BillingOut:
    desk.resume(member_id)
    return desk.billing(member_id)


@router.post(f"{MEMBER}/subscription/plan")
def change_plan(member_id: uuid.UUID, body: PlanChangeIn, desk: Desk) -> BillingOut:
    desk.change_plan(member_id, body.plan_id)
    return desk.billing(member_id)


@router.post(f"{MEMBER}/refunds", status_code=status.HTTP_201_CREATED)
def refund(
    member_id: uuid.UUID, body: RefundIn, session: DbSession, principal: Manager, gateway: Gateway
) -> RefundOut:
    return refunds.refund(session, principal, gateway, member_id, body)


def _my_member(session: Session, principal: Principal) -> Member:
    member = service.my_member(session, principal)
    if member is None:
        raise NotFound("No member record is linked to this account.")
    return member


@router.get("/me/billing")
def my_billing(session: DbSession, principal: CurrentUser, gateway: Gateway) -> BillingOut:
    """A member's own subscription and invoices (role `member`, linked to a member record)."""
    member = _my_member(session, principal)
    return views.billing_of(session, principal.scope(session), gateway, member.id)


@router.post("/me/card")
def update_my_card(
    session: DbSession, settings: AppSettings, principal: CurrentUser, gateway: Gateway
) -> CheckoutOut:
    """A card page link where the member enters the card their subscription charges from now."""
    member = _my_member(session, principal)
    url = service.card_update_url(settings, principal.scope(session), gateway, member.id)
    return CheckoutOut(url=url)


# ---------------------------------------------------------------- tenant-wide


@router.get("/billing/dunning")
def dunning(session: DbSession, principal: Reader) -> list[DunningRow]:
    return views.dunning(session, principal)


@router.get("/billing/settings")
def billing_settings(
    session: DbSession, settings: AppSettings, principal: SettingsReader
) -> BillingSettingsOut:
    return views.settings_of(session, settings, principal)


@router.put("/billing/settings")
def update_billing_settings(
    body: BillingSettingsIn, session: DbSession, settings: AppSettings, principal: SettingsManager
) -> BillingSettingsOut:
    return views.update_settings(session, settings, principal, body)


@router.post("/billing/sync")
def sync_now(
    session: DbSession, settings: AppSettings, principal: SettingsManager, gateway: Gateway
) -> SyncOut:
    report = sync.reconcile(session, settings, gateway, principal.scope(session).tenant_id)
    return SyncOut(checked=report.checked, corrected=report.corrected, adopted=report.adopted)


@router.post("/payments/card/{token}", status_code=status.HTTP_201_CREATED)
def subscribe_with_confirmed_card(
    token: str, session: DbSession, settings: AppSettings, gateway: Gateway
) -> BillingOut:
    """The card page's last step: the member confirmed a card on the link's SetupIntent."""
    link = card_links.read(settings, token)
    _, payment_method = gateway.setup_intent(link.setup_intent)
    if payment_method is None:
        raise StripeRefused("The card was not confirmed: enter it again.")
    return service.use_confirmed_card(session, settings, gateway, link, payment_method)


# ---------------------------------------------------------------- the Stripe webhook


def _receive(payload: bytes, signature: str | None, settings: Settings) -> None:
    event = verify_webhook(payload, signature, settings.stripe_webhook_secret)
    session: Session
    with get_database().session() as session:
        if sync.record_event(session, event):
            enqueue(session, process_event, event_id=event.id)


# The seed's path with its trailing slash is a row of the guides' alias table (guides/aliases.py):
# both forms answer directly, since a redirect would lose the POST body at some senders.
@router.post("/payments/webhook")
async def stripe_webhook(request: Request) -> dict[str, bool]:
    """Verify the signature on the raw body, store the event id once, answer; a job does the
    work. A replay is answered 200 and does nothing."""
    payload = await request.body()
    signature = request.headers.get("stripe-signature")
    await run_in_threadpool(_receive, payload, signature, get_settings())
    return {"received": True}
