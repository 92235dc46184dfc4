"""`notify(...)`: the member's channel (WhatsApp when they opted in and can get it, else email),
the tenant's template for the event if it has one, and the tenant's quiet hours.

WhatsApp needs an explicit opt-in; email is the default channel for these service messages
unless the member's preference turned it off. A WhatsApp message waits out the quiet hours in
the messaging queue (its send job checks them); an email is scheduled for their end.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from visage.config import get_settings
from visage.core.db import utcnow
from visage.core.errors import AppError
from visage.core.tenancy import TenantId, TenantScope
from visage.i18n.context import N_, gettext, using
from visage.i18n.preferences import locale_for_tenant
from visage.identity.email import send_email
from visage.members.models import Member
from visage.messaging import consent, pacing, service, templates
from visage.messaging.tasks import submit


class NotificationKind(enum.StrEnum):
    NEW_PHOTOS = "new_photos"
    PAYMENT_FAILED = "payment_failed"
    MEMBERSHIP_EXPIRING = "membership_expiring"
    CHECKIN_DENIED_PAYMENT = "checkin_denied_payment"


# (email subject, text), in English and translated when sent, in the tenant's language; a
# tenant template named after the kind replaces the text.
DEFAULT_TEXTS: dict[NotificationKind, tuple[str, str]] = {
    NotificationKind.NEW_PHOTOS: (
        N_("New photos of you"),
        N_("Hi {first_name}, there are new photos of you from {event_name}: {link}"),
    ),
    NotificationKind.PAYMENT_FAILED: (
        N_("Your payment failed"),
        N_(
            "Hi {first_name}, your membership payment of {amount} did not go through{reason}. "
            "Please update your card: {link}"
        ),
    ),
    NotificationKind.MEMBERSHIP_EXPIRING: (
        N_("Your membership is expiring"),
        N_("Hi {first_name}, your membership ends on {end_date}. Renew it here: {link}"),
    ),
    NotificationKind.CHECKIN_DENIED_PAYMENT: (
        N_("Check-in refused: payment due"),
        N_("Hi {first_name}, we could not let you in because a payment is due: {link}"),
    ),
}

Channel = Literal["whatsapp", "email"]


@dataclass(frozen=True)
class Notified:
    channel: Channel | None
    message_id: uuid.UUID | None = None
    # Why no channel was used (None when one was).
    skipped: str | None = None


def _text(
    session: Session,
    tenant_id: uuid.UUID,
    kind: NotificationKind,
    member: Member,
    variables: dict[str, str],
) -> str:
    template = templates.template_named(session, tenant_id, kind.value)
    body = template.body if template is not None else gettext(DEFAULT_TEXTS[kind][1])
    return templates.render(body, {**templates.member_variables(member), **variables})


def notify(
    session: Session,
    *,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    kind: NotificationKind,
    variables: dict[str, str],
    dedupe_key: str | None = None,
) -> Notified:
    """Tell the member, in the caller's transaction. `dedupe_key` makes a repeated call (a
    retried job) queue the WhatsApp message once."""
    with using(locale_for_tenant(session, tenant_id)):
        return _notify(session, tenant_id, member_id, kind, variables, dedupe_key)


def _notify(
    session: Session,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    kind: NotificationKind,
    variables: dict[str, str],
    dedupe_key: str | None,
) -> Notified:
    scope = TenantScope(session, TenantId(tenant_id))
    member = scope.get(Member, member_id, what="Member")
    text = _text(session, tenant_id, kind, member, variables)
    preference = consent.preference(session, member.id)
    phone = consent.phone_digits(member.phone)
    whatsapp_refusal: AppError | None = consent.whatsapp_refusal(session, tenant_id, member, phone)
    if whatsapp_refusal is None:
        outgoing = service.Outgoing(
            text=text,
            member=member,
            phone=phone,
            kind="notification",
            idempotency_key=dedupe_key and f"notify:{kind.value}:{dedupe_key}",
        )
        try:
            message = submit(scope, outgoing)
        except AppError as error:  # no WhatsApp session: fall back to email
            whatsapp_refusal = error
        else:
            return Notified("whatsapp", message.id)
    email_allowed = preference is None or preference.email
    if not member.email or not email_allowed:
        reason = "no email address" if not member.email else "email turned off"
        return Notified(None, skipped=f"WhatsApp: {whatsapp_refusal.message}; email: {reason}")
    rules = pacing.rules_for(session, tenant_id, get_settings())
    send_email(
        session,
        to=member.email,
        subject=gettext(DEFAULT_TEXTS[kind][0]),
        body=text,
        schedule_at=pacing.quiet_until(rules, utcnow()),
    )
    return Notified("email")
