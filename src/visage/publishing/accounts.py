"""Connected accounts: the OAuth redirect (state + PKCE), the callback that stores the tokens
sealed, refresh ahead of expiry, and EXPIRED (with a mail to the owners) when it fails."""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from authlib.common.security import generate_token
from sqlalchemy import select
from sqlalchemy.orm import Session

from visage.config import Settings
from visage.core.db import utcnow
from visage.core.security import hash_token
from visage.i18n.context import gettext, using
from visage.i18n.preferences import locale_for_user
from visage.identity.email import send_email
from visage.identity.models import Role, User
from visage.identity.principal import Principal
from visage.publishing import sealing
from visage.publishing.errors import OAuthFailed, PlatformNotConfigured, PlatformUnreachable
from visage.publishing.models import AccountStatus, OAuthAttempt, Platform, SocialAccount
from visage.publishing.providers import gateway_for
from visage.publishing.providers.base import (
    ConnectedIdentity,
    Credentials,
    GatewayError,
    TokenSet,
    TransientFailure,
)
from visage.publishing.providers.bluesky import BlueskyGateway

logger = logging.getLogger(__name__)

OAUTH_ATTEMPT_TTL = timedelta(minutes=15)
CALLBACK_PATH = "/api/v1/social/oauth/callback"


def redirect_uri(settings: Settings) -> str:
    return settings.public_base_url.rstrip("/") + CALLBACK_PATH


def start_connect(
    session: Session, principal: Principal, platform: Platform, settings: Settings
) -> str:
    """The platform's authorization URL, with a single-use state and a PKCE challenge."""
    gateway = gateway_for(platform, settings)
    if not gateway.uses_oauth:
        raise PlatformNotConfigured(
            f"{platform.value} connects with an app password: "
            f"POST /api/v1/social/accounts/{platform.value}/app-password."
        )
    if not gateway.oauth.client_id:
        raise PlatformNotConfigured(
            f"Set {platform.value.upper()}_CLIENT_ID and {platform.value.upper()}_CLIENT_SECRET "
            "to connect this platform."
        )
    state, verifier = secrets.token_urlsafe(32), generate_token(64)
    scope = principal.scope(session)
    scope.add(
        OAuthAttempt(
            user_id=principal.id,
            platform=platform,
            state_hash=hash_token(state),
            code_verifier=sealing.seal(scope.tenant_id, verifier),
            redirect_uri=redirect_uri(settings),
            expires_at=utcnow() + OAUTH_ATTEMPT_TTL,
        )
    )
    client = gateway.oauth.client(redirect_uri(settings))
    try:
        url, _ = client.create_authorization_url(
            gateway.oauth.authorize_url,
            state=state,
            code_verifier=verifier if gateway.oauth.pkce else None,
        )
    finally:
        client.close()
    return str(url)


def _store(
    session: Session,
    tenant_id: uuid.UUID,
    platform: Platform,
    user_id: uuid.UUID | None,
    identity: ConnectedIdentity,
) -> SocialAccount:
    """The account (new, or reconnected: same platform and external id) with fresh tokens."""
    account = session.scalar(
        select(SocialAccount).where(
            SocialAccount.tenant_id == tenant_id,
            SocialAccount.platform == platform,
            SocialAccount.external_id == identity.external_id,
        )
    )
    if account is None:
        account = SocialAccount(
            tenant_id=tenant_id, platform=platform, external_id=identity.external_id
        )
        session.add(account)
    account.username = identity.username
    account.connected_by = user_id
    _apply_tokens(account, identity.tokens)
    return account


def _apply_tokens(account: SocialAccount, tokens: TokenSet) -> None:
    account.access_token = sealing.seal(account.tenant_id, tokens.access_token)
    account.refresh_token = (
        sealing.seal(account.tenant_id, tokens.refresh_token) if tokens.refresh_token else None
    )
    account.token_expires_at = tokens.expires_at
    account.scopes = tokens.scope[:500]
    account.status = AccountStatus.ACTIVE
    account.last_error = None
    account.last_sync_at = utcnow()


def _unreachable(failure: Exception) -> bool:
    """Nothing reached the platform. Authlib's client raises the connection errors of the
    httpx distribution it was built on (`httpx2` here, not our `httpx`): matched by name."""
    if isinstance(failure, TransientFailure):
        return True
    names = {cls.__name__ for cls in type(failure).__mro__}
    return bool(names & {"ConnectError", "ConnectTimeout"})


def complete_connect(
    session: Session,
    settings: Settings,
    *,
    state: str,
    code: str | None,
    error: str | None,
) -> list[SocialAccount]:
    """The callback: the state must be one we issued (unused, unexpired), then the code is
    exchanged with our PKCE verifier and the tokens are stored sealed."""
    attempt = session.scalar(
        select(OAuthAttempt).where(OAuthAttempt.state_hash == hash_token(state)).with_for_update()
    )
    if attempt is None or attempt.used_at is not None or attempt.expires_at < utcnow():
        raise OAuthFailed("Unknown, used or expired OAuth state: start the connection again.")
    attempt.used_at = utcnow()
    if error or not code:
        raise OAuthFailed(f"The platform refused the authorization: {error or 'no code'}.")
    gateway = gateway_for(attempt.platform, settings)
    verifier = sealing.unseal(attempt.tenant_id, attempt.code_verifier)
    client = gateway.oauth.client(attempt.redirect_uri)
    try:
        token = client.fetch_token(
            gateway.oauth.token_url,
            code=code,
            code_verifier=verifier if gateway.oauth.pkce else None,
        )
        identities = gateway.identities(TokenSet.from_oauth(dict(token)))
    except Exception as failure:  # GatewayError, Authlib's OAuthError, httpx errors
        if _unreachable(failure):
            # Down after its consent page: the request rolls back, so the state is not spent.
            raise PlatformUnreachable(attempt.platform.value, str(failure)) from failure
        logger.warning("OAuth token exchange for %s failed: %r", attempt.platform, failure)
        raise OAuthFailed(
            f"{attempt.platform.value}: token exchange failed: {failure}"
        ) from failure
    finally:
        client.close()
    if not identities:
        raise OAuthFailed(f"{attempt.platform.value}: the token gives access to no account.")
    return [
        _store(session, attempt.tenant_id, attempt.platform, attempt.user_id, identity)
        for identity in identities
    ]


def connect_with_app_password(
    session: Session,
    principal: Principal,
    settings: Settings,
    *,
    identifier: str,
    app_password: str,
) -> SocialAccount:
    """Bluesky: a session opened with the handle and an app password (never stored)."""
    gateway = gateway_for(Platform.BLUESKY, settings)
    assert isinstance(gateway, BlueskyGateway)
    try:
        identity = gateway.sign_in(identifier, app_password)
    except TransientFailure as failure:
        raise PlatformUnreachable(Platform.BLUESKY.value, str(failure)) from failure
    except GatewayError as failure:
        raise OAuthFailed(f"bluesky: sign-in refused: {failure}") from failure
    account = _store(session, principal.tenant(), Platform.BLUESKY, principal.id, identity)
    session.flush()
    return account


def list_accounts(session: Session, principal: Principal) -> list[SocialAccount]:
    scope = principal.scope(session)
    statement = scope.select(SocialAccount).order_by(SocialAccount.platform, SocialAccount.username)
    return list(session.scalars(statement))


def get_account(session: Session, principal: Principal, account_id: uuid.UUID) -> SocialAccount:
    return principal.scope(session).get(SocialAccount, account_id, what="Social account")


def credentials(account: SocialAccount) -> Credentials:
    return Credentials(
        sealing.unseal(account.tenant_id, account.access_token),
        account.external_id,
        account.username,
    )


def _tokens(account: SocialAccount) -> TokenSet:
    refresh = (
        sealing.unseal(account.tenant_id, account.refresh_token) if account.refresh_token else None
    )
    return TokenSet(
        sealing.unseal(account.tenant_id, account.access_token),
        refresh,
        account.token_expires_at,
        account.scopes,
    )


def _tell_owners(session: Session, account: SocialAccount, reason: str, settings: Settings) -> None:
    owners = session.scalars(
        select(User).where(
            User.tenant_id == account.tenant_id,
            User.role == Role.TENANT_OWNER,
            User.is_active.is_(True),
        )
    )
    for owner in owners:
        names = {"platform": account.platform.value, "account": account.username}
        with using(locale_for_user(session, owner)):
            send_email(
                session,
                to=owner.email,
                subject=gettext("Reconnect your {platform} account {account}").format(**names),
                body=gettext(
                    "Visage could not renew the access of {platform} account {account} "
                    "({reason}). Its scheduled posts wait until you reconnect it: {link}"
                ).format(
                    **names,
                    reason=reason,
                    link=f"{settings.public_base_url.rstrip('/')}/app/publishing/accounts",
                ),
            )


def refresh(session: Session, account: SocialAccount, settings: Settings) -> SocialAccount:
    """Renew the account's tokens; a refusal marks it EXPIRED and tells the owners."""
    gateway = gateway_for(account.platform, settings)
    try:
        _apply_tokens(account, gateway.refresh(_tokens(account)))
    except GatewayError as failure:
        was_active = account.status is AccountStatus.ACTIVE
        account.status = AccountStatus.EXPIRED
        account.last_error = str(failure)[:1000]
        account.last_sync_at = utcnow()
        if was_active:
            _tell_owners(session, account, str(failure), settings)
    return account


def refresh_on_demand(
    session: Session, principal: Principal, account_id: uuid.UUID, settings: Settings
) -> SocialAccount:
    return refresh(session, get_account(session, principal, account_id), settings)


@dataclass(frozen=True)
class RefreshRun:
    refreshed: int
    expired: int


def refresh_expiring(session: Session, settings: Settings, now: datetime) -> RefreshRun:
    """Every active account whose token expires within SOCIAL_REFRESH_AHEAD_MINUTES."""
    horizon = now + timedelta(minutes=settings.social_refresh_ahead_minutes)
    due = session.scalars(
        select(SocialAccount)
        .where(
            SocialAccount.status == AccountStatus.ACTIVE,
            SocialAccount.token_expires_at.is_not(None),
            SocialAccount.token_expires_at < horizon,
        )
        .with_for_update(skip_locked=True)
    ).all()
    expired = 0
    for account in due:
        refresh(session, account, settings)
        expired += account.status is AccountStatus.EXPIRED
    return RefreshRun(len(due) - expired, expired)


def disconnect(session: Session, principal: Principal, account_id: uuid.UUID) -> None:
    session.delete(get_account(session, principal, account_id))
