"""Refunds: staff refunding a payment, and what Stripe's charge says is refunded of it (after
our refund, or one made in the Dashboard: `charge.refunded`). Refunded amounts show on the
invoice the charge paid and on the one-time purchase it paid for, which, refunded in full,
gives no more access.

References: https://docs.stripe.com/api/refunds/create, https://docs.stripe.com/api/charges/object
(`amount_refunded`), https://docs.stripe.com/api/checkout/sessions/list (`payment_intent`).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from visage.billing import purchases
from visage.billing.errors import NoSubscription, NotRefundable
from visage.billing.gateway import StripeGateway
from visage.billing.models import BillingCustomer, InvoiceRefund, Purchase
from visage.billing.schemas import RefundIn, RefundOut
from visage.billing.stripe_objects import StripeCharge, StripeInvoice
from visage.core.db import utcnow
from visage.core.tenancy import TenantScope
from visage.identity import audit
from visage.identity.principal import Principal
from visage.members.models import Member

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Payment:
    """A member's payment as a refund needs it: the reference staff named, what it paid, and
    the PaymentIntent whose charge is refunded (None: nothing was charged)."""

    reference: str
    invoice_id: str | None
    paid_cents: int
    payment_intent_id: str | None


def _invoice_payment(
    scope: TenantScope, gateway: StripeGateway, member_id: uuid.UUID, invoice_id: str
) -> _Payment:
    invoice = gateway.invoice(invoice_id)
    owner = scope.session.scalar(
        scope.select(BillingCustomer).where(
            BillingCustomer.member_id == member_id,
            BillingCustomer.stripe_customer_id == invoice.customer_id,
        )
    )
    if owner is None:
        raise NoSubscription("This invoice is not this member's.")
    payment_intent = gateway.payment_intent_of(invoice) if invoice.amount_paid > 0 else None
    return _Payment(invoice.id, invoice.id, invoice.amount_paid, payment_intent)


def _purchase_payment(scope: TenantScope, member_id: uuid.UUID, payment_intent_id: str) -> _Payment:
    """A one-time purchase paid by a PaymentIntent and no invoice (LocalStripe's)."""
    purchase = scope.session.scalar(
        scope.select(Purchase).where(
            Purchase.member_id == member_id, Purchase.stripe_reference == payment_intent_id
        )
    )
    if purchase is None:
        raise NoSubscription("This payment is not one of this member's purchases.")
    return _Payment(payment_intent_id, None, purchase.amount_cents, payment_intent_id)


def refund(
    session: Session,
    principal: Principal,
    gateway: StripeGateway,
    member_id: uuid.UUID,
    data: RefundIn,
) -> RefundOut:
    """Refund all or part of what a member's payment took and is not refunded yet."""
    scope = principal.scope(session)
    scope.get(Member, member_id, what="Member")
    if data.invoice_id is not None:
        payment = _invoice_payment(scope, gateway, member_id, data.invoice_id)
    else:
        payment = _purchase_payment(scope, member_id, str(data.payment_intent_id))
    charge = gateway.latest_charge(payment.payment_intent_id) if payment.payment_intent_id else None
    if payment.payment_intent_id is None or charge is None:
        raise NotRefundable()
    refundable = payment.paid_cents - charge.amount_refunded
    if refundable <= 0:
        raise NotRefundable("This payment was refunded in full already.")
    if data.amount_cents is not None and data.amount_cents > refundable:
        raise NotRefundable(
            f"At most {refundable} cents can be refunded on this payment.",
            details={"refundable_cents": refundable},
        )
    amount = data.amount_cents or refundable
    refund_id = gateway.refund(
        payment.payment_intent_id,
        amount_cents=amount,
        key=f"visage-refund-{payment.reference}-{refundable}-{amount}",
    )
    refunded = gateway.latest_charge(payment.payment_intent_id)
    if refunded is not None:
        record_refund(session, gateway, refunded, actor=principal)
    audit.record(
        session,
        action="billing.refunded",
        actor=principal,
        tenant_id=scope.tenant_id,
        target_type="subscription",
        target_id=payment.reference,
        details={"refund_id": refund_id, "amount_cents": amount},
    )
    return RefundOut(
        refund_id=refund_id,
        invoice_id=payment.invoice_id,
        payment_intent_id=payment.payment_intent_id,
        amount_cents=amount,
    )


def record_refund(
    session: Session,
    gateway: StripeGateway,
    charge: StripeCharge,
    *,
    actor: Principal | None = None,
) -> None:
    """Keep what Stripe's charge says is refunded now: on the invoice it paid, and on the
    one-time purchase it paid for (which, refunded in full, ends)."""
    invoice_id = gateway.invoice_of(charge)
    invoice = gateway.invoice(invoice_id) if invoice_id else None
    customer = None
    if invoice is not None:
        customer = session.scalar(
            select(BillingCustomer).where(BillingCustomer.stripe_customer_id == invoice.customer_id)
        )
    if invoice is not None and customer is not None:
        store_refunded(session, customer.tenant_id, invoice.id, charge.amount_refunded)
    purchase = _purchase_paid_by(session, gateway, charge, invoice)
    if purchase is not None:
        purchases.apply_refund(session, purchase, charge, actor=actor)
    elif customer is None:
        logger.info("Refunded charge %s changes nothing of ours", charge.id)


def _purchase_paid_by(
    session: Session, gateway: StripeGateway, charge: StripeCharge, invoice: StripeInvoice | None
) -> Purchase | None:
    """The one-time purchase a refunded charge paid for: its invoice, its PaymentIntent
    (LocalStripe), or the Checkout Session it paid."""
    references = [ref for ref in (invoice.id if invoice else None, charge.payment_intent_id) if ref]
    purchase = purchases.paid_by(session, references)
    subscribed = invoice is not None and invoice.subscription_id is not None
    if purchase is None and charge.payment_intent_id and not subscribed:
        checkout = gateway.checkout_session_of(charge.payment_intent_id)
        purchase = purchases.paid_by(session, [checkout]) if checkout else None
    return purchase


def store_refunded(
    session: Session, tenant_id: uuid.UUID, invoice_id: str, amount_refunded: int
) -> None:
    """What Stripe says is refunded of an invoice, now (a later answer replaces it)."""
    session.execute(
        insert(InvoiceRefund)
        .values(
            stripe_invoice_id=invoice_id,
            tenant_id=tenant_id,
            amount_refunded_cents=amount_refunded,
        )
        .on_conflict_do_update(
            index_elements=[InvoiceRefund.stripe_invoice_id],
            set_={"amount_refunded_cents": amount_refunded, "updated_at": utcnow()},
        )
    )
