"""Managing tenants and users, and reading the audit log. No FastAPI here; nothing commits.

Tenant users only ever reach their own tenant's rows (through `principal.scope`); super
admins, who belong to no tenant, work across tenants.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from visage.config import Settings
from visage.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from visage.core.paging import PageRequest
from visage.core.security import verify_password
from visage.core.tenancy import paginate
from visage.identity import audit
from visage.identity.auth import revoke_all_sessions, send_verification_email, set_password
from visage.identity.errors import FieldNotAllowed
from visage.identity.models import AuditEvent, Role, Tenant, User
from visage.identity.passwords import check_password_policy
from visage.identity.permissions import Permission
from visage.identity.principal import ClientInfo, Principal
from visage.identity.service import create_tenant, create_user, flush_unique

# What a person may change on their own account, and what user managers may change.
SELF_FIELDS = frozenset({"full_name", "password", "current_password"})
MANAGER_FIELDS = frozenset({"username", "email", "full_name", "role", "is_active", "password"})
SUPER_ADMIN_FIELDS = MANAGER_FIELDS | {"tenant_id"}


# --- tenants (super admin) -------------------------------------------------------------


def add_tenant(
    session: Session,
    actor: Principal,
    *,
    name: str,
    slug: str,
    client: ClientInfo,
    default_locale: str | None = None,
) -> Tenant:
    tenant = create_tenant(session, name=name, slug=slug)
    tenant.default_locale = default_locale
    audit.record_on(session, "tenant.created", tenant, actor=actor, client=client)
    return tenant


def list_tenants(
    session: Session, *, search: str | None, active: bool | None, paging: PageRequest
) -> tuple[list[Tenant], int]:
    # Newest first: the organization just signed up is the one the admin works on next.
    statement = select(Tenant).order_by(Tenant.created_at.desc(), Tenant.id)
    if search:
        pattern = f"%{search.lower()}%"
        statement = statement.where(or_(Tenant.name.ilike(pattern), Tenant.slug.ilike(pattern)))
    if active is not None:
        statement = statement.where(Tenant.is_active.is_(active))
    return paginate(session, statement, page=paging.page, page_size=paging.page_size)


def get_tenant(session: Session, tenant_id: uuid.UUID) -> Tenant:
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound("Tenant not found.")
    return tenant


def my_tenant(session: Session, actor: Principal) -> Tenant:
    return get_tenant(session, actor.tenant())


def update_tenant(
    session: Session,
    actor: Principal,
    tenant_id: uuid.UUID,
    changes: dict[str, Any],
    client: ClientInfo,
) -> Tenant:
    """Owners may rename their tenant; only super admins suspend or reactivate one."""
    tenant = get_tenant(session, tenant_id)
    if "is_active" in changes and not actor.can(Permission.TENANTS_MANAGE):
        raise FieldNotAllowed(details={"fields": ["is_active"]})
    if "name" in changes and changes["name"] is not None:
        tenant.name = changes["name"]
    if "default_locale" in changes:
        tenant.default_locale = changes["default_locale"]
    if changes.get("is_active") is not None and changes["is_active"] != tenant.is_active:
        tenant.is_active = changes["is_active"]
        action = "tenant.activated" if tenant.is_active else "tenant.suspended"
        audit.record_on(session, action, tenant, actor=actor, client=client)
    else:
        audit.record_on(session, "tenant.updated", tenant, actor=actor, client=client)
    return tenant


# --- users ---------------------------------------------------------------------------------


def _users(session: Session, actor: Principal) -> Select[User]:
    if actor.is_super_admin:
        return select(User)
    return actor.scope(session).select(User)


def find_user(session: Session, tenant_slug: str | None, username: str) -> User:
    """A user by tenant slug (none: a super admin) and case-insensitive username."""
    statement = select(User).where(func.lower(User.username) == username.lower())
    if tenant_slug:
        statement = statement.join(Tenant, Tenant.id == User.tenant_id).where(
            Tenant.slug == tenant_slug
        )
    else:
        statement = statement.where(User.tenant_id.is_(None))
    user = session.scalar(statement)
    if user is None:
        raise NotFound(f"No user '{username}' in {tenant_slug or 'the super admins'}.")
    return user


def find_tenant(session: Session, slug: str) -> Tenant:
    tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise NotFound(f"No tenant with slug '{slug}'.")
    return tenant


def profile(session: Session, actor: Principal) -> tuple[User, Tenant | None]:
    """The signed-in user and their tenant (none for super admins)."""
    user = get_user(session, actor, actor.id)
    return user, my_tenant(session, actor) if user.tenant_id else None


def get_user(session: Session, actor: Principal, user_id: uuid.UUID) -> User:
    """A user the actor may see (own tenant; any for super admins), else 404."""
    user = session.scalar(_users(session, actor).where(User.id == user_id))
    if user is None:
        raise NotFound("User not found.")
    return user


def list_users(
    session: Session,
    actor: Principal,
    *,
    role: Role | None,
    active: bool | None,
    search: str | None,
    tenant_id: uuid.UUID | None,
    paging: PageRequest,
) -> tuple[list[User], int]:
    statement = _users(session, actor).order_by(User.created_at, User.id)
    if tenant_id is not None:
        if not actor.is_super_admin:
            raise FieldNotAllowed("Only super admins filter users by tenant.")
        statement = statement.where(User.tenant_id == tenant_id)
    if role is not None:
        statement = statement.where(User.role == role)
    if active is not None:
        statement = statement.where(User.is_active.is_(active))
    if search:
        pattern = f"%{search.lower()}%"
        statement = statement.where(
            or_(
                User.username.ilike(pattern),
                User.email.ilike(pattern),
                User.full_name.ilike(pattern),
            )
        )
    return paginate(session, statement, page=paging.page, page_size=paging.page_size)


def _check_role_assignment(actor: Principal, role: Role, tenant_id: uuid.UUID | None) -> None:
    if role is Role.SUPER_ADMIN:
        if not actor.is_super_admin:
            raise FieldNotAllowed(
                "Only super admins create super admins.", details={"fields": ["role"]}
            )
        if tenant_id is not None:
            raise ValidationFailed(
                "Super admins belong to no tenant.", details={"field": "tenant_id"}
            )
    elif tenant_id is None:
        raise ValidationFailed(
            "Give the tenant_id this user belongs to.", details={"field": "tenant_id"}
        )


def add_user(
    session: Session,
    settings: Settings,
    actor: Principal,
    fields: dict[str, Any],
    client: ClientInfo,
) -> User:
    """Create a user in the actor's tenant (super admins: in `tenant_id`); an unverified
    address gets a verification email."""
    if actor.is_super_admin:
        tenant_id = fields.get("tenant_id")
        if tenant_id is not None:
            get_tenant(session, tenant_id)
    else:
        if fields.get("tenant_id") is not None:
            raise FieldNotAllowed(details={"fields": ["tenant_id"]})
        tenant_id = actor.tenant()
    role: Role = fields["role"]
    _check_role_assignment(actor, role, tenant_id)
    check_password_policy(fields["password"], identifiers=(fields["username"], fields["email"]))
    user = create_user(
        session,
        tenant_id=tenant_id,
        username=fields["username"],
        email=fields["email"],
        password=fields["password"],
        role=role,
        full_name=fields.get("full_name") or "",
        email_verified=bool(fields.get("email_verified")),
    )
    audit.record_on(
        session, "user.created", user, actor=actor, client=client, details={"role": role.value}
    )
    if not user.email_verified:
        send_verification_email(session, settings, user)
    return user


def _allowed_fields(actor: Principal, user: User) -> frozenset[str]:
    allowed: frozenset[str] = frozenset()
    if actor.id == user.id:
        allowed |= SELF_FIELDS
    if actor.is_super_admin:
        allowed |= SUPER_ADMIN_FIELDS
    elif actor.can(Permission.USERS_MANAGE):
        allowed |= MANAGER_FIELDS
    if actor.id == user.id:
        # Nobody demotes or deactivates themselves by accident (or locks the tenant out).
        allowed -= {"role", "is_active"}
    return allowed


def update_user(
    session: Session,
    settings: Settings,
    actor: Principal,
    user_id: uuid.UUID,
    changes: dict[str, Any],
    client: ClientInfo,
) -> User:
    """Apply `changes`; any field the actor may not set refuses the whole request."""
    user = get_user(session, actor, user_id)
    allowed = _allowed_fields(actor, user)
    if not allowed:
        raise PermissionDenied(details={"permission": Permission.USERS_MANAGE.value})
    refused = sorted(set(changes) - allowed)
    if refused:
        raise FieldNotAllowed(details={"fields": refused})
    changing_own_password = "password" in changes and actor.id == user.id
    if changing_own_password and not verify_password(
        user.password_hash, changes.get("current_password") or ""
    ):
        raise ValidationFailed(
            "Give your current password to change it.",
            details=[{"field": "current_password", "message": "wrong or missing"}],
        )
    if changes.get("role") is not None and changes["role"] != user.role:
        new_role: Role = changes["role"]
        _check_role_assignment(actor, new_role, changes.get("tenant_id", user.tenant_id))
        audit.record_on(
            session,
            "user.role_changed",
            user,
            actor=actor,
            client=client,
            details={"from": user.role.value, "to": new_role.value},
        )
        user.role = new_role
    if "tenant_id" in changes and changes["tenant_id"] != user.tenant_id:
        if changes["tenant_id"] is not None:
            get_tenant(session, changes["tenant_id"])
        _check_role_assignment(actor, user.role, changes["tenant_id"])
        user.tenant_id = changes["tenant_id"]
        revoke_all_sessions(session, user)
    for name in ("username", "full_name"):
        if changes.get(name) is not None:
            setattr(user, name, changes[name])
    email_changed = changes.get("email") is not None and changes["email"] != user.email
    if email_changed:
        user.email = changes["email"]
        user.email_verified = False
    if changes.get("password") is not None:
        change_password(session, actor, user, changes["password"], client)
    if changes.get("is_active") is not None:
        _set_active(session, actor, user, changes["is_active"], client)
    flush_unique(session)
    audit.record_on(
        session,
        "user.updated",
        user,
        actor=actor,
        client=client,
        details={"fields": sorted(set(changes) - {"password", "current_password"})},
    )
    if email_changed:
        send_verification_email(session, settings, user)
    return user


def change_password(
    session: Session, actor: Principal, user: User, new_password: str, client: ClientInfo
) -> None:
    """Set a new password (policy applied); every session of the user ends."""
    set_password(session, user, new_password)
    audit.record_on(session, "user.password_changed", user, actor=actor, client=client)


def _set_active(
    session: Session, actor: Principal, user: User, active: bool, client: ClientInfo
) -> None:
    if user.is_active == active:
        return
    if actor.id == user.id:
        raise FieldNotAllowed("You cannot deactivate yourself.", details={"fields": ["is_active"]})
    user.is_active = active
    if not active:
        revoke_all_sessions(session, user)
    action = "user.activated" if active else "user.deactivated"
    audit.record_on(session, action, user, actor=actor, client=client)


def set_user_active(
    session: Session, actor: Principal, user_id: uuid.UUID, active: bool, client: ClientInfo
) -> User:
    user = get_user(session, actor, user_id)
    _set_active(session, actor, user, active, client)
    return user


def delete_user(session: Session, actor: Principal, user_id: uuid.UUID, client: ClientInfo) -> None:
    user = get_user(session, actor, user_id)
    if user.id == actor.id:
        raise Conflict("You cannot delete your own account.")
    audit.record_on(
        session,
        "user.deleted",
        user,
        actor=actor,
        client=client,
        details={"username": user.username, "role": user.role.value},
    )
    session.delete(user)


# --- audit log -----------------------------------------------------------------------------


def list_audit_events(
    session: Session,
    actor: Principal,
    *,
    action: str | None,
    actor_id: uuid.UUID | None,
    since: datetime | None,
    until: datetime | None,
    tenant_id: uuid.UUID | None,
    paging: PageRequest,
) -> tuple[list[AuditEvent], int]:
    """Owners read their tenant's events; super admins every tenant's (or one's)."""
    if actor.is_super_admin:
        events = select(AuditEvent)
        if tenant_id is not None:
            events = events.where(AuditEvent.tenant_id == tenant_id)
    elif tenant_id is not None:
        raise FieldNotAllowed("Only super admins filter the audit log by tenant.")
    else:
        events = actor.scope(session).select(AuditEvent)
    statement = audit.filtered(events, action=action, actor_id=actor_id, since=since, until=until)
    return paginate(session, statement, page=paging.page, page_size=paging.page_size)
