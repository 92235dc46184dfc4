"""The permission matrix: the one place that says which role may do what.

docs/permissions.md documents it; tests/identity/test_permissions_doc.py checks the two agree.
"""

from __future__ import annotations

import enum

from visage.identity.models import Role


class Permission(enum.StrEnum):
    TENANTS_MANAGE = "tenants:manage"
    TENANT_READ = "tenant:read"
    TENANT_UPDATE = "tenant:update"
    USERS_READ = "users:read"
    USERS_MANAGE = "users:manage"
    DEVICES_MANAGE = "devices:manage"
    AUDIT_READ = "audit:read"
    MEMBERS_READ = "members:read"
    MEMBERS_MANAGE = "members:manage"
    BIOMETRICS_MANAGE = "biometrics:manage"
    FACES_SEARCH = "faces:search"
    CHECKINS_READ = "checkins:read"
    CHECKINS_CREATE = "checkins:create"
    CHECKINS_MANUAL = "checkins:manual"
    MEMBERSHIPS_MANAGE = "memberships:manage"
    EVENTS_READ = "events:read"
    EVENTS_MANAGE = "events:manage"
    PHOTOS_UPLOAD = "photos:upload"
    PHOTOS_MANAGE = "photos:manage"


_P = Permission
_OWNER = frozenset(_P) - {_P.TENANTS_MANAGE}
_STAFF = frozenset(
    {
        _P.TENANT_READ,
        _P.USERS_READ,
        _P.MEMBERS_READ,
        _P.MEMBERS_MANAGE,
        _P.BIOMETRICS_MANAGE,
        _P.FACES_SEARCH,
        _P.CHECKINS_READ,
        _P.CHECKINS_CREATE,
        _P.CHECKINS_MANUAL,
        _P.MEMBERSHIPS_MANAGE,
        _P.EVENTS_READ,
    }
)
_PHOTOGRAPHER = frozenset({_P.TENANT_READ, _P.EVENTS_READ, _P.PHOTOS_UPLOAD, _P.PHOTOS_MANAGE})
_MEMBER = frozenset({_P.TENANT_READ, _P.EVENTS_READ})

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.SUPER_ADMIN: frozenset(_P),
    Role.TENANT_OWNER: _OWNER,
    Role.STAFF: _STAFF,
    Role.PHOTOGRAPHER: _PHOTOGRAPHER,
    Role.MEMBER: _MEMBER,
}

# A kiosk device key may only check members in.
DEVICE_PERMISSIONS: frozenset[Permission] = frozenset({_P.CHECKINS_CREATE})


def role_has(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]
