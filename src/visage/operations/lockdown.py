"""`visage security lockdown` / `unlock`: the breach response of the Messaging guide.

Lockdown ends every sign-in at once — each login session revoked, each unused refresh token
spent, each user's token version bumped so access tokens already handed out stop working on
their next request — for the whole service or one tenant, and can deactivate that tenant's users
until `unlock` reactivates exactly the ones it deactivated. Both are audited.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from visage.core.db import utcnow
from visage.identity import audit
from visage.identity.management import find_tenant
from visage.identity.models import AuditEvent, LoginSession, RefreshToken, Tenant, User
from visage.identity.principal import OPERATOR

LOCKDOWN = "security.lockdown"
UNLOCK = "security.unlock"


@dataclass(frozen=True)
class LockdownResult:
    tenant_id: uuid.UUID | None
    users_signed_out: int
    sessions_revoked: int
    deactivated: list[uuid.UUID]


def _audit(session: Session, action: str, tenant: Tenant | None, details: dict[str, Any]) -> None:
    audit.record(
        session,
        action=action,
        actor=OPERATOR,
        tenant_id=tenant.id if tenant else None,
        target_type="tenant" if tenant else None,
        target_id=str(tenant.id) if tenant else None,
        details=details,
        user_agent="visage-cli",
    )


def lockdown(
    session: Session, *, tenant_slug: str | None, deactivate_users: bool, reason: str
) -> LockdownResult:
    tenant = find_tenant(session, tenant_slug) if tenant_slug else None
    if deactivate_users and tenant is None:
        raise ValueError("Deactivating users needs a tenant (--tenant SLUG)")
    now = utcnow()
    users = select(User.id)
    if tenant is not None:
        users = users.where(User.tenant_id == tenant.id)
    user_ids = list(session.scalars(users))
    sessions = select(LoginSession.id).where(
        LoginSession.user_id.in_(user_ids), LoginSession.revoked_at.is_(None)
    )
    session_ids = list(session.scalars(sessions))
    session.execute(
        update(LoginSession).where(LoginSession.id.in_(session_ids)).values(revoked_at=now)
    )
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.session_id.in_(session_ids), RefreshToken.used_at.is_(None))
        .values(used_at=now)
    )
    session.execute(
        update(User).where(User.id.in_(user_ids)).values(token_version=User.token_version + 1)
    )
    deactivated: list[uuid.UUID] = []
    if deactivate_users and tenant is not None:
        deactivated = list(
            session.scalars(
                update(User)
                .where(User.tenant_id == tenant.id, User.is_active.is_(True))
                .values(is_active=False)
                .returning(User.id)
            )
        )
    _audit(
        session,
        LOCKDOWN,
        tenant,
        {
            "reason": reason,
            "users_signed_out": len(user_ids),
            "sessions_revoked": len(session_ids),
            "deactivated": [str(user_id) for user_id in deactivated],
        },
    )
    return LockdownResult(
        tenant.id if tenant else None, len(user_ids), len(session_ids), deactivated
    )


def unlock(session: Session, *, tenant_slug: str) -> list[uuid.UUID]:
    """Reactivate the users that lockdowns of the tenant deactivated since its last unlock
    (users deactivated for other reasons stay so)."""
    tenant = find_tenant(session, tenant_slug)
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.tenant_id == tenant.id, AuditEvent.action.in_((LOCKDOWN, UNLOCK)))
        .order_by(AuditEvent.created_at.desc())
    )
    to_reactivate: set[uuid.UUID] = set()
    for event in events:
        if event.action == UNLOCK:
            break
        to_reactivate.update(uuid.UUID(user_id) for user_id in event.details["deactivated"])
    reactivated = list(
        session.scalars(
            update(User)
            .where(User.id.in_(to_reactivate), User.tenant_id == tenant.id)
            .values(is_active=True)
            .returning(User.id)
        )
    )
    _audit(session, UNLOCK, tenant, {"reactivated": [str(user_id) for user_id in reactivated]})
    return reactivated
