"""Keeping our copy equal to Stripe: received events, the job that applies them, reconciliation.

A webhook only says "look again": the job re-fetches the subscription from Stripe and applies
what Stripe says now, so late, repeated and out-of-order events all end in Stripe's truth.
Reconciliation does the same for every subscription of a tenant's customers, for the events
that never arrived.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from visage.access.decision import PaymentStatus
from visage.access.models import Membership, Plan
from visage.billing import purchases, refunds
from visage.billing.gateway import StripeGateway
from visage.billing.models import (
    BillingCustomer,
    BillingSettings,
    Subscription,
    WebhookEvent,
)
from visage.billing.notices import notify_payment_failed
from visage.billing.reasons import CONFIRM_WITH_BANK, payment_reason
from visage.billing.state import apply_to_membership, door_state
from visage.billing.stripe_objects import (
    ReceivedEvent,
    StripeInvoice,
    StripeSubscription,
)
from visage.config import Settings
from visage.core.db import utcnow
from visage.identity import audit

logger = logging.getLogger(__name__)

# Subscription metadata Visage writes, so a subscription it never saw (Checkout, a lost
# response) can be adopted by the right tenant, member and plan.
META_TENANT, META_MEMBER, META_PLAN = "visage_tenant", "visage_member", "visage_plan"
# On a Checkout payment's metadata (and its invoice's): the Checkout Session grants it, the
# invoice's own events must not grant it a second time.
META_VIA, VIA_CHECKOUT = "visage_via", "checkout"
OWING_STATUSES = frozenset({"past_due", "unpaid", "incomplete"})
LIVE_STATUSES = frozenset({"active", "trialing", "past_due", "unpaid", "paused", "incomplete"})


def record_event(session: Session, event: ReceivedEvent) -> bool:
    """Store a verified event once; False when this id was already received."""
    invoice_id = event.object.get("id") if event.object.get("object") == "invoice" else None
    inserted = session.execute(
        insert(WebhookEvent)
        .values(
            event_id=event.id,
            type=event.type,
            subscription_id=event.subscription_id,
            invoice_id=invoice_id,
            object_id=event.object_id,
        )
        .on_conflict_do_nothing(index_elements=[WebhookEvent.event_id])
        .returning(WebhookEvent.event_id)
    ).scalar()
    return inserted is not None


def grace_days(session: Session, settings: Settings, tenant_id: uuid.UUID) -> int:
    row = session.get(BillingSettings, tenant_id)
    return row.grace_days if row is not None else settings.billing_grace_days


def apply_stripe_state(
    session: Session,
    settings: Settings,
    row: Subscription,
    remote: StripeSubscription,
    *,
    invoice: StripeInvoice | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Our row and its membership, as Stripe says now (and what its latest invoice says is
    owed, when given); returns the drift it corrected."""
    now = now or utcnow()
    drift: dict[str, Any] = {}
    unpaid = invoice is not None and invoice.status not in ("paid", "void")
    if invoice is not None:
        row.amount_due_cents = invoice.amount_due if unpaid else None
        row.currency = invoice.currency
        if not unpaid or invoice.id != row.action_required_invoice_id:
            row.action_required_invoice_id = None  # paid, voided, or a newer invoice is owed
    if row.status != remote.status:
        drift["status"] = (row.status, remote.status)
    if remote.status == "past_due":
        row.past_due_since = row.past_due_since or now
    else:
        row.past_due_since = None
    row.status = remote.status
    row.current_period_end = remote.current_period_end
    row.cancel_at_period_end = remote.cancel_at_period_end
    row.paused_until = remote.resumes_at if remote.paused else None
    row.synced_at = now
    state = door_state(
        remote,
        past_due_since=row.past_due_since,
        now=now,
        grace_days=grace_days(session, settings, row.tenant_id),
    )
    if state.ended:
        row.action_required_invoice_id = None  # nothing is collected for it any more
    row.payment_reason = payment_reason(
        state.problem,
        invoice.failure_message if invoice is not None and unpaid else None,
        confirm_with_bank=row.action_required_invoice_id is not None,
    )
    membership = session.get_one(Membership, row.membership_id)
    drift |= apply_to_membership(
        membership,
        state,
        today=now.date(),
        resumes_on=remote.resumes_at.date() if remote.resumes_at else None,
    )
    session.flush()
    return drift


def subscription_row(session: Session, stripe_id: str) -> Subscription | None:
    return session.scalar(
        select(Subscription)
        .where(Subscription.stripe_subscription_id == stripe_id)
        .with_for_update()
    )


def adopt(
    session: Session,
    customer: BillingCustomer,
    plan: Plan,
    remote: StripeSubscription,
) -> Subscription:
    """Our row (and membership) for a Stripe subscription of `customer`, made once: a second
    caller racing on the same subscription gets the first one's row."""
    existing = subscription_row(session, remote.id)
    if existing is not None:
        return existing
    try:
        with session.begin_nested():
            membership = Membership(
                tenant_id=customer.tenant_id,
                member_id=customer.member_id,
                plan_id=plan.id,
                starts_on=utcnow().date(),
                payment_status=PaymentStatus.OVERDUE,  # until Stripe's state is applied
            )
            session.add(membership)
            session.flush()
            row = Subscription(
                tenant_id=customer.tenant_id,
                member_id=customer.member_id,
                plan_id=plan.id,
                membership_id=membership.id,
                stripe_subscription_id=remote.id,
                status="new",
            )
            session.add(row)
            session.flush()
    except IntegrityError:
        winner = subscription_row(session, remote.id)
        if winner is None:
            raise
        return winner
    return row


def _adoptable(session: Session, remote: StripeSubscription) -> tuple[BillingCustomer, Plan] | None:
    return _owner(session, remote.customer_id, remote.metadata)


def _owner(
    session: Session, customer_id: str | None, metadata: Mapping[str, str]
) -> tuple[BillingCustomer, Plan] | None:
    """Our customer and the plan Visage's metadata names, for a Stripe object we never saw."""
    customer = session.scalar(
        select(BillingCustomer).where(BillingCustomer.stripe_customer_id == customer_id)
    )
    plan_id = metadata.get(META_PLAN)
    if customer is None or not plan_id:
        return None
    try:
        plan = session.scalar(
            select(Plan).where(Plan.id == uuid.UUID(plan_id), Plan.tenant_id == customer.tenant_id)
        )
    except ValueError:
        return None
    return (customer, plan) if plan is not None else None


def latest_invoice(gateway: StripeGateway, invoice_id: str | None) -> StripeInvoice | None:
    return gateway.invoice(invoice_id) if invoice_id else None


CHECKOUT_COMPLETED = "checkout.session.completed"
CHARGE_REFUNDED = "charge.refunded"
INVOICE_PAID = frozenset({"invoice.paid", "invoice.payment_succeeded"})
ACTION_REQUIRED = "invoice.payment_action_required"
TRIAL_WILL_END = "customer.subscription.trial_will_end"


def process_event(
    session: Session, settings: Settings, gateway: StripeGateway, event_id: str
) -> None:
    """The job of one received event: re-fetch from Stripe, apply, notify; idempotent."""
    event = session.scalar(
        select(WebhookEvent).where(WebhookEvent.event_id == event_id).with_for_update()
    )
    if event is None or event.processed_at is not None:
        return
    subscription_id = event.subscription_id
    if event.type == CHECKOUT_COMPLETED and event.object_id:
        checkout = gateway.checkout_session(event.object_id)
        subscription_id = checkout.subscription_id
        if checkout.mode == "payment" and checkout.paid:
            _grant_paid(
                session,
                checkout.customer_id,
                checkout.metadata,
                reference=checkout.id,
                amount_cents=checkout.amount_total,
                currency=checkout.currency,
            )
    elif event.type == CHARGE_REFUNDED and event.object_id:
        refunds.record_refund(session, gateway, gateway.charge(event.object_id))
    elif event.type in INVOICE_PAID and event.invoice_id and not subscription_id:
        invoice = gateway.invoice(event.invoice_id)
        if invoice.status == "paid" and invoice.metadata.get(META_VIA) != VIA_CHECKOUT:
            _grant_paid(
                session,
                invoice.customer_id,
                invoice.metadata,
                reference=invoice.id,
                amount_cents=invoice.amount_paid,
                currency=invoice.currency,
            )
    if subscription_id:
        _apply_subscription_event(session, settings, gateway, event, subscription_id)
    event.processed_at = utcnow()


def _grant_paid(
    session: Session,
    customer_id: str | None,
    metadata: Mapping[str, str],
    *,
    reference: str,
    amount_cents: int,
    currency: str,
) -> None:
    """A one-time plan paid where we did not see the answer (Checkout, a lost response)."""
    owner = _owner(session, customer_id, metadata)
    if owner is None:
        logger.info("Stripe payment %s is for no plan of ours", reference)
        return
    purchases.grant(
        session, *owner, reference=reference, amount_cents=amount_cents, currency=currency
    )


def _apply_subscription_event(
    session: Session,
    settings: Settings,
    gateway: StripeGateway,
    event: WebhookEvent,
    subscription_id: str,
) -> None:
    remote = gateway.subscription(subscription_id)
    row = subscription_row(session, remote.id)
    if row is None and (found := _adoptable(session, remote)) is not None:
        row = adopt(session, *found, remote)
    if row is None:
        logger.info(
            "Stripe event %s (%s) is about no subscription of ours", event.event_id, event.type
        )
        return
    # What is owed comes from the subscription's latest invoice, never from the (possibly
    # older) invoice an event is about.
    invoice = latest_invoice(gateway, remote.latest_invoice_id)
    about_latest = event.invoice_id == remote.latest_invoice_id  # usually: fetched once
    about = invoice if about_latest else latest_invoice(gateway, event.invoice_id)
    unpaid = about is not None and about.status == "open"
    if event.type == ACTION_REQUIRED and about and unpaid and about_latest:
        row.action_required_invoice_id = about.id
    drift = apply_stripe_state(session, settings, row, remote, invoice=invoice)
    if drift:
        logger.info("Stripe event %s on %s: %s", event.type, remote.id, drift)
    if event.type == "invoice.payment_failed" and about and unpaid:
        notify_payment_failed(session, settings, row, about)
    elif event.type == ACTION_REQUIRED and about and unpaid:
        notify_payment_failed(session, settings, row, about, reason=CONFIRM_WITH_BANK)
    elif event.type == TRIAL_WILL_END and remote.status == "trialing":
        audit.record(
            session,
            action="billing.trial_ending",
            actor=None,
            tenant_id=row.tenant_id,
            target_type="subscription",
            target_id=remote.id,
            details={"trial_end": remote.trial_end.isoformat() if remote.trial_end else None},
        )


@dataclass
class SyncReport:
    checked: int = 0
    corrected: int = 0
    adopted: int = 0


def reconcile(
    session: Session, settings: Settings, gateway: StripeGateway, tenant_id: uuid.UUID | None
) -> SyncReport:
    """List every subscription of the customers (of one tenant, or all) in Stripe and correct
    the drift; each correction is logged and audited."""
    report = SyncReport()
    statement = select(BillingCustomer).order_by(BillingCustomer.created_at)
    if tenant_id is not None:
        statement = statement.where(BillingCustomer.tenant_id == tenant_id)
    for customer in session.scalars(statement).all():
        for remote in gateway.subscriptions(customer_id=customer.stripe_customer_id):
            report.checked += 1
            row = subscription_row(session, remote.id)
            if row is None:
                found = _adoptable(session, remote)
                if found is None or remote.status not in LIVE_STATUSES:
                    continue
                row = adopt(session, *found, remote)
                report.adopted += 1
            # The invoice the bank wanted confirmed is looked at again, in case its payment's
            # event never arrived.
            owing = remote.status in OWING_STATUSES or row.action_required_invoice_id is not None
            invoice = latest_invoice(gateway, remote.latest_invoice_id) if owing else None
            drift = apply_stripe_state(session, settings, row, remote, invoice=invoice)
            if drift:
                report.corrected += 1
                logger.warning("Billing drift on %s corrected: %s", remote.id, drift)
                audit.record(
                    session,
                    action="billing.drift_corrected",
                    actor=None,
                    tenant_id=row.tenant_id,
                    target_type="subscription",
                    target_id=remote.id,
                    details={key: list(value) for key, value in drift.items()},
                )
    return report
