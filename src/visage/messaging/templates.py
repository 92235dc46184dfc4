"""Message templates with `{variables}` ({first_name}, {event_name}, {link}, ...)."""

from __future__ import annotations

import string
import uuid
from collections.abc import Mapping

from sqlalchemy.orm import Session

from visage.core.db import flush_or_raise
from visage.core.errors import Conflict
from visage.core.tenancy import TenantScope
from visage.members.models import Member
from visage.messaging.errors import TemplateInvalid
from visage.messaging.models import MessageTemplate

_FORMATTER = string.Formatter()


def variables_of(body: str) -> list[str]:
    """The variable names a template uses, in order of first use."""
    try:
        fields = [field for _, field, _, _ in _FORMATTER.parse(body) if field is not None]
    except ValueError as error:
        raise TemplateInvalid(f"Template is malformed: {error}") from error
    names: list[str] = []
    for field in fields:
        if not field.isidentifier():
            raise TemplateInvalid(f"Template variable {{{field}}} is not a plain name.")
        if field not in names:
            names.append(field)
    return names


def name_variables(full_name: str) -> dict[str, str]:
    words = full_name.split()
    return {"first_name": words[0] if words else "", "full_name": full_name}


def member_variables(member: Member | None) -> dict[str, str]:
    return name_variables(member.full_name) if member is not None else {}


def render(body: str, values: Mapping[str, str]) -> str:
    missing = [name for name in variables_of(body) if name not in values]
    if missing:
        raise TemplateInvalid(details={"missing": missing})
    return body.format_map(dict(values))


def create_template(scope: TenantScope, *, name: str, body: str) -> MessageTemplate:
    variables_of(body)
    template = scope.add(MessageTemplate(name=name, body=body))
    flush_or_raise(scope.session, Conflict("A template with this name exists already."))
    return template


def update_template(
    scope: TenantScope, template_id: uuid.UUID, *, name: str | None, body: str | None
) -> MessageTemplate:
    template = scope.get(MessageTemplate, template_id, what="Template")
    if body is not None:
        variables_of(body)
        template.body = body
    if name is not None:
        template.name = name
    flush_or_raise(scope.session, Conflict("A template with this name exists already."))
    return template


def list_templates(scope: TenantScope) -> list[MessageTemplate]:
    return list(scope.session.scalars(scope.select(MessageTemplate).order_by(MessageTemplate.name)))


def template_named(session: Session, tenant_id: uuid.UUID, name: str) -> MessageTemplate | None:
    return session.query(MessageTemplate).filter_by(tenant_id=tenant_id, name=name).one_or_none()
