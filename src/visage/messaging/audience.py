"""Sending to a member or a segment (active members, past due, picked members, an event's
attendees): who gets the message (rendered) and who is skipped, why."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from visage.access.decision import PaymentStatus
from visage.access.models import Membership
from visage.config import get_settings
from visage.core.db import utcnow
from visage.core.errors import AppError
from visage.core.tenancy import TenantScope
from visage.events.links import share_url
from visage.events.models import Attendee, Event
from visage.members.models import Member
from visage.messaging import consent, service, templates
from visage.messaging.errors import NotOnWhatsApp
from visage.messaging.models import ContactCheckCache, Message, MessageTemplate
from visage.messaging.tasks import submit

MAX_SEGMENT = 1000


@dataclass(frozen=True)
class Body:
    """A message body: plain text, or a template and the values of its variables."""

    text: str | None
    template: MessageTemplate | None
    variables: dict[str, str]

    def render(self, own: dict[str, str]) -> str:
        """The text for one recipient: their own values ({first_name}, {event_name}, ...) under
        the ones the sender typed."""
        if self.template is None:
            return self.text or ""
        return templates.render(self.template.body, {**own, **self.variables})

    def for_member(self, member: Member | None) -> str:
        return self.render(templates.member_variables(member))


def body_of(
    scope: TenantScope, text: str | None, template_id: uuid.UUID | None, variables: dict[str, str]
) -> Body:
    template = scope.get(MessageTemplate, template_id, what="Template") if template_id else None
    return Body(text=text, template=template, variables=variables)


@dataclass(frozen=True)
class Addressee:
    """A member or an event attendee, with the values a template can use for them."""

    name: str
    phone: str | None
    variables: dict[str, str]
    member: Member | None = None
    attendee: Attendee | None = None


@dataclass(frozen=True)
class Segment:
    kind: str  # active | past_due | members | event_attendees
    member_ids: list[uuid.UUID] = field(default_factory=list)
    event_id: uuid.UUID | None = None


def _member(member: Member) -> Addressee:
    return Addressee(
        member.full_name,
        consent.phone_digits(member.phone),
        templates.member_variables(member),
        member=member,
    )


def _members(scope: TenantScope, segment: Segment) -> list[Addressee]:
    statement = scope.select(Member).where(Member.is_active.is_(True))
    if segment.kind == "members":
        statement = statement.where(Member.id.in_(segment.member_ids))
    elif segment.kind == "past_due":
        overdue = select(Membership.member_id).where(
            Membership.tenant_id == scope.tenant_id,
            Membership.payment_status == PaymentStatus.OVERDUE,
        )
        statement = statement.where(Member.id.in_(overdue))
    members = scope.session.scalars(statement.order_by(Member.full_name).limit(MAX_SEGMENT))
    return [_member(member) for member in members]


def _attendees(scope: TenantScope, event_id: uuid.UUID) -> list[Addressee]:
    event = scope.get(Event, event_id, what="Event")
    statement = (
        scope.select(Attendee)
        .where(Attendee.event_id == event.id)
        .order_by(Attendee.full_name, Attendee.username)
        .limit(MAX_SEGMENT)
    )
    event_values = {"event_name": event.name, "link": share_url(get_settings(), event)}
    return [
        Addressee(
            attendee.full_name or attendee.username,
            attendee.phone,
            {**templates.name_variables(attendee.full_name or attendee.username), **event_values},
            attendee=attendee,
        )
        for attendee in scope.session.scalars(statement)
    ]


def addressees(scope: TenantScope, segment: Segment) -> list[Addressee]:
    if segment.kind == "event_attendees":
        assert segment.event_id is not None  # the schema requires it for this segment
        return _attendees(scope, segment.event_id)
    return _members(scope, segment)


@dataclass(frozen=True)
class Planned:
    addressee: Addressee
    text: str | None
    refusal: AppError | None


def _known_not_on_whatsapp(scope: TenantScope, phone: str) -> bool:
    """WAHA said so recently (the send job's check-exists cache): skipped in the preview."""
    cached = scope.session.get(ContactCheckCache, phone)
    horizon = timedelta(hours=get_settings().messaging_contact_cache_hours)
    return cached is not None and not cached.exists and utcnow() - cached.checked_at < horizon


def plan(scope: TenantScope, people: list[Addressee], body: Body) -> list[Planned]:
    planned = []
    for person in people:
        refusal = consent.whatsapp_refusal(
            scope.session, scope.tenant_id, person.member, person.phone, person.attendee
        )
        if refusal is None and person.phone and _known_not_on_whatsapp(scope, person.phone):
            refusal = NotOnWhatsApp()
        text = None
        if refusal is None:
            try:
                text = body.render(person.variables)
            except AppError as error:
                refusal = error
        planned.append(Planned(person, text, refusal))
    return planned


def queue_planned(scope: TenantScope, planned: list[Planned], body: Body) -> list[Message]:
    """Queue (and schedule the sending of) the messages of the people not skipped."""
    queued = []
    for item in planned:
        if item.refusal is not None or item.text is None:
            continue
        message = submit(
            scope,
            service.Outgoing(
                text=item.text,
                member=item.addressee.member,
                attendee=item.addressee.attendee,
                phone=item.addressee.phone,
                template_id=body.template.id if body.template else None,
            ),
        )
        queued.append(message)
    return queued
