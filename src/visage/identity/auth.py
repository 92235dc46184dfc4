"""Sign-in rules: login with lockout, refresh-token rotation with reuse detection, logout,
password reset and email verification. No FastAPI here; nothing commits here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from visage.config import Settings
from visage.core.db import get_database, utcnow
from visage.core.errors import (
    AccountInactive,
    AccountNotVerified,
    InvalidCredentials,
    NotAuthenticated,
    RateLimited,
)
from visage.core.security import hash_password, hash_token, new_opaque_token, verify_password
from visage.i18n.context import N_, gettext, using
from visage.i18n.preferences import adopt_principal, locale_for_user
from visage.identity import audit, login_guard
from visage.identity.email import send_email
from visage.identity.errors import AmbiguousAccount
from visage.identity.models import (
    LoginAttempt,
    LoginOutcome,
    LoginSession,
    OneTimeToken,
    RefreshToken,
    Tenant,
    TokenPurpose,
    User,
)
from visage.identity.passwords import check_password_policy
from visage.identity.principal import ClientInfo, Principal
from visage.identity.service import (
    IssuedTokens,
    issue_tokens,
    start_session,
    tenant_is_active,
    user_principal,
)

PASSWORD_RESET_LIFETIME = timedelta(minutes=30)
EMAIL_VERIFICATION_LIFETIME = timedelta(hours=48)
# Caps the emails one address can trigger (reset or verification) per hour.
MAX_TOKENS_PER_HOUR = 3
# Login attempts are kept this long for investigations, then deleted.
LOGIN_ATTEMPT_RETENTION = timedelta(days=90)
# Ended sessions are kept a little while so a replayed refresh token is still recognised.
ENDED_SESSION_RETENTION = timedelta(days=7)
# Accounts sharing a name across tenants whose password is checked when no tenant is given.
MAX_LOGIN_CANDIDATES = 5


def _candidates(
    session: Session, *, identifier: str, by_email: bool, tenant_slug: str | None
) -> list[User]:
    column = User.email if by_email else User.username
    statement = select(User).where(func.lower(column) == identifier.lower())
    if tenant_slug:
        statement = statement.join(Tenant, Tenant.id == User.tenant_id).where(
            Tenant.slug == tenant_slug.lower()
        )
    return list(session.scalars(statement.order_by(User.created_at).limit(MAX_LOGIN_CANDIDATES)))


def login(
    session: Session,
    settings: Settings,
    *,
    username: str | None,
    email: str | None,
    password: str,
    tenant_slug: str | None,
    client: ClientInfo,
) -> IssuedTokens:
    """Check the credentials; wrong ones cost the same time and answer the same whether or
    not the account exists. Refusals are recorded in their own unit of work."""
    identifier = (email or username or "").strip()
    key = login_guard.account_key(identifier)
    try:
        login_guard.check_not_locked(session, settings, key, client.ip)
    except RateLimited:
        login_guard.record_now(key=key, outcome=LoginOutcome.LOCKED_OUT, client=client)
        raise
    candidates = _candidates(
        session, identifier=identifier, by_email=email is not None, tenant_slug=tenant_slug
    )
    if not candidates:
        verify_password(None, password)  # same cost as checking a real account
    matches = [user for user in candidates if verify_password(user.password_hash, password)]

    def refuse(outcome: LoginOutcome, user: User | None, error: Exception) -> Exception:
        login_guard.record_now(
            key=key,
            outcome=outcome,
            client=client,
            tenant_id=user.tenant_id if user else None,
            user_id=user.id if user else None,
        )
        audit.record_now(
            action="login.failed",
            actor=None,
            tenant_id=user.tenant_id if user else None,
            target_type="user" if user else None,
            target_id=str(user.id) if user else None,
            details={"identifier": identifier, "reason": outcome.value},
            ip=client.ip,
            user_agent=client.user_agent,
        )
        return error

    if not matches:
        only = candidates[0] if len(candidates) == 1 else None
        raise refuse(LoginOutcome.WRONG_PASSWORD, only, InvalidCredentials())
    if len(matches) > 1:
        raise refuse(LoginOutcome.AMBIGUOUS, None, AmbiguousAccount())
    user = matches[0]
    if not user.is_active or not tenant_is_active(session, user.tenant_id):
        raise refuse(LoginOutcome.INACTIVE, user, AccountInactive())
    if not user.email_verified:
        raise refuse(LoginOutcome.UNVERIFIED, user, AccountNotVerified())

    login_guard.record(
        session,
        key=key,
        outcome=LoginOutcome.SUCCESS,
        client=client,
        tenant_id=user.tenant_id,
        user_id=user.id,
    )
    principal = user_principal(user)
    audit.record_on(session, "login.succeeded", user, actor=principal, client=client)
    adopt_principal(session, principal)  # the answer speaks the account's language
    return start_session(session, settings, user, client)


def _revoke_reused_session(login_session: LoginSession, user: User, client: ClientInfo) -> None:
    """A used refresh token came back: someone holds a copy. End the whole family, newest
    token included, in a unit of work that survives the refusal."""
    with get_database().session() as own_session:
        own_session.execute(
            update(LoginSession)
            .where(LoginSession.id == login_session.id, LoginSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        audit.record_on(
            own_session,
            "refresh_token.reused",
            user,
            actor=None,
            client=client,
            details={"session_id": str(login_session.id)},
        )


def refresh(
    session: Session, settings: Settings, refresh_token: str, client: ClientInfo
) -> IssuedTokens:
    """Rotate: the presented token is used up and a new pair issued. The row lock makes two
    racing refreshes with one token serialize: the first wins, the second is a reuse."""
    stored = session.scalar(
        select(RefreshToken)
        .where(RefreshToken.token_hash == hash_token(refresh_token))
        .with_for_update()
    )
    if stored is None:
        raise NotAuthenticated("Refresh token invalid or expired.")
    login_session = session.get_one(LoginSession, stored.session_id)
    user = session.get_one(User, login_session.user_id)
    if stored.used_at is not None:
        if login_session.revoked_at is None:
            _revoke_reused_session(login_session, user, client)
        raise NotAuthenticated("Refresh token already used: this session has ended; sign in again.")
    if login_session.revoked_at is not None or login_session.expires_at <= utcnow():
        raise NotAuthenticated("This session has ended: sign in again.")
    if not user.is_active or not tenant_is_active(session, user.tenant_id):
        raise AccountInactive()
    stored.used_at = utcnow()
    return issue_tokens(session, settings, user, login_session)


def logout(session: Session, principal: Principal, client: ClientInfo) -> None:
    """End the session the access token belongs to: its refresh and access tokens stop working."""
    if principal.session_id is None:
        return
    login_session = session.get(LoginSession, principal.session_id)
    if login_session is not None and login_session.revoked_at is None:
        login_session.revoked_at = utcnow()
        user = session.get_one(User, login_session.user_id)
        audit.record_on(session, "logout", user, actor=principal, client=client)


def revoke_all_sessions(session: Session, user: User) -> None:
    """Every session of the user ends and every access token it holds stops working."""
    user.token_version += 1
    session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def _users_by_email(session: Session, email: str, tenant_slug: str | None) -> list[User]:
    statement = select(User).where(func.lower(User.email) == email.strip().lower())
    if tenant_slug:
        statement = statement.join(Tenant, Tenant.id == User.tenant_id).where(
            Tenant.slug == tenant_slug.lower()
        )
    return [
        user
        for user in session.scalars(statement)
        if user.is_active and tenant_is_active(session, user.tenant_id)
    ]


def _issue_one_time_token(
    session: Session, user: User, purpose: TokenPurpose, lifetime: timedelta
) -> str | None:
    """A new single-use token, or None when the hourly cap of this kind is reached."""
    now = utcnow()
    recent = session.scalar(
        select(func.count())
        .select_from(OneTimeToken)
        .where(
            OneTimeToken.user_id == user.id,
            OneTimeToken.purpose == purpose,
            OneTimeToken.created_at > now - timedelta(hours=1),
        )
    )
    if (recent or 0) >= MAX_TOKENS_PER_HOUR:
        return None
    token = new_opaque_token()
    session.add(
        OneTimeToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=hash_token(token),
            expires_at=now + lifetime,
        )
    )
    return token


def _tenant_note(session: Session, user: User) -> str:
    if user.tenant_id is None:
        return ""
    tenant = session.get_one(Tenant, user.tenant_id)
    return gettext(" at {name} (organization: {slug})").format(name=tenant.name, slug=tenant.slug)


def _email_one_time_link(
    session: Session,
    settings: Settings,
    user: User,
    purpose: TokenPurpose,
    lifetime: timedelta,
    *,
    page: str,
    subject: str,
    body: str,
    **fields: object,
) -> bool:
    """Email `user`, in their language, a new single-use token of `purpose` and the link to
    `page` that carries it; False when the hourly cap of that kind is reached. `subject` and
    `body` are marked English messages; `body` gets {tenant_note}, {link}, {token} and
    `fields`."""
    token = _issue_one_time_token(session, user, purpose, lifetime)
    if token is None:
        return False
    with using(locale_for_user(session, user)):
        send_email(
            session,
            to=user.email,
            subject=gettext(subject),
            body=gettext(body).format(
                tenant_note=_tenant_note(session, user),
                link=f"{settings.public_base_url}/{page}?token={token}",
                token=token,
                **fields,
            ),
        )
    return True


def request_password_reset(
    session: Session, settings: Settings, email: str, tenant_slug: str | None, client: ClientInfo
) -> None:
    """Email a reset link to each active account with this address; silent otherwise."""
    for user in _users_by_email(session, email, tenant_slug):
        sent = _email_one_time_link(
            session,
            settings,
            user,
            TokenPurpose.PASSWORD_RESET,
            PASSWORD_RESET_LIFETIME,
            page="reset-password",
            subject=N_("Reset your Visage password"),
            body=N_(
                "Someone asked to reset the password of {username}{tenant_note}.\n\n"
                "Open {link}\n"
                "or send this token to POST /api/v1/auth/password/reset/confirm:\n{token}\n\n"
                "It works once, within {minutes} minutes. "
                "If it was not you, ignore this email."
            ),
            username=user.username,
            minutes=int(PASSWORD_RESET_LIFETIME.total_seconds() // 60),
        )
        if sent:
            audit.record_on(session, "password.reset_requested", user, actor=None, client=client)


def _consume_one_time_token(session: Session, token: str, purpose: TokenPurpose) -> User:
    stored = session.scalar(
        select(OneTimeToken)
        .where(OneTimeToken.token_hash == hash_token(token), OneTimeToken.purpose == purpose)
        .with_for_update()
    )
    if stored is None or stored.used_at is not None or stored.expires_at <= utcnow():
        raise NotAuthenticated("This link is invalid, used or expired: ask for a new one.")
    stored.used_at = utcnow()
    return session.get_one(User, stored.user_id)


def set_password(session: Session, user: User, new_password: str) -> None:
    """Apply the policy, store the argon2id hash and end every session of the user."""
    check_password_policy(new_password, identifiers=(user.username, user.email))
    user.password_hash = hash_password(new_password)
    revoke_all_sessions(session, user)


def confirm_password_reset(
    session: Session, token: str, new_password: str, client: ClientInfo
) -> None:
    user = _consume_one_time_token(session, token, TokenPurpose.PASSWORD_RESET)
    set_password(session, user, new_password)
    # The reset link reached the mailbox: the address is proven too.
    user.email_verified = True
    session.execute(
        update(OneTimeToken)
        .where(
            OneTimeToken.user_id == user.id,
            OneTimeToken.purpose == TokenPurpose.PASSWORD_RESET,
            OneTimeToken.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )
    audit.record_on(session, "password.reset", user, actor=user_principal(user), client=client)


def send_verification_email(session: Session, settings: Settings, user: User) -> None:
    _email_one_time_link(
        session,
        settings,
        user,
        TokenPurpose.EMAIL_VERIFICATION,
        EMAIL_VERIFICATION_LIFETIME,
        page="verify-email",
        subject=N_("Confirm your email for Visage"),
        body=N_(
            "Welcome, {name}{tenant_note}.\n\n"
            "Confirm this address: {link}\n"
            "or send this token to POST /api/v1/auth/verify-email:\n{token}\n"
        ),
        name=user.full_name or user.username,
    )


def verify_email(session: Session, token: str, client: ClientInfo) -> None:
    user = _consume_one_time_token(session, token, TokenPurpose.EMAIL_VERIFICATION)
    user.email_verified = True
    audit.record_on(session, "email.verified", user, actor=user_principal(user), client=client)


def resend_verification(
    session: Session, settings: Settings, email: str, tenant_slug: str | None
) -> None:
    for user in _users_by_email(session, email, tenant_slug):
        if not user.email_verified:
            send_verification_email(session, settings, user)


def purge_expired_credentials(session: Session, now: datetime) -> dict[str, int]:
    """Delete sessions (with their refresh tokens) ended or expired a while ago, one-time
    tokens past their expiry and login attempts past their retention; the counts deleted."""
    ended_before = now - ENDED_SESSION_RETENTION
    statements = {
        "login_sessions": delete(LoginSession).where(
            or_(LoginSession.expires_at < ended_before, LoginSession.revoked_at < ended_before)
        ),
        "one_time_tokens": delete(OneTimeToken).where(OneTimeToken.expires_at < now),
        "login_attempts": delete(LoginAttempt).where(
            LoginAttempt.created_at < now - LOGIN_ATTEMPT_RETENTION
        ),
    }
    return {
        name: session.execute(statement).rowcount  # type: ignore[attr-defined]
        for name, statement in statements.items()
    }
