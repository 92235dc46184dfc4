"""Personal API tokens: what WiWebb's users send as `Authorization: Token <key>`.

A token is shown once at creation and stored as its SHA-256. It acts as its user, with the
user's role and tenant at the time of each call (a demoted or deactivated user's tokens
follow), until it expires or is revoked. No FastAPI here; nothing commits here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from visage.core.db import get_database, utcnow
from visage.core.errors import AccountInactive, NotAuthenticated, NotFound
from visage.core.security import hash_token, new_opaque_token
from visage.identity import audit
from visage.identity.models import ApiToken, User
from visage.identity.principal import ClientInfo, Principal
from visage.identity.service import is_stale, tenant_is_active, user_principal

API_TOKEN_PREFIX = "vst_"
MAX_LIFETIME_DAYS = 366
# Like kiosk keys: the last-used time is written at most once a minute, use audited hourly.
LAST_USED_PRECISION = timedelta(minutes=1)
USE_AUDIT_INTERVAL = timedelta(hours=1)


def looks_like_api_token(value: str) -> bool:
    return value.startswith(API_TOKEN_PREFIX)


def create_api_token(
    session: Session,
    actor: Principal,
    *,
    name: str,
    expires_in_days: int,
    client: ClientInfo,
) -> tuple[ApiToken, str]:
    """A new token of the calling user; the plain token is returned this once."""
    user = session.get_one(User, actor.id)
    token = API_TOKEN_PREFIX + new_opaque_token()
    api_token = ApiToken(
        user_id=user.id,
        tenant_id=user.tenant_id,
        name=name,
        token_hash=hash_token(token),
        token_prefix=token[: len(API_TOKEN_PREFIX) + 6],
        expires_at=utcnow() + timedelta(days=expires_in_days),
    )
    session.add(api_token)
    session.flush()
    audit.record_on(
        session,
        "api_token.created",
        api_token,
        actor=actor,
        client=client,
        details={"name": name, "expires_at": api_token.expires_at.isoformat()},
    )
    return api_token, token


def list_api_tokens(session: Session, actor: Principal) -> list[ApiToken]:
    """The calling user's own tokens, revoked and expired ones included."""
    statement = select(ApiToken).where(ApiToken.user_id == actor.id)
    return list(session.scalars(statement.order_by(ApiToken.created_at.desc())))


def revoke_api_token(
    session: Session, actor: Principal, token_id: uuid.UUID, client: ClientInfo
) -> None:
    api_token = session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == actor.id)
    )
    if api_token is None:
        raise NotFound("API token not found.")
    if api_token.revoked_at is None:
        api_token.revoked_at = utcnow()
        audit.record_on(session, "api_token.revoked", api_token, actor=actor, client=client)


@dataclass(frozen=True)
class VerifiedApiToken:
    token_id: uuid.UUID
    user_id: uuid.UUID
    tenant_id: uuid.UUID | None


def verify_api_token(session: Session, token: str) -> VerifiedApiToken | None:
    """Who a live token belongs to, or None; reads only (the rate limiter keys by it)."""
    if not looks_like_api_token(token):
        return None
    api_token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if api_token is None or api_token.revoked_at is not None or api_token.expires_at <= utcnow():
        return None
    return VerifiedApiToken(api_token.id, api_token.user_id, api_token.tenant_id)


def api_token_owner(token: str) -> VerifiedApiToken | None:
    """`verify_api_token` in a unit of work of its own, for callers outside a request."""
    with get_database().session() as session:
        return verify_api_token(session, token)


def principal_from_api_token(session: Session, token: str, client: ClientInfo) -> Principal:
    """The token's user as a principal; refused when unknown, revoked, expired or inactive."""
    verified = verify_api_token(session, token)
    if verified is None:
        raise NotAuthenticated(
            "This API token is invalid, expired or revoked: create a new one "
            "(POST /api/v1/auth/tokens)."
        )
    user = session.get_one(User, verified.user_id)
    if not user.is_active or not tenant_is_active(session, user.tenant_id):
        raise AccountInactive()
    api_token = session.get_one(ApiToken, verified.token_id)
    now = utcnow()
    principal = user_principal(user)
    if is_stale(api_token.last_used_at, now, USE_AUDIT_INTERVAL):
        audit.record_on(session, "api_token.used", api_token, actor=principal, client=client)
    if is_stale(api_token.last_used_at, now, LAST_USED_PRECISION):
        api_token.last_used_at = now
    return principal
