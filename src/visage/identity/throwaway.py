"""Signed-in users of throw-away tenants for the benchmarks (`visage bench ...`), made in the
database directly, not through the API they measure."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from visage.config import Settings
from visage.identity import service
from visage.identity.models import Role
from visage.identity.principal import ClientInfo


def signed_in_headers(
    session: Session,
    settings: Settings,
    tenant_id: uuid.UUID,
    role: Role,
    client: ClientInfo | None = None,
) -> dict[str, str]:
    """`Authorization` headers of a new verified user of `tenant_id` with `role` (its password
    is random: only this session can act as it)."""
    name = f"{role.value}-{uuid.uuid4().hex[:8]}"
    user = service.create_user(
        session,
        tenant_id=tenant_id,
        username=name,
        email=f"{name}@example.com",
        password=uuid.uuid4().hex,
        role=role,
        email_verified=True,
    )
    tokens = service.start_session(session, settings, user, client or ClientInfo())
    return {"Authorization": f"Bearer {tokens.access_token}"}
