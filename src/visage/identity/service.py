"""Identity rules: tenants, users, credentials. No FastAPI here."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from visage.config import Settings
from visage.core.errors import AccountInactive, Conflict, NotAuthenticated
from visage.core.security import create_access_token, decode_access_token, hash_password
from visage.core.tenancy import TenantId
from visage.identity.models import Role, Tenant, User
from visage.identity.principal import Principal


def create_tenant(session: Session, *, name: str, slug: str) -> Tenant:
    if session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
        raise Conflict(f"A tenant with slug '{slug}' already exists.", details={"field": "slug"})
    tenant = Tenant(name=name, slug=slug, is_active=True)
    session.add(tenant)
    session.flush()
    return tenant


def create_user(
    session: Session,
    *,
    tenant_id: uuid.UUID | None,
    username: str,
    email: str,
    password: str,
    role: Role,
    full_name: str = "",
    email_verified: bool = False,
) -> User:
    user = User(
        tenant_id=tenant_id,
        username=username,
        email=email,
        full_name=full_name,
        password_hash=hash_password(password),
        role=role,
        is_active=True,
        email_verified=email_verified,
    )
    session.add(user)
    session.flush()
    return user


def issue_access_token(settings: Settings, user: User) -> str:
    return create_access_token(
        settings.secret_key,
        subject=user.id,
        expires_minutes=settings.access_token_expire_minutes,
        claims={
            "tid": str(user.tenant_id) if user.tenant_id else None,
            "role": user.role.value,
            "ver": user.token_version,
        },
    )


def principal_from_access_token(session: Session, settings: Settings, token: str) -> Principal:
    """Checks the token and that its user is still active, in an active tenant, not revoked."""
    payload = decode_access_token(settings.secret_key, token)
    try:
        user_id = uuid.UUID(payload["sub"])
    except ValueError as error:
        raise NotAuthenticated() from error
    user = session.get(User, user_id)
    if user is None or user.token_version != payload.get("ver"):
        raise NotAuthenticated()
    if not user.is_active:
        raise AccountInactive()
    if user.tenant_id is not None:
        tenant = session.get(Tenant, user.tenant_id)
        if tenant is None or not tenant.is_active:
            raise AccountInactive()
    return Principal(
        kind="user",
        id=user.id,
        tenant_id=TenantId(user.tenant_id) if user.tenant_id else None,
        role=user.role,
    )


def ensure_super_admin(session: Session, settings: Settings) -> User:
    """Create the super admin from SUPER_ADMIN_* once; later starts never duplicate or reset it."""
    existing = session.scalar(
        select(User).where(User.tenant_id.is_(None), User.username == settings.super_admin_username)
    )
    if existing is not None:
        return existing
    return create_user(
        session,
        tenant_id=None,
        username=settings.super_admin_username,
        email=settings.super_admin_email,
        password=settings.super_admin_password,
        role=Role.SUPER_ADMIN,
        full_name=settings.super_admin_full_name,
        email_verified=True,
    )
