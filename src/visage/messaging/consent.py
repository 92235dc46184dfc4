"""Who may be messaged on which channel: staff-recorded consent, an event attendee's own
channel choice, and the numbers that opted out."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from visage.core.errors import AppError
from visage.core.tenancy import TenantScope
from visage.events.models import Attendee, NoticeChannel
from visage.identity.principal import Principal
from visage.members.models import Member
from visage.messaging.errors import NoConsent, NoPhone, OptedOut
from visage.messaging.models import Message, MessagingPreference, OptOut
from visage.messaging.waha import digits_of

# Digits of an international number (E.164: at most 15, country code first).
MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 8, 15


def phone_digits(raw: str | None) -> str | None:
    digits = digits_of(raw or "")
    return digits if MIN_PHONE_DIGITS <= len(digits) <= MAX_PHONE_DIGITS else None


def preference(session: Session, member_id: uuid.UUID) -> MessagingPreference | None:
    return session.get(MessagingPreference, member_id)


def set_preference(
    scope: TenantScope,
    actor: Principal,
    member_id: uuid.UUID,
    *,
    whatsapp: bool | None,
    email: bool | None,
) -> MessagingPreference:
    member = scope.get(Member, member_id, what="Member")
    current = preference(scope.session, member.id)
    if current is None:
        current = scope.add(MessagingPreference(member_id=member.id, whatsapp=False, email=False))
    if whatsapp is not None:
        current.whatsapp = whatsapp
        digits = phone_digits(member.phone)
        if whatsapp and digits:
            # Staff record a fresh opt-in (the member asked at the desk): the old STOP is lifted.
            lift_opt_out(scope.session, scope.tenant_id, digits)
    if email is not None:
        current.email = email
    current.updated_by = actor.id if actor.kind == "user" else None
    current.source = "staff"
    scope.session.flush()
    return current


def is_opted_out(session: Session, tenant_id: uuid.UUID, phone: str) -> bool:
    found = session.scalar(
        select(OptOut.id).where(OptOut.tenant_id == tenant_id, OptOut.phone == phone)
    )
    return found is not None


def record_opt_out(session: Session, tenant_id: uuid.UUID, phone: str, word: str) -> bool:
    """Opt the number (and the member who has it) out; True when it was not opted out yet."""
    inserted = session.scalar(
        insert(OptOut)
        .values(id=uuid.uuid4(), tenant_id=tenant_id, phone=phone, word=word)
        .on_conflict_do_nothing(index_elements=["tenant_id", "phone"])
        .returning(OptOut.id)
    )
    for member in members_with_phone(session, tenant_id, phone):
        current = preference(session, member.id)
        if current is None:
            current = MessagingPreference(member_id=member.id, tenant_id=tenant_id, email=False)
            session.add(current)
        current.whatsapp = False
        current.updated_by = None
        current.source = f"inbound:{word}"
    attendees = session.scalars(
        select(Attendee).where(
            Attendee.tenant_id == tenant_id,
            Attendee.phone == phone,
            Attendee.notice_channel == NoticeChannel.WHATSAPP.value,
        )
    )
    for attendee in attendees:
        attendee.notice_channel = NoticeChannel.NONE.value
        attendee.channel_source = f"inbound:{word}"
    session.flush()
    return inserted is not None


def members_with_phone(session: Session, tenant_id: uuid.UUID, phone: str) -> list[Member]:
    normalized = func.regexp_replace(Member.phone, r"\D", "", "g")
    return list(
        session.scalars(select(Member).where(Member.tenant_id == tenant_id, normalized == phone))
    )


def has_written_to_us(session: Session, tenant_id: uuid.UUID, phone: str) -> bool:
    found = session.scalar(
        select(Message.id)
        .where(Message.tenant_id == tenant_id, Message.phone == phone)
        .where(Message.direction == "inbound")
        .limit(1)
    )
    return found is not None


def lift_opt_out(session: Session, tenant_id: uuid.UUID, phone: str) -> None:
    """A fresh opt-in from the number's owner (at the desk, or on the attendee page)."""
    session.execute(delete(OptOut).where(OptOut.tenant_id == tenant_id, OptOut.phone == phone))


def whatsapp_refusal(
    session: Session,
    tenant_id: uuid.UUID,
    member: Member | None,
    phone: str | None,
    attendee: Attendee | None = None,
) -> AppError | None:
    """Why a WhatsApp message to this member, attendee or number may not go out, or None."""
    if phone is None:
        return NoPhone()
    if is_opted_out(session, tenant_id, phone):
        return OptedOut()
    if attendee is not None:  # the attendee chose WhatsApp themself, with their number
        chose = attendee.notice_channel == NoticeChannel.WHATSAPP and attendee.phone == phone
        return None if chose else NoConsent("This attendee did not choose WhatsApp.")
    if member is not None:
        current = preference(session, member.id)
        return None if current is not None and current.whatsapp else NoConsent()
    # A bare number: only a reply to someone who wrote to us, or an opted-in member's number.
    if has_written_to_us(session, tenant_id, phone):
        return None
    for owner in members_with_phone(session, tenant_id, phone):
        current = preference(session, owner.id)
        if current is not None and current.whatsapp:
            return None
    return NoConsent(
        "This number is not an opted-in member's and never wrote to you: add the member "
        "and record their consent first."
    )
