"""Identity rules: tenants, users, credentials, sessions, kiosk devices. No FastAPI here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from visage.config import Settings
from visage.core.db import utcnow
from visage.core.errors import AccountInactive, Conflict, NotAuthenticated
from visage.core.security import (
    create_access_token,
    decode_access_token,
    hash_password,
    hash_token,
    new_opaque_token,
)
from visage.core.tenancy import TenantId
from visage.identity import audit
from visage.identity.models import Device, LoginSession, RefreshToken, Role, Tenant, User
from visage.identity.principal import ClientInfo, Principal

API_KEY_PREFIX = "vsk_"
# A kiosk calls many times a minute: its last-used time is written at most this often
# (so concurrent calls of one device do not queue on its row), its use audited hourly.
DEVICE_LAST_USED_PRECISION = timedelta(minutes=1)
DEVICE_USE_AUDIT_INTERVAL = timedelta(hours=1)


_UNIQUE_FIELDS = {
    "uq_users_tenant_username": "username",
    "uq_users_global_username": "username",
    "uq_users_tenant_email": "email",
    "uq_users_global_email": "email",
    "uq_tenants_slug": "slug",
}


def flush_unique(session: Session) -> None:
    """Flush, answering a duplicate username, email or slug with 409."""
    try:
        session.flush()
    except IntegrityError as error:
        constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
        field = _UNIQUE_FIELDS.get(constraint or "")
        if field is None:
            raise
        raise Conflict(f"This {field} is already taken.", details={"field": field}) from error


def create_tenant(session: Session, *, name: str, slug: str) -> Tenant:
    tenant = Tenant(name=name, slug=slug, is_active=True)
    session.add(tenant)
    flush_unique(session)
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
    flush_unique(session)
    return user


def issue_access_token(settings: Settings, user: User, login_session: LoginSession) -> str:
    return create_access_token(
        settings.secret_key,
        subject=user.id,
        expires_minutes=settings.access_token_expire_minutes,
        claims={
            "tid": str(user.tenant_id) if user.tenant_id else None,
            "role": user.role.value,
            "ver": user.token_version,
            "sid": str(login_session.id),
        },
    )


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int  # seconds the access token lives


def _new_refresh_token(session: Session, login_session: LoginSession) -> str:
    token = new_opaque_token()
    session.add(RefreshToken(session_id=login_session.id, token_hash=hash_token(token)))
    return token


def issue_tokens(
    session: Session, settings: Settings, user: User, login_session: LoginSession
) -> IssuedTokens:
    return IssuedTokens(
        access_token=issue_access_token(settings, user, login_session),
        refresh_token=_new_refresh_token(session, login_session),
        expires_in=settings.access_token_expire_minutes * 60,
    )


def start_session(
    session: Session, settings: Settings, user: User, client: ClientInfo
) -> IssuedTokens:
    """A new login session (refresh-token family) with its absolute lifetime."""
    login_session = LoginSession(
        user_id=user.id,
        expires_at=utcnow() + timedelta(days=settings.refresh_token_expire_days),
        ip=client.ip,
        user_agent=client.user_agent[: audit.USER_AGENT_MAX] if client.user_agent else None,
    )
    session.add(login_session)
    session.flush()
    return issue_tokens(session, settings, user, login_session)


def tenant_is_active(session: Session, tenant_id: uuid.UUID | None) -> bool:
    if tenant_id is None:
        return True
    tenant = session.get(Tenant, tenant_id)
    return tenant is not None and tenant.is_active


def principal_from_access_token(session: Session, settings: Settings, token: str) -> Principal:
    """Checks the token, that its session is live and its user active in an active tenant."""
    payload = decode_access_token(settings.secret_key, token)
    try:
        user_id = uuid.UUID(payload["sub"])
        session_id = uuid.UUID(payload["sid"])
    except (KeyError, TypeError, ValueError) as error:
        raise NotAuthenticated() from error
    user = session.get(User, user_id)
    if user is None or user.token_version != payload.get("ver"):
        raise NotAuthenticated()
    login_session = session.get(LoginSession, session_id)
    if (
        login_session is None
        or login_session.user_id != user.id
        or login_session.revoked_at is not None
        or login_session.expires_at <= utcnow()
    ):
        raise NotAuthenticated("This session has ended: sign in again.")
    if not user.is_active or not tenant_is_active(session, user.tenant_id):
        raise AccountInactive()
    return user_principal(user, session_id=login_session.id)


def user_principal(user: User, *, session_id: uuid.UUID | None = None) -> Principal:
    return Principal(
        kind="user",
        id=user.id,
        tenant_id=TenantId(user.tenant_id) if user.tenant_id else None,
        role=user.role,
        session_id=session_id,
    )


def create_device(session: Session, tenant_id: uuid.UUID, name: str) -> tuple[Device, str]:
    """A kiosk and its API key; the plain key is returned this once and stored hashed."""
    api_key = API_KEY_PREFIX + new_opaque_token()
    device = Device(
        tenant_id=tenant_id,
        name=name,
        key_hash=hash_token(api_key),
        key_prefix=api_key[: len(API_KEY_PREFIX) + 6],
    )
    session.add(device)
    session.flush()
    return device, api_key


def register_device(
    session: Session, actor: Principal, name: str, client: ClientInfo
) -> tuple[Device, str]:
    """An owner adds a kiosk to their tenant (audited)."""
    device, api_key = create_device(session, actor.tenant(), name)
    audit.record_on(
        session, "device.created", device, actor=actor, client=client, details={"name": name}
    )
    return device, api_key


def list_devices(session: Session, actor: Principal) -> list[Device]:
    scope = actor.scope(session)
    return list(session.scalars(scope.select(Device).order_by(Device.created_at)).all())


def revoke_device(
    session: Session, actor: Principal, device_id: uuid.UUID, client: ClientInfo
) -> None:
    device = actor.scope(session).get(Device, device_id, what="Device")
    if device.revoked_at is None:
        device.revoked_at = utcnow()
        audit.record_on(session, "device.revoked", device, actor=actor, client=client)


def is_stale(moment: datetime | None, now: datetime, interval: timedelta) -> bool:
    return moment is None or now - moment >= interval


def principal_from_api_key(session: Session, api_key: str, client: ClientInfo) -> Principal:
    """A kiosk's key: refused when unknown or revoked, or when its tenant is suspended."""
    device = session.scalar(select(Device).where(Device.key_hash == hash_token(api_key)))
    if device is None or device.revoked_at is not None:
        raise NotAuthenticated("This API key is invalid or has been revoked.")
    if not tenant_is_active(session, device.tenant_id):
        raise AccountInactive()
    principal = Principal(kind="device", id=device.id, tenant_id=TenantId(device.tenant_id))
    now = utcnow()
    if is_stale(device.last_used_at, now, DEVICE_USE_AUDIT_INTERVAL):
        audit.record_on(session, "device.key_used", device, actor=principal, client=client)
    if is_stale(device.last_used_at, now, DEVICE_LAST_USED_PRECISION):
        device.last_used_at = now
    return principal


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
