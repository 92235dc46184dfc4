"""Who is calling: a signed-in user or a kiosk device, and the tenant that scopes them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from visage.core.errors import NotFound, PermissionDenied
from visage.core.tenancy import TenantId, TenantScope
from visage.identity.models import Role
from visage.identity.permissions import DEVICE_PERMISSIONS, Permission, role_has


@dataclass(frozen=True)
class ClientInfo:
    """Where a request comes from, for login attempts and the audit log."""

    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class Principal:
    # "operator": a person at the command line (`visage users ...`), with super admin rights.
    kind: Literal["user", "device", "operator"]
    id: uuid.UUID
    tenant_id: TenantId | None
    role: Role | None = None  # None for devices
    # The login session a user's access token belongs to (logout revokes it).
    session_id: uuid.UUID | None = None

    @property
    def is_super_admin(self) -> bool:
        return self.role is Role.SUPER_ADMIN

    def can(self, permission: Permission) -> bool:
        if self.kind == "device":
            return permission in DEVICE_PERMISSIONS
        return self.role is not None and role_has(self.role, permission)

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise PermissionDenied(details={"permission": permission.value})

    def tenant(self) -> TenantId:
        """The tenant every query of this principal is scoped to."""
        if self.tenant_id is None:
            raise NotFound("This resource belongs to a tenant; sign in as one of its users.")
        return self.tenant_id

    def scope(self, session: Session) -> TenantScope:
        return TenantScope(session, self.tenant())


OPERATOR = Principal(kind="operator", id=uuid.UUID(int=0), tenant_id=None, role=Role.SUPER_ADMIN)
