"""Brute force: every attempt recorded; 5 wrong passwords lock the account for a bounded
time (429 + Retry-After), success resets the count; per-address limit too."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tests.conftest import TEST_PASSWORD
from visage.config import Settings
from visage.core.db import Database
from visage.identity.login_guard import ACCOUNT_MAX_FAILURES, FAILURE_WINDOW
from visage.identity.models import LoginAttempt, LoginOutcome, Role, Tenant, User

LOGIN = "/api/v1/auth/login"


@pytest.fixture
def user(make_tenant: Callable[..., Tenant], make_user: Callable[..., User]) -> User:
    return make_user(make_tenant(), Role.STAFF)


def _try(client: TestClient, user: User, password: str) -> int:
    return client.post(LOGIN, json={"username": user.username, "password": password}).status_code


def _age_attempts(database: Database, user: User, by: timedelta) -> None:
    with database.session() as session:
        session.execute(
            update(LoginAttempt)
            .where(LoginAttempt.account_key == user.username.lower())
            .values(created_at=LoginAttempt.created_at - by)
        )


def test_five_failures_lock_the_account_for_a_bounded_time(
    client: TestClient, user: User, database: Database, session
) -> None:
    for _ in range(ACCOUNT_MAX_FAILURES):
        assert _try(client, user, "wrong password!") == 401
    locked = client.post(LOGIN, json={"username": user.username, "password": TEST_PASSWORD})
    assert locked.status_code == 429
    retry_after = int(locked.headers["Retry-After"])
    assert 0 < retry_after <= FAILURE_WINDOW.total_seconds()
    # Hammering while locked neither gets in nor extends the lock.
    for _ in range(3):
        assert _try(client, user, "wrong password!") == 429
    assert (
        int(
            client.post(LOGIN, json={"username": user.username, "password": "x"}).headers[
                "Retry-After"
            ]
        )
        <= retry_after
    )

    outcomes = session.scalars(
        select(LoginAttempt.outcome).where(LoginAttempt.user_id == user.id)
    ).all()
    assert outcomes.count(LoginOutcome.WRONG_PASSWORD) == ACCOUNT_MAX_FAILURES
    attempts = session.scalars(
        select(LoginAttempt).where(LoginAttempt.account_key == user.username.lower())
    ).all()
    assert {a.outcome for a in attempts} == {LoginOutcome.WRONG_PASSWORD, LoginOutcome.LOCKED_OUT}
    assert all(a.ip and a.user_agent == "testclient" for a in attempts)

    _age_attempts(database, user, FAILURE_WINDOW)  # the window has passed
    assert _try(client, user, TEST_PASSWORD) == 200


def test_success_resets_the_count(client: TestClient, user: User) -> None:
    for _ in range(ACCOUNT_MAX_FAILURES - 1):
        assert _try(client, user, "wrong password!") == 401
    assert _try(client, user, TEST_PASSWORD) == 200
    for _ in range(ACCOUNT_MAX_FAILURES - 1):
        assert _try(client, user, "wrong password!") == 401
    assert _try(client, user, TEST_PASSWORD) == 200


def test_unknown_accounts_lock_too(client: TestClient) -> None:
    ghost = f"ghost-{uuid.uuid4().hex[:8]}"
    statuses = [
        client.post(LOGIN, json={"username": ghost, "password": "wrong password!"}).status_code
        for _ in range(ACCOUNT_MAX_FAILURES + 1)
    ]
    assert statuses == [401] * ACCOUNT_MAX_FAILURES + [429]


def test_per_address_limit(
    client: TestClient,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
    database: Database,
) -> None:
    monkeypatch.setattr(settings, "login_max_failures_per_ip", 3)
    # Earlier tests' failures from this test client's address are out of the window.
    with database.session() as session:
        session.execute(
            update(LoginAttempt)
            .where(LoginAttempt.created_at > datetime.now(UTC) - FAILURE_WINDOW)
            .values(created_at=LoginAttempt.created_at - FAILURE_WINDOW)
        )
    tenant = make_tenant()
    victims = [make_user(tenant, Role.MEMBER) for _ in range(3)]
    for victim in victims:
        assert _try(client, victim, "wrong password!") == 401
    fresh = make_user(tenant, Role.MEMBER)
    assert _try(client, fresh, TEST_PASSWORD) == 429
