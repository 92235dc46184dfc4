"""The audit entry of a staff change to access data (plans, memberships, hours, check-ins)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy.orm import Session

from visage.identity import audit
from visage.identity.principal import ClientInfo, Principal


def record_change(
    session: Session,
    principal: Principal,
    client: ClientInfo,
    action: str,
    target_type: str,
    target_id: uuid.UUID,
    details: Mapping[str, object],
) -> None:
    audit.record(
        session,
        action=action,
        actor=principal,
        tenant_id=principal.tenant(),
        target_type=target_type,
        target_id=str(target_id),
        details=dict(details),
        ip=client.ip,
        user_agent=client.user_agent,
    )
