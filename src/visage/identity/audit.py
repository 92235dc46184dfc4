"""The security audit log.

`record` adds an event to the caller's unit of work, so it commits with the change it
describes. `record_now` is for refusals (failed logins, permission denials, token reuse):
the request's own transaction rolls back when it answers with an error, so those events are
written in a unit of work of their own.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from visage.core.db import get_database
from visage.identity.models import ApiToken, AuditEvent, Device, Tenant, User
from visage.identity.principal import ClientInfo, Principal

USER_AGENT_MAX = 400
_TARGET_TYPES: dict[type, str] = {
    User: "user",
    Tenant: "tenant",
    Device: "device",
    ApiToken: "api_token",
}


def _event(
    *,
    action: str,
    actor: Principal | None,
    tenant_id: uuid.UUID | None,
    target_type: str | None,
    target_id: str | None,
    details: dict[str, Any] | None,
    ip: str | None,
    user_agent: str | None,
) -> AuditEvent:
    return AuditEvent(
        action=action,
        actor_type=actor.kind if actor else None,
        actor_id=actor.id if actor else None,
        tenant_id=tenant_id,
        target_type=target_type,
        target_id=target_id,
        details=details or {},
        ip=ip,
        user_agent=user_agent[:USER_AGENT_MAX] if user_agent else None,
    )


def record(
    session: Session,
    *,
    action: str,
    actor: Principal | None,
    tenant_id: uuid.UUID | None,
    target_type: str | None = None,
    target_id: str | None = None,
    details: dict[str, Any] | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> None:
    """Add an audit event to the caller's transaction."""
    session.add(
        _event(
            action=action,
            actor=actor,
            tenant_id=tenant_id,
            target_type=target_type,
            target_id=target_id,
            details=details,
            ip=ip,
            user_agent=user_agent,
        )
    )


def record_on(
    session: Session,
    action: str,
    target: User | Tenant | Device | ApiToken,
    *,
    actor: Principal | None,
    client: ClientInfo,
    details: dict[str, Any] | None = None,
) -> None:
    """An event about an identity object, in that object's tenant."""
    record(
        session,
        action=action,
        actor=actor,
        tenant_id=target.id if isinstance(target, Tenant) else target.tenant_id,
        target_type=_TARGET_TYPES[type(target)],
        target_id=str(target.id),
        details=details,
        ip=client.ip,
        user_agent=client.user_agent,
    )


def record_now(
    *,
    action: str,
    actor: Principal | None,
    tenant_id: uuid.UUID | None,
    target_type: str | None = None,
    target_id: str | None = None,
    details: dict[str, Any] | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> None:
    """Write an audit event in its own unit of work: it survives the caller's rollback."""
    with get_database().session() as own_session:
        record(
            own_session,
            action=action,
            actor=actor,
            tenant_id=tenant_id,
            target_type=target_type,
            target_id=target_id,
            details=details,
            ip=ip,
            user_agent=user_agent,
        )


def filtered(
    events: Select[AuditEvent],
    *,
    action: str | None = None,
    actor_id: uuid.UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Select[AuditEvent]:
    """`events` narrowed by the filters, newest first."""
    statement = events.order_by(AuditEvent.created_at.desc(), AuditEvent.id)
    if action:
        statement = statement.where(AuditEvent.action == action)
    if actor_id:
        statement = statement.where(AuditEvent.actor_id == actor_id)
    if since:
        statement = statement.where(AuditEvent.created_at >= since)
    if until:
        statement = statement.where(AuditEvent.created_at < until)
    return statement
