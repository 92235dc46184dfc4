"""What billing tells a member, through the one notification hook (WhatsApp where the member
opted in, else email)."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from visage.billing.models import Subscription
from visage.billing.stripe_objects import StripeInvoice
from visage.config import Settings
from visage.i18n.context import gettext, using
from visage.i18n.formatting import format_minor_units
from visage.i18n.preferences import locale_for_tenant
from visage.notifications.service import NotificationKind, notify

logger = logging.getLogger(__name__)


def notify_payment_failed(
    session: Session,
    settings: Settings,
    subscription: Subscription,
    invoice: StripeInvoice,
    *,
    reason: str | None = None,
) -> bool:
    """Tell the member that a payment failed (or, with `reason`, why it waits), once per
    invoice and reason; False when no channel could reach them."""
    with using(locale_for_tenant(session, subscription.tenant_id)):
        # `reason` is a catalog message (the dedupe key keeps it as is); Stripe's decline
        # message comes in Stripe's words.
        why = gettext(reason) if reason else invoice.failure_message
        amount = format_minor_units(invoice.amount_due, invoice.currency)
    said = f" ({why})" if why else ""
    notified = notify(
        session,
        tenant_id=subscription.tenant_id,
        member_id=subscription.member_id,
        kind=NotificationKind.PAYMENT_FAILED,
        variables={
            "amount": amount,
            "reason": said,
            "link": f"{settings.public_base_url.rstrip('/')}/app/me",
        },
        dedupe_key=f"invoice:{invoice.id}" + (f":{reason}" if reason else ""),
    )
    if notified.channel is None:
        logger.info("Payment failed for member %s: %s", subscription.member_id, notified.skipped)
    return notified.channel is not None
