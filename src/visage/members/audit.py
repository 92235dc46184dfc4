"""Audit events about a member (consent, biometric data, the record itself)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from visage.identity import audit
from visage.identity.principal import ClientInfo, Principal
from visage.members.models import Member


def record_member_event(
    session: Session,
    actor: Principal | None,
    action: str,
    member: Member,
    client: ClientInfo | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    audit.record(
        session,
        action=action,
        actor=actor,
        tenant_id=member.tenant_id,
        target_type="member",
        target_id=str(member.id),
        details=details,
        ip=client.ip if client else None,
        user_agent=client.user_agent if client else None,
    )
