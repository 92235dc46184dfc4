"""What staff and members see of billing: a member's subscription and invoices, the dunning
list, the billing settings. Read-only but for the grace period."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from visage.billing import purchases, reasons, sync
from visage.billing.gateway import StripeGateway
from visage.billing.models import BillingCustomer, BillingSettings, InvoiceRefund, Subscription
from visage.billing.schemas import (
    BillingOut,
    BillingSettingsIn,
    BillingSettingsOut,
    DunningRow,
    InvoiceOut,
    PurchaseOut,
)
from visage.config import Settings
from visage.core.tenancy import TenantScope
from visage.identity import audit
from visage.identity.principal import Principal
from visage.members.models import Member

WEBHOOK_PATH = "/api/v1/payments/webhook/"


def _latest_subscription(scope: TenantScope, member_id: uuid.UUID) -> Subscription | None:
    return scope.session.scalar(
        scope.select(Subscription)
        .where(Subscription.member_id == member_id)
        .order_by(Subscription.created_at.desc())
        .limit(1)
    )


def billing_of(
    session: Session, scope: TenantScope, gateway: StripeGateway | None, member_id: uuid.UUID
) -> BillingOut:
    scope.get(Member, member_id, what="Member")
    customer = session.scalar(
        scope.select(BillingCustomer).where(BillingCustomer.member_id == member_id)
    )
    found = (
        gateway.invoices(customer.stripe_customer_id)
        if customer is not None and gateway is not None
        else []
    )
    refunded = {
        refund.stripe_invoice_id: refund.amount_refunded_cents
        for refund in session.scalars(
            scope.select(InvoiceRefund).where(
                InvoiceRefund.stripe_invoice_id.in_([item.id for item in found])
            )
        )
    }
    invoices = [
        InvoiceOut.model_validate(item, from_attributes=True).model_copy(
            update={"amount_refunded": refunded.get(item.id, 0)}
        )
        for item in found
    ]
    row = _latest_subscription(scope, member_id)
    return BillingOut(
        status=row.status if row else "none",
        plan_id=row.plan_id if row else None,
        membership_id=row.membership_id if row else None,
        stripe_subscription_id=row.stripe_subscription_id if row else None,
        current_period_end=row.current_period_end if row else None,
        cancel_at_period_end=row.cancel_at_period_end if row else False,
        paused_until=row.paused_until if row else None,
        payment_problem=reasons.describe(row.payment_reason) if row else None,
        invoices=invoices,
        purchases=[
            PurchaseOut.model_validate(purchase)
            for purchase in purchases.purchases_of(session, scope.tenant_id, member_id)
        ],
    )


def dunning(session: Session, principal: Principal) -> list[DunningRow]:
    """Who is past due or unpaid, since when, how much: oldest first."""
    scope = principal.scope(session)
    rows = session.execute(
        scope.select(Subscription)
        .add_columns(Member.full_name)
        .join(Member, Member.id == Subscription.member_id)
        .where(Subscription.status.in_(sync.OWING_STATUSES))
        .order_by(Subscription.past_due_since.asc().nulls_last(), Subscription.created_at)
    ).all()
    return [
        DunningRow(
            member_id=row.member_id,
            full_name=full_name,
            status=row.status,
            past_due_since=row.past_due_since,
            amount_due_cents=row.amount_due_cents,
            currency=row.currency,
            payment_problem=reasons.describe(row.payment_reason),
        )
        for row, full_name in rows
    ]


def stripe_mode(settings: Settings) -> str:
    if not settings.stripe_secret_key:
        return "not configured"
    if settings.use_localstripe:
        return "localstripe"
    return "test" if settings.stripe_secret_key.startswith("sk_test_") else "live"


def settings_of(session: Session, settings: Settings, principal: Principal) -> BillingSettingsOut:
    tenant_id = principal.scope(session).tenant_id
    return BillingSettingsOut(
        grace_days=sync.grace_days(session, settings, tenant_id),
        stripe_mode=stripe_mode(settings),
        public_key_set=bool(settings.stripe_public_key),
        secret_key_set=bool(settings.stripe_secret_key),
        webhook_secret_set=bool(settings.stripe_webhook_secret),
        webhook_url=settings.public_base_url.rstrip("/") + WEBHOOK_PATH,
    )


def update_settings(
    session: Session, settings: Settings, principal: Principal, data: BillingSettingsIn
) -> BillingSettingsOut:
    scope = principal.scope(session)
    row = session.get(BillingSettings, scope.tenant_id)
    if row is None:
        row = scope.add(BillingSettings(grace_days=data.grace_days))
    row.grace_days = data.grace_days
    audit.record(
        session,
        action="billing.settings_updated",
        actor=principal,
        tenant_id=scope.tenant_id,
        target_type="tenant",
        target_id=str(scope.tenant_id),
        details={"grace_days": data.grace_days},
    )
    session.flush()
    return settings_of(session, settings, principal)
