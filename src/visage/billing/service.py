"""Billing rules: plan prices, one Stripe customer per member, subscriptions and what staff do
with them. No FastAPI here; nothing commits. Stripe is reached only through the gateway.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from visage.access.models import Plan
from visage.billing import card_links, purchases, sync, views
from visage.billing.errors import (
    AlreadySubscribed,
    NoSubscription,
    PlanNotPriced,
)
from visage.billing.gateway import StripeGateway
from visage.billing.models import (
    BillingCustomer,
    BillingInterval,
    PlanPrice,
    Purchase,
    Subscription,
)
from visage.billing.schemas import (
    BillingOut,
    PriceIn,
)
from visage.billing.stripe_objects import PriceTerms, StripeSubscription
from visage.config import Settings
from visage.core.tenancy import TenantScope
from visage.identity import audit
from visage.identity.principal import Principal
from visage.members.models import Member

ENDED_STATUSES = frozenset({"canceled", "incomplete_expired"})


def _audit(
    session: Session,
    principal: Principal | None,
    action: str,
    target_id: str,
    details: dict[str, Any],
    *,
    tenant_id: uuid.UUID | None = None,
) -> None:
    audit.record(
        session,
        action=action,
        actor=principal,
        tenant_id=tenant_id or (principal.tenant_id if principal else None),
        target_type="subscription",
        target_id=target_id,
        details=details,
    )


# ---------------------------------------------------------------- prices


def set_price(
    session: Session,
    principal: Principal,
    gateway: StripeGateway,
    plan_id: uuid.UUID,
    data: PriceIn,
) -> PlanPrice:
    """Price a plan, creating or updating its Stripe product and price (a new price only when
    the amount, currency or interval changed: Stripe prices are immutable)."""
    scope = principal.scope(session)
    plan = scope.get(Plan, plan_id, what="Plan")
    price = session.get(PlanPrice, plan.id)
    if price is None:
        price = scope.add(PlanPrice(plan_id=plan.id))
    sold_as = (price.price_cents, price.currency, price.billing_interval)
    price.price_cents, price.currency = data.price_cents, data.currency.lower()
    price.billing_interval = data.billing_interval
    price.trial_days, price.setup_fee_cents = data.trial_days, data.setup_fee_cents
    terms = PriceTerms(plan.name, price.price_cents, price.currency, price.billing_interval.value)
    if price.stripe_product_id and price.stripe_price_id and sold_as == terms.sold_as:
        gateway.rename_product(price.stripe_product_id, plan.name)
    else:
        price.stripe_product_id, price.stripe_price_id = gateway.save_price(
            terms,
            product_id=price.stripe_product_id,
            price_id=price.stripe_price_id,
            key=f"visage-plan-{plan.id}",
        )
    details = {
        "price_cents": price.price_cents,
        "currency": price.currency,
        "billing_interval": price.billing_interval.value,
        "trial_days": price.trial_days,
        "setup_fee_cents": price.setup_fee_cents,
    }
    _audit(session, principal, "billing.price_set", str(price.stripe_price_id), details)
    session.flush()
    return price


def get_price(session: Session, principal: Principal, plan_id: uuid.UUID) -> PlanPrice:
    scope = principal.scope(session)
    scope.get(Plan, plan_id, what="Plan")
    return _price(scope, plan_id)


def _price(scope: TenantScope, plan_id: uuid.UUID) -> PlanPrice:
    price = scope.session.scalar(scope.select(PlanPrice).where(PlanPrice.plan_id == plan_id))
    if price is None:
        raise PlanNotPriced()
    return price


def list_prices(session: Session, principal: Principal) -> list[PlanPrice]:
    return list(session.scalars(principal.scope(session).select(PlanPrice)))


def _recurring_price(scope: TenantScope, plan_id: uuid.UUID) -> tuple[Plan, PlanPrice]:
    plan = scope.get(Plan, plan_id, what="Plan")
    price = _price(scope, plan.id)
    if price.billing_interval is BillingInterval.ONE_TIME or not price.stripe_price_id:
        raise PlanNotPriced("This plan is sold once, not by subscription.")
    return plan, price


# ---------------------------------------------------------------- customers


def ensure_customer(
    scope: TenantScope, gateway: StripeGateway, member_id: uuid.UUID
) -> BillingCustomer:
    """The member's one Stripe customer, created once: the member row is locked, and the
    idempotency key is the member's, so even a lost response cannot make a second one."""
    member = scope.get(Member, member_id, what="Member")
    scope.session.refresh(member, with_for_update=True)
    customer = scope.session.scalar(
        scope.select(BillingCustomer).where(BillingCustomer.member_id == member.id)
    )
    if customer is not None:
        return customer
    stripe_id = gateway.create_customer(
        name=member.full_name,
        email=member.email,
        metadata={sync.META_TENANT: str(scope.tenant_id), sync.META_MEMBER: str(member.id)},
        key=f"visage-customer-{scope.tenant_id}-{member.id}",
    )
    customer = scope.add(BillingCustomer(member_id=member.id, stripe_customer_id=stripe_id))
    scope.session.flush()
    return customer


# ---------------------------------------------------------------- subscriptions


def _live_subscription(scope: TenantScope, member_id: uuid.UUID) -> Subscription | None:
    return scope.session.scalar(
        scope.select(Subscription)
        .where(
            Subscription.member_id == member_id,
            Subscription.status.not_in(ENDED_STATUSES),
        )
        .order_by(Subscription.created_at.desc())
        .limit(1)
    )


def _unrecorded_attempt(
    gateway: StripeGateway, customer: BillingCustomer, plan: Plan
) -> StripeSubscription | None:
    """A live subscription Stripe has for this member and plan that we never recorded (an
    earlier attempt whose response was lost): it is adopted instead of charging again."""
    for remote in gateway.subscriptions(customer_id=customer.stripe_customer_id):
        if remote.status in sync.LIVE_STATUSES and remote.metadata.get(sync.META_PLAN) == str(
            plan.id
        ):
            return remote
    return None


@dataclass(frozen=True)
class _Sale:
    """What selling a plan to a member needs, checked: a Stripe price, the member's customer
    (its row locked), no live subscription for a recurring plan, and this attempt's number."""

    plan: Plan
    price: PlanPrice
    customer: BillingCustomer
    attempt: int
    metadata: dict[str, str]

    @property
    def one_time(self) -> bool:
        return self.price.billing_interval is BillingInterval.ONE_TIME


def _sale(
    scope: TenantScope, gateway: StripeGateway, member_id: uuid.UUID, plan_id: uuid.UUID
) -> _Sale:
    plan = scope.get(Plan, plan_id, what="Plan")
    price = _price(scope, plan.id)
    if not price.stripe_price_id:
        raise PlanNotPriced()
    customer = ensure_customer(scope, gateway, member_id)
    earlier: type[Purchase] | type[Subscription] = Purchase
    if price.billing_interval is not BillingInterval.ONE_TIME:
        if _live_subscription(scope, member_id) is not None:
            raise AlreadySubscribed()
        earlier = Subscription
    attempt = scope.session.scalar(select(func.count()).where(earlier.member_id == member_id))
    metadata = {
        sync.META_TENANT: str(scope.tenant_id),
        sync.META_MEMBER: str(member_id),
        sync.META_PLAN: str(plan.id),
    }
    return _Sale(plan, price, customer, attempt or 0, metadata)


def subscribe(
    session: Session,
    settings: Settings,
    scope: TenantScope,
    actor: Principal | None,
    gateway: StripeGateway,
    member_id: uuid.UUID,
    plan_id: uuid.UUID,
    payment_method: str,
) -> None:
    """Sell a plan with a PaymentMethod: staff at the desk (`actor`), or the member on the
    card page (no actor). A recurring plan is subscribed to; a one-time plan is bought with a
    single charge that gives a membership for the plan's term."""
    sale = _sale(scope, gateway, member_id, plan_id)
    if sale.one_time:
        purchase = purchases.buy(
            session,
            gateway,
            sale.customer,
            sale.plan,
            sale.price,
            payment_method=payment_method,
            metadata=sale.metadata,
        )
        details: dict[str, Any] = {
            "plan_id": str(sale.plan.id),
            "amount_cents": purchase.amount_cents,
        }
        _audit(
            session,
            actor,
            "billing.purchased",
            purchase.stripe_reference,
            details,
            tenant_id=scope.tenant_id,
        )
        return
    plan, price, customer = sale.plan, sale.price, sale.customer
    gateway.set_default_payment_method(customer.stripe_customer_id, payment_method)
    remote = _unrecorded_attempt(gateway, customer, plan)
    if remote is None:
        key = f"visage-subscription-{member_id}-{plan.id}-{sale.attempt}"
        if price.setup_fee_cents:
            gateway.add_one_time_charge(
                customer.stripe_customer_id,
                amount_cents=price.setup_fee_cents,
                currency=price.currency,
                description=f"Setup fee: {plan.name}",
                key=f"{key}-setup-fee",
            )
        remote = gateway.create_subscription(
            customer.stripe_customer_id,
            str(price.stripe_price_id),
            trial_days=price.trial_days,
            metadata=sale.metadata,
            key=key,
        )
    row = sync.adopt(session, customer, plan, remote)
    invoice = sync.latest_invoice(gateway, remote.latest_invoice_id)
    sync.apply_stripe_state(session, settings, row, remote, invoice=invoice)
    details = {"plan_id": str(plan.id)}
    _audit(session, actor, "billing.subscribed", remote.id, details, tenant_id=scope.tenant_id)


def checkout_url(
    session: Session,
    principal: Principal,
    gateway: StripeGateway,
    settings: Settings,
    member_id: uuid.UUID,
    plan_id: uuid.UUID,
) -> str:
    """Stripe Checkout's page, or (LocalStripe has no Checkout) Visage's card page."""
    scope = principal.scope(session)
    sale = _sale(scope, gateway, member_id, plan_id)
    base = settings.public_base_url.rstrip("/")
    key = f"visage-checkout-{member_id}-{sale.plan.id}-{sale.attempt}"
    url = gateway.checkout_url(
        sale.customer.stripe_customer_id,
        str(sale.price.stripe_price_id),
        metadata={**sale.metadata, sync.META_VIA: sync.VIA_CHECKOUT},
        one_time=sale.one_time,
        success_url=f"{base}/billing/done",
        cancel_url=f"{base}/billing/done?canceled=1",
        key=key,
    )
    if url is not None:
        return url
    # No Checkout (LocalStripe): Visage's card page confirms a SetupIntent with Stripe.js.
    return card_page_url(settings, scope, gateway, sale.customer, sale.plan.id, key=key)


def card_page_url(
    settings: Settings,
    scope: TenantScope,
    gateway: StripeGateway,
    customer: BillingCustomer,
    plan_id: uuid.UUID | None,
    *,
    key: str,
) -> str:
    """A link to Visage's card page, for subscribing to `plan_id` or (None) replacing the card."""
    setup_intent = gateway.create_setup_intent(customer.stripe_customer_id, key=key)
    token = card_links.issue(
        settings,
        tenant_id=scope.tenant_id,
        member_id=customer.member_id,
        plan_id=plan_id,
        setup_intent=setup_intent,
    )
    return f"{settings.public_base_url.rstrip('/')}/billing/card/{token}"


def my_member(session: Session, principal: Principal) -> Member | None:
    """The member record linked to a signed-in user (role `member`)."""
    scope = principal.scope(session)
    return session.scalar(scope.select(Member).where(Member.user_id == principal.id))


def card_update_url(
    settings: Settings,
    scope: TenantScope,
    gateway: StripeGateway,
    member_id: uuid.UUID,
) -> str:
    """A card page link for a member to change the card their subscription charges."""
    customer = _customer(scope, member_id)
    attempt = uuid.uuid4().hex  # each request is a new SetupIntent; nothing is charged
    return card_page_url(settings, scope, gateway, customer, None, key=f"visage-card-{attempt}")


def use_confirmed_card(
    session: Session,
    settings: Settings,
    gateway: StripeGateway,
    link: card_links.CardLink,
    payment_method: str,
) -> BillingOut:
    """The card page's last step: subscribe to the link's plan, or make it the member's card."""
    scope = TenantScope(session, link.tenant_id)
    if link.plan_id is None:
        customer = _customer(scope, link.member_id)
        gateway.set_default_payment_method(customer.stripe_customer_id, payment_method)
        _audit(
            session,
            None,
            "billing.card_updated",
            customer.stripe_customer_id,
            {},
            tenant_id=scope.tenant_id,
        )
    else:
        subscribe(
            session, settings, scope, None, gateway, link.member_id, link.plan_id, payment_method
        )
    return views.billing_of(session, scope, gateway, link.member_id)


@dataclass(frozen=True)
class Desk:
    """Staff changing a member's live subscription: each change is made in Stripe, Stripe's
    answer is applied through the one mapping, and the change is audited."""

    session: Session
    settings: Settings
    principal: Principal
    gateway: StripeGateway

    def _act(
        self,
        member_id: uuid.UUID,
        action: str,
        change: Callable[[Subscription], tuple[StripeSubscription, dict[str, Any]]],
    ) -> Subscription:
        row = _current(self.principal.scope(self.session), member_id)
        remote, details = change(row)
        sync.apply_stripe_state(self.session, self.settings, row, remote)
        _audit(self.session, self.principal, action, remote.id, details)
        return row

    def cancel(self, member_id: uuid.UUID, *, at_period_end: bool) -> Subscription:
        return self._act(
            member_id,
            "billing.canceled",
            lambda row: (
                self.gateway.cancel(row.stripe_subscription_id, at_period_end=at_period_end),
                {"at_period_end": at_period_end},
            ),
        )

    def freeze(self, member_id: uuid.UUID, resumes_at: datetime | None) -> Subscription:
        return self._act(
            member_id,
            "billing.paused",
            lambda row: (
                self.gateway.pause(row.stripe_subscription_id, resumes_at=resumes_at),
                {"resumes_at": resumes_at.isoformat() if resumes_at else None},
            ),
        )

    def resume(self, member_id: uuid.UUID) -> Subscription:
        return self._act(
            member_id,
            "billing.resumed",
            lambda row: (self.gateway.resume(row.stripe_subscription_id), {}),
        )

    def change_plan(self, member_id: uuid.UUID, plan_id: uuid.UUID) -> Subscription:
        plan, price = _recurring_price(self.principal.scope(self.session), plan_id)

        def change(row: Subscription) -> tuple[StripeSubscription, dict[str, Any]]:
            remote = self.gateway.change_price(
                row.stripe_subscription_id, str(price.stripe_price_id)
            )
            details = {"from_plan_id": str(row.plan_id), "to_plan_id": str(plan.id)}
            row.plan_id = plan.id
            return remote, details

        return self._act(member_id, "billing.plan_changed", change)

    def billing(self, member_id: uuid.UUID) -> BillingOut:
        return views.billing_of(
            self.session, self.principal.scope(self.session), self.gateway, member_id
        )


def _current(scope: TenantScope, member_id: uuid.UUID) -> Subscription:
    scope.get(Member, member_id, what="Member")
    row = _live_subscription(scope, member_id)
    if row is None:
        raise NoSubscription()
    return scope.session.get_one(Subscription, row.id, with_for_update=True)


def _customer(scope: TenantScope, member_id: uuid.UUID) -> BillingCustomer:
    scope.get(Member, member_id, what="Member")
    customer = scope.session.scalar(
        scope.select(BillingCustomer).where(BillingCustomer.member_id == member_id)
    )
    if customer is None:
        raise NoSubscription("This member has no billing account yet.")
    return customer


def resume_time(day: Any) -> datetime | None:
    """A resume date as the moment Stripe resumes collection (midnight UTC)."""
    return datetime.combine(day, time(), UTC) if day else None
