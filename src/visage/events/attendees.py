"""Attendees: joining an event with its code (anonymously or with an account), their own
data and its deletion; the organizer's list of them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from visage.config import Settings
from visage.core.db import flush_or_raise, utcnow
from visage.core.errors import InvalidCredentials, NotFound
from visage.core.security import hash_password, verify_password
from visage.core.tenancy import TenantId, TenantScope
from visage.events.access import (
    AttendeePass,
    attendee_scope,
    issue_attendee_token,
)
from visage.events.errors import (
    AttendeeExists,
    InvalidAccessCode,
    NotificationsNeedAccount,
)
from visage.events.models import (
    Attendee,
    Event,
    NoticeChannel,
    SelfieSubscription,
)
from visage.events.service import get_event
from visage.identity import audit
from visage.identity.principal import Principal
from visage.messaging import consent


def _event_by_code(session: Session, access_code: str) -> Event:
    # The access code is the attendee's only key to the event (unique across tenants).
    event = session.scalar(select(Event).where(Event.access_code == access_code.strip().upper()))
    if event is None:
        raise InvalidAccessCode()
    return event


@dataclass(frozen=True)
class AttendeeSession:
    token: str
    event: Event
    attendee: Attendee | None


def join_anonymously(session: Session, access_code: str, settings: Settings) -> AttendeeSession:
    event = _event_by_code(session, access_code)
    token = issue_attendee_token(
        settings, event_id=event.id, tenant_id=event.tenant_id, attendee_id=None
    )
    return AttendeeSession(token, event, None)


def register_attendee(
    session: Session,
    *,
    access_code: str,
    username: str,
    email: str,
    password: str,
    full_name: str,
    settings: Settings,
) -> AttendeeSession:
    event = _event_by_code(session, access_code)
    scope = TenantScope(session, TenantId(event.tenant_id))
    taken = scope.session.scalar(
        scope.select(Attendee).where(
            Attendee.event_id == event.id,
            (func.lower(Attendee.email) == email.lower())
            | (func.lower(Attendee.username) == username.lower()),
        )
    )
    if taken is not None:
        raise AttendeeExists()
    attendee = scope.add(
        Attendee(
            event_id=event.id,
            username=username,
            email=email,
            full_name=full_name,
            password_hash=hash_password(password),
        )
    )
    flush_or_raise(session, AttendeeExists())  # registered concurrently
    audit.record(
        session,
        action="events.attendee_registered",
        actor=None,
        tenant_id=event.tenant_id,
        target_type="attendee",
        target_id=str(attendee.id),
        details={"event_id": str(event.id)},
    )
    token = issue_attendee_token(
        settings, event_id=event.id, tenant_id=event.tenant_id, attendee_id=attendee.id
    )
    return AttendeeSession(token, event, attendee)


def login_attendee(
    session: Session, *, access_code: str, login: str, password: str, settings: Settings
) -> AttendeeSession:
    event = _event_by_code(session, access_code)
    scope = TenantScope(session, TenantId(event.tenant_id))
    attendee = session.scalar(
        scope.select(Attendee).where(
            Attendee.event_id == event.id,
            (func.lower(Attendee.email) == login.lower())
            | (func.lower(Attendee.username) == login.lower()),
        )
    )
    if not verify_password(attendee.password_hash if attendee else None, password):
        raise InvalidCredentials()
    assert attendee is not None  # verify_password is False without a hash
    token = issue_attendee_token(
        settings, event_id=event.id, tenant_id=event.tenant_id, attendee_id=attendee.id
    )
    return AttendeeSession(token, event, attendee)


@dataclass(frozen=True)
class AttendeeState:
    event: Event
    attendee: Attendee | None
    subscription: SelfieSubscription | None


def attendee_state(session: Session, attendee_pass: AttendeePass) -> AttendeeState:
    scope = attendee_scope(session, attendee_pass)
    event: Event = scope.get(Event, attendee_pass.event_id, what="Event")
    if attendee_pass.attendee_id is None:
        return AttendeeState(event, None, None)
    attendee: Attendee = scope.get(Attendee, attendee_pass.attendee_id, what="Attendee")
    subscription = session.scalar(
        scope.select(SelfieSubscription).where(SelfieSubscription.attendee_id == attendee.id)
    )
    return AttendeeState(event, attendee, subscription)


def delete_selfie_data(session: Session, attendee_pass: AttendeePass) -> AttendeeState:
    """The attendee's kept selfie template (and its notification history) is deleted."""
    state = attendee_state(session, attendee_pass)
    if state.subscription is not None:
        session.delete(state.subscription)
        _audit_attendee(session, state, "events.selfie_template_deleted")
        session.flush()
    return AttendeeState(state.event, state.attendee, None)


def choose_notice_channel(
    session: Session,
    attendee_pass: AttendeePass,
    channel: NoticeChannel,
    phone: str | None,
) -> AttendeeState:
    """The attendee's own choice (the schema checked number and consent for WhatsApp): a new
    WhatsApp opt-in from the number's owner lifts an earlier STOP from it."""
    state = attendee_state(session, attendee_pass)
    if state.attendee is None:
        raise NotificationsNeedAccount()
    attendee = state.attendee
    digits = consent.phone_digits(phone) if phone else None
    if channel == NoticeChannel.WHATSAPP and digits is not None:
        consent.lift_opt_out(session, attendee.tenant_id, digits)
    attendee.notice_channel = channel.value
    attendee.phone = digits if digits is not None else attendee.phone
    attendee.channel_chosen_at, attendee.channel_source = utcnow(), "attendee"
    _audit_attendee(session, state, "events.attendee_channel_chosen", channel=channel.value)
    session.flush()
    return state


def delete_attendee(session: Session, attendee_pass: AttendeePass) -> None:
    state = attendee_state(session, attendee_pass)
    if state.attendee is None:
        raise NotFound("Anonymous access has no account to delete.")
    _audit_attendee(session, state, "events.attendee_deleted")
    session.delete(state.attendee)  # cascades to the selfie template


def _audit_attendee(session: Session, state: AttendeeState, action: str, **details: str) -> None:
    assert state.attendee is not None
    audit.record(
        session,
        action=action,
        actor=None,
        tenant_id=state.event.tenant_id,
        target_type="attendee",
        target_id=str(state.attendee.id),
        details={"event_id": str(state.event.id), **details},
    )


def list_attendees(
    session: Session, principal: Principal, event_id: uuid.UUID, *, page: int, page_size: int
) -> tuple[list[Attendee], int]:
    scope = principal.scope(session)
    event = get_event(session, principal, event_id)
    statement = (
        scope.select(Attendee).where(Attendee.event_id == event.id).order_by(Attendee.created_at)
    )
    return scope.page(statement, page=page, page_size=page_size)
