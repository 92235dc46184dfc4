"""Sending to a member or a segment: who gets the message (rendered) and who is skipped, why."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from visage.access.decision import PaymentStatus
from visage.access.models import Membership
from visage.core.errors import AppError
from visage.core.tenancy import TenantScope
from visage.members.models import Member
from visage.messaging import consent, service, templates
from visage.messaging.models import Message, MessageTemplate
from visage.messaging.tasks import submit

MAX_SEGMENT = 1000


@dataclass(frozen=True)
class Body:
    """A message body: plain text, or a template and the values of its variables."""

    text: str | None
    template: MessageTemplate | None
    variables: dict[str, str]

    def for_member(self, member: Member | None) -> str:
        if self.template is None:
            return self.text or ""
        values = {**templates.member_variables(member), **self.variables}
        return templates.render(self.template.body, values)


def body_of(
    scope: TenantScope, text: str | None, template_id: uuid.UUID | None, variables: dict[str, str]
) -> Body:
    template = scope.get(MessageTemplate, template_id, what="Template") if template_id else None
    return Body(text=text, template=template, variables=variables)


def segment_members(scope: TenantScope, segment: str, member_ids: list[uuid.UUID]) -> list[Member]:
    statement = scope.select(Member).where(Member.is_active.is_(True))
    if segment == "members":
        statement = statement.where(Member.id.in_(member_ids))
    elif segment == "past_due":
        overdue = select(Membership.member_id).where(
            Membership.tenant_id == scope.tenant_id,
            Membership.payment_status == PaymentStatus.OVERDUE,
        )
        statement = statement.where(Member.id.in_(overdue))
    return list(scope.session.scalars(statement.order_by(Member.full_name).limit(MAX_SEGMENT)))


@dataclass(frozen=True)
class Planned:
    member: Member
    text: str | None
    refusal: AppError | None


def plan(scope: TenantScope, members: list[Member], body: Body) -> list[Planned]:
    planned = []
    for member in members:
        phone = consent.phone_digits(member.phone)
        refusal = consent.whatsapp_refusal(scope.session, scope.tenant_id, member, phone)
        text = None
        if refusal is None:
            try:
                text = body.for_member(member)
            except AppError as error:
                refusal = error
        planned.append(Planned(member, text, refusal))
    return planned


def queue_planned(scope: TenantScope, planned: list[Planned], body: Body) -> list[Message]:
    """Queue (and schedule the sending of) the messages of the members not skipped."""
    queued = []
    for item in planned:
        if item.refusal is not None or item.text is None:
            continue
        message = submit(
            scope,
            service.Outgoing(
                text=item.text,
                member=item.member,
                phone=consent.phone_digits(item.member.phone),
                template_id=body.template.id if body.template else None,
            ),
        )
        queued.append(message)
    return queued
