"""What billing tells a member. One function per notice; the messaging domain routes them
through its notification hook (email now, WhatsApp later)."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from visage.billing.gateway import StripeInvoice
from visage.billing.models import Subscription
from visage.config import Settings
from visage.identity.email import send_email
from visage.members.models import Member

logger = logging.getLogger(__name__)


def notify_payment_failed(
    session: Session, settings: Settings, subscription: Subscription, invoice: StripeInvoice
) -> bool:
    """Email the member that a payment failed; False when the member has no email address."""
    member = session.get_one(Member, subscription.member_id)
    if not member.email:
        logger.info("Payment failed for member %s, who has no email address", member.id)
        return False
    amount = f"{invoice.amount_due / 100:.2f} {invoice.currency.upper()}"
    reason = f" ({invoice.failure_message})" if invoice.failure_message else ""
    body = (
        f"Hello {member.full_name},\n\n"
        f"We could not take your membership payment of {amount}{reason}.\n"
        "Please update your card at the front desk or on your member page:\n"
        f"{settings.public_base_url.rstrip('/')}/me\n"
    )
    send_email(session, to=member.email, subject="Your membership payment failed", body=body)
    return True
