"""One-time plans: a single charge (a Stripe invoice, or a Checkout payment) buys a membership
for the plan's own term (its days, its visits). Each payment grants exactly once, whoever
sees it first: the desk request, the card page, or the webhook job. Each refund of it is kept
on it; refunded in full, it gives no more access."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from visage.access.decision import PaymentStatus
from visage.access.models import Membership, Plan
from visage.billing.gateway import StripeGateway
from visage.billing.models import BillingCustomer, PlanPrice, Purchase
from visage.billing.state import DoorState, apply_to_membership
from visage.billing.stripe_objects import StripeCharge
from visage.core.db import utcnow
from visage.identity import audit
from visage.identity.principal import Principal


def _purchase(session: Session, reference: str) -> Purchase | None:
    return session.scalar(select(Purchase).where(Purchase.stripe_reference == reference))


def grant(
    session: Session,
    customer: BillingCustomer,
    plan: Plan,
    *,
    reference: str,
    amount_cents: int,
    currency: str,
) -> Purchase:
    """The membership a paid one-time payment (`reference`: its invoice or Checkout Session)
    buys, made once: a second caller gets the first one's purchase."""
    existing = _purchase(session, reference)
    if existing is not None:
        return existing
    starts_on = utcnow().date()
    ends_on, visits = plan.term_from(starts_on)
    try:
        with session.begin_nested():
            membership = Membership(
                tenant_id=customer.tenant_id,
                member_id=customer.member_id,
                plan_id=plan.id,
                starts_on=starts_on,
                ends_on=ends_on,
                visits_remaining=visits,
                payment_status=PaymentStatus.CURRENT,
            )
            session.add(membership)
            session.flush()
            purchase = Purchase(
                tenant_id=customer.tenant_id,
                member_id=customer.member_id,
                plan_id=plan.id,
                membership_id=membership.id,
                stripe_reference=reference,
                amount_cents=amount_cents,
                currency=currency,
            )
            session.add(purchase)
            session.flush()
    except IntegrityError:
        winner = _purchase(session, reference)
        if winner is None:
            raise
        return winner
    return purchase


def buy(
    session: Session,
    gateway: StripeGateway,
    customer: BillingCustomer,
    plan: Plan,
    price: PlanPrice,
    *,
    payment_method: str,
    metadata: Mapping[str, str],
) -> Purchase:
    """Charge the plan's price once to `payment_method` and grant its membership. The key
    names the card, so a retry after a lost answer replays the same charge, and another card
    after a decline is a new one."""
    method_id = gateway.set_default_payment_method(customer.stripe_customer_id, payment_method)
    bought = session.scalar(select(func.count()).where(Purchase.member_id == customer.member_id))
    paid = gateway.charge_once(
        customer.stripe_customer_id,
        method_id,
        amount_cents=price.price_cents,
        currency=price.currency,
        description=plan.name,
        metadata=metadata,
        key=f"visage-purchase-{customer.member_id}-{plan.id}-{bought or 0}-{method_id}",
    )
    return grant(
        session,
        customer,
        plan,
        reference=paid.reference,
        amount_cents=paid.amount_paid,
        currency=paid.currency,
    )


def purchases_of(session: Session, tenant_id: uuid.UUID, member_id: uuid.UUID) -> list[Purchase]:
    return list(
        session.scalars(
            select(Purchase)
            .where(Purchase.tenant_id == tenant_id, Purchase.member_id == member_id)
            .order_by(Purchase.created_at.desc())
        )
    )


def paid_by(session: Session, references: Collection[str]) -> Purchase | None:
    """The purchase one of a payment's Stripe references (its invoice, PaymentIntent or
    Checkout Session) paid for."""
    return session.scalar(select(Purchase).where(Purchase.stripe_reference.in_(references)))


REFUNDED = DoorState(PaymentStatus.LAPSED, ended=True)


def apply_refund(
    session: Session, purchase: Purchase, charge: StripeCharge, *, actor: Principal | None
) -> None:
    """Keep what Stripe's charge says is refunded of a purchase's payment; refunded in full,
    the purchase ends its membership today, audited once (the desk's refund and Stripe's
    `charge.refunded` both arrive here)."""
    session.refresh(purchase, with_for_update=True)  # the desk and the event, one at a time
    purchase.amount_refunded_cents = charge.amount_refunded
    if not charge.refunded_in_full:
        return
    membership = session.get_one(Membership, purchase.membership_id)
    changes = apply_to_membership(membership, REFUNDED, today=utcnow().date(), resumes_on=None)
    if not changes:
        return
    audit.record(
        session,
        action="billing.purchase_refunded",
        actor=actor,
        tenant_id=purchase.tenant_id,
        target_type="membership",
        target_id=str(membership.id),
        details={
            "stripe_reference": purchase.stripe_reference,
            "charge_id": charge.id,
            **{key: list(value) for key, value in changes.items()},
        },
    )
