"""Brute-force protection: every login attempt is recorded; too many wrong passwords for one
account (or from one address) within the window answer 429 for a bounded time.

The lockout is a sliding window over wrong passwords only: attempts refused while locked out
are recorded but do not count, so nobody can extend a lockout past the window, and a
successful sign-in starts the count afresh.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from visage.config import Settings
from visage.core.db import get_database, utcnow
from visage.core.errors import RateLimited
from visage.identity.audit import USER_AGENT_MAX
from visage.identity.models import LoginAttempt, LoginOutcome
from visage.identity.principal import ClientInfo

ACCOUNT_MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)


def account_key(identifier: str) -> str:
    """The account tried, as typed: a lockout covers the name in every tenant."""
    return identifier.strip().lower()[:500]


def _locked_until(
    session: Session, condition: ColumnElement[bool], limit: int, since: datetime
) -> datetime | None:
    """When the `limit`-th most recent wrong password in the window leaves it, if locked."""
    recent = session.scalars(
        select(LoginAttempt.created_at)
        .where(
            condition,
            LoginAttempt.outcome == LoginOutcome.WRONG_PASSWORD,
            LoginAttempt.created_at > since,
        )
        .order_by(LoginAttempt.created_at.desc())
        .limit(limit)
    ).all()
    if len(recent) < limit:
        return None
    return recent[-1] + FAILURE_WINDOW


def check_not_locked(session: Session, settings: Settings, key: str, ip: str | None) -> None:
    """Raise 429 with Retry-After when the account or the address is locked out."""
    now = utcnow()
    window_start = now - FAILURE_WINDOW
    last_success = session.scalar(
        select(func.max(LoginAttempt.created_at)).where(
            LoginAttempt.account_key == key, LoginAttempt.success.is_(True)
        )
    )
    account_since = max(window_start, last_success) if last_success else window_start
    candidates = [
        _locked_until(session, LoginAttempt.account_key == key, ACCOUNT_MAX_FAILURES, account_since)
    ]
    if ip:
        candidates.append(
            _locked_until(
                session, LoginAttempt.ip == ip, settings.login_max_failures_per_ip, window_start
            )
        )
    locked = [until for until in candidates if until is not None and until > now]
    if locked:
        retry_after = math.ceil((max(locked) - now).total_seconds())
        raise RateLimited(
            "Rate limit exceeded: too many failed sign-in attempts, wait before trying again.",
            details={"retry_after": retry_after},
            headers={"Retry-After": str(retry_after)},
        )


def _attempt(
    *,
    key: str,
    outcome: LoginOutcome,
    client: ClientInfo,
    tenant_id: uuid.UUID | None,
    user_id: uuid.UUID | None,
) -> LoginAttempt:
    return LoginAttempt(
        account_key=key,
        tenant_id=tenant_id,
        user_id=user_id,
        ip=client.ip,
        user_agent=client.user_agent[:USER_AGENT_MAX] if client.user_agent else None,
        success=outcome is LoginOutcome.SUCCESS,
        outcome=outcome,
    )


def record(
    session: Session,
    *,
    key: str,
    outcome: LoginOutcome,
    client: ClientInfo,
    tenant_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
) -> None:
    """Record a successful attempt with the session it opens."""
    session.add(
        _attempt(key=key, outcome=outcome, client=client, tenant_id=tenant_id, user_id=user_id)
    )


def record_now(
    *,
    key: str,
    outcome: LoginOutcome,
    client: ClientInfo,
    tenant_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
) -> None:
    """Record a refused attempt in its own unit of work: the request's rolls back."""
    with get_database().session() as own_session:
        record(
            own_session,
            key=key,
            outcome=outcome,
            client=client,
            tenant_id=tenant_id,
            user_id=user_id,
        )
