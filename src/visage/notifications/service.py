"""`notify(...)`: the recipient's channel, the tenant's template for the event if it has one,
and the tenant's quiet hours, for a member or an event attendee alike.

A member: WhatsApp needs staff-recorded opt-in; email is the default channel for these service
messages unless the member's preference turned it off. An attendee: the channel they chose on
the attendee page (WhatsApp with their number and consent, email, or none); email stands in for
WhatsApp only when the tenant has no WhatsApp session, never after their STOP. A WhatsApp
message waits out pacing and the quiet hours in the messaging queue (its send job checks
them); an email is scheduled for their end. With a `dedupe_key` a repeated call (a retried
job, a periodic sweep) tells the recipient once, whatever the channel.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from visage.config import get_settings
from visage.core.db import utcnow
from visage.core.errors import AppError
from visage.core.tenancy import TenantId, TenantScope
from visage.events.models import Attendee, Event, NoticeChannel
from visage.i18n.context import N_, gettext, using
from visage.i18n.preferences import locale_for_tenant
from visage.identity.email import send_email
from visage.members.models import Member
from visage.messaging import consent, pacing, service, templates
from visage.messaging.errors import NoSession
from visage.messaging.tasks import submit
from visage.notifications.models import NotificationSent


class NotificationKind(enum.StrEnum):
    NEW_PHOTOS = "new_photos"
    PAYMENT_FAILED = "payment_failed"
    MEMBERSHIP_EXPIRING = "membership_expiring"
    CHECKIN_DENIED_PAYMENT = "checkin_denied_payment"


# (email subject, text), in English and translated when sent, in the recipient's language; a
# tenant template named after the kind replaces the text.
DEFAULT_TEXTS: dict[NotificationKind, tuple[str, str]] = {
    NotificationKind.NEW_PHOTOS: (
        N_("New photos of you"),
        N_(
            "Hi {first_name}, there are new photos of you from {event_name}: {link} "
            "(to stop these messages, change your choice on that page)"
        ),
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
    # True when an earlier call with the same dedupe key (or within the cool-down) told them.
    repeated: bool = False


@dataclass(frozen=True)
class _Contact:
    """Who is told, in the terms every channel needs."""

    key: str  # "member:<id>" | "attendee:<id>"
    variables: dict[str, str]
    email: str | None
    email_allowed: bool
    phone: str | None
    member: Member | None
    attendee: Attendee | None

    def whatsapp_refusal(self, session: Session, tenant_id: uuid.UUID) -> AppError | None:
        return consent.whatsapp_refusal(session, tenant_id, self.member, self.phone, self.attendee)

    def email_fallback(self, refusal: AppError) -> bool:
        """May email stand in when WhatsApp was refused for this reason?"""
        if self.attendee is None:
            return True
        chosen = self.attendee.notice_channel
        return chosen == NoticeChannel.EMAIL or (
            chosen == NoticeChannel.WHATSAPP and isinstance(refusal, NoSession)
        )


def _member_contact(scope: TenantScope, member_id: uuid.UUID) -> _Contact:
    member = scope.get(Member, member_id, what="Member")
    preference = consent.preference(scope.session, member.id)
    return _Contact(
        key=f"member:{member.id}",
        variables=templates.member_variables(member),
        email=member.email,
        email_allowed=preference is None or preference.email,
        phone=consent.phone_digits(member.phone),
        member=member,
        attendee=None,
    )


def _attendee_contact(scope: TenantScope, attendee_id: uuid.UUID) -> _Contact:
    attendee = scope.get(Attendee, attendee_id, what="Attendee")
    return _Contact(
        key=f"attendee:{attendee.id}",
        variables=templates.name_variables(attendee.full_name or attendee.username),
        email=attendee.email,
        email_allowed=attendee.notice_channel != NoticeChannel.NONE,
        phone=attendee.phone,
        member=None,
        attendee=attendee,
    )


def _already_told(
    session: Session,
    tenant_id: uuid.UUID,
    contact: _Contact,
    kind: NotificationKind,
    dedupe_key: str | None,
    cooldown: timedelta | None,
) -> NotificationSent | None:
    statement = select(NotificationSent).where(NotificationSent.tenant_id == tenant_id)
    if dedupe_key is not None:
        found = session.scalar(statement.where(NotificationSent.dedupe_key == dedupe_key))
        if found is not None:
            return found
    if cooldown is None:
        return None
    recent = statement.where(
        NotificationSent.recipient == contact.key,
        NotificationSent.kind == kind.value,
        NotificationSent.created_at > utcnow() - cooldown,
    )
    return session.scalar(recent.order_by(NotificationSent.created_at.desc()).limit(1))


def _remember(
    session: Session,
    tenant_id: uuid.UUID,
    contact: _Contact,
    kind: NotificationKind,
    dedupe_key: str | None,
    notified: Notified,
) -> None:
    assert notified.channel is not None
    session.execute(
        insert(NotificationSent)
        .values(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            # Without a key a notice is still remembered (the cool-down looks at it).
            dedupe_key=dedupe_key or f"once:{uuid.uuid4()}",
            kind=kind.value,
            recipient=contact.key,
            channel=notified.channel,
            message_id=notified.message_id,
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "dedupe_key"])
    )


def notify(
    session: Session,
    *,
    tenant_id: uuid.UUID,
    kind: NotificationKind,
    variables: dict[str, str],
    member_id: uuid.UUID | None = None,
    attendee_id: uuid.UUID | None = None,
    dedupe_key: str | None = None,
    cooldown: timedelta | None = None,
) -> Notified:
    """Tell the member (or the event attendee), in the caller's transaction.

    `dedupe_key` makes a repeated call tell them once; `cooldown` keeps a second notice of the
    same kind to the same person from going out within that time (new photos arrive in bursts:
    one message points at all of them)."""
    scope = TenantScope(session, TenantId(tenant_id))
    if member_id is not None and attendee_id is None:
        contact = _member_contact(scope, member_id)
    elif attendee_id is not None and member_id is None:
        contact = _attendee_contact(scope, attendee_id)
    else:
        raise ValueError("notify() needs exactly one of member_id or attendee_id")
    key = dedupe_key and f"{kind.value}:{dedupe_key}"
    earlier = _already_told(session, tenant_id, contact, kind, key, cooldown)
    if earlier is not None:
        channel: Channel = "whatsapp" if earlier.channel == "whatsapp" else "email"
        return Notified(channel, earlier.message_id, repeated=True)
    with using(_language(session, tenant_id, contact)):
        notified = _deliver(session, tenant_id, contact, kind, variables, key)
    if notified.channel is not None:
        _remember(session, tenant_id, contact, kind, key, notified)
    return notified


def _language(session: Session, tenant_id: uuid.UUID, contact: _Contact) -> str:
    """Members read the tenant's language; attendees their event's (else the tenant's)."""
    event_language = None
    if contact.attendee is not None:
        event_language = session.scalar(
            select(Event.language).where(Event.id == contact.attendee.event_id)
        )
    return locale_for_tenant(session, tenant_id, event_language)


def _text(
    session: Session,
    tenant_id: uuid.UUID,
    kind: NotificationKind,
    contact: _Contact,
    variables: dict[str, str],
) -> str:
    template = templates.template_named(session, tenant_id, kind.value)
    body = template.body if template is not None else gettext(DEFAULT_TEXTS[kind][1])
    return templates.render(body, {**contact.variables, **variables})


def _deliver(
    session: Session,
    tenant_id: uuid.UUID,
    contact: _Contact,
    kind: NotificationKind,
    variables: dict[str, str],
    key: str | None,
) -> Notified:
    scope = TenantScope(session, TenantId(tenant_id))
    text = _text(session, tenant_id, kind, contact, variables)
    refusal = contact.whatsapp_refusal(session, tenant_id)
    if refusal is None:
        outgoing = service.Outgoing(
            text=text,
            member=contact.member,
            attendee=contact.attendee,
            phone=contact.phone,
            kind="notification",
            idempotency_key=key and f"notify:{key}",
        )
        try:
            message = submit(scope, outgoing)
        except AppError as error:  # no WhatsApp session: email may stand in
            refusal = error
        else:
            return Notified("whatsapp", message.id)
    if not contact.email or not contact.email_allowed or not contact.email_fallback(refusal):
        reason = "no email address" if not contact.email else "email turned off"
        return Notified(None, skipped=f"WhatsApp: {refusal.message}; email: {reason}")
    rules = pacing.rules_for(session, tenant_id, get_settings())
    send_email(
        session,
        to=contact.email,
        subject=gettext(DEFAULT_TEXTS[kind][0]),
        body=text,
        schedule_at=pacing.quiet_until(rules, utcnow()),
    )
    return Notified("email")
