"""Password reset and email verification, with the email read from a real SMTP server."""

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from tests.conftest import TEST_PASSWORD
from tests.identity.conftest import Inbox
from visage.core.db import Database
from visage.identity.email import EMAIL_QUEUE
from visage.identity.models import OneTimeToken, Role, Tenant, User

NEW_PASSWORD = "a much longer passphrase, 2026"


def _token_in(inbox: Inbox, address: str) -> str:
    message = inbox.to(address)[-1]
    body = message.get_body(("plain",)).get_content()
    match = re.search(r"token=([\w-]+)", body)
    assert match, body
    return match.group(1)


def _login(client: TestClient, user: User, password: str) -> int:
    return client.post(
        "/api/v1/auth/login", json={"username": user.username, "password": password}
    ).status_code


@pytest.fixture
def user(make_tenant: Callable[..., Tenant], make_user: Callable[..., User]) -> User:
    return make_user(make_tenant(), Role.STAFF)


def test_reset_flow(
    client: TestClient, user: User, inbox: Inbox, run_jobs: Callable[..., None]
) -> None:
    session_tokens = client.post(
        "/api/v1/auth/login", json={"username": user.username, "password": TEST_PASSWORD}
    ).json()
    asked = client.post("/api/v1/auth/password/reset", json={"email": user.email.upper()})
    assert asked.status_code == 202
    run_jobs([EMAIL_QUEUE])
    token = _token_in(inbox, user.email)

    weak = client.post(
        "/api/v1/auth/password/reset/confirm", json={"token": token, "new_password": "password1"}
    )
    assert (weak.status_code, weak.json()["error"]["code"]) == (422, "AUTH_005")

    done = client.post(
        "/api/v1/auth/password/reset/confirm", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert done.status_code == 204
    assert _login(client, user, TEST_PASSWORD) == 401
    assert _login(client, user, NEW_PASSWORD) == 200
    # Other sessions end; the token works once.
    me = client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {session_tokens['access_token']}"}
    )
    assert me.status_code == 401
    again = client.post(
        "/api/v1/auth/password/reset/confirm", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert (again.status_code, again.json()["error"]["code"]) == (401, "AUTH_004")


def test_unknown_email_answers_the_same(client: TestClient) -> None:
    response = client.post("/api/v1/auth/password/reset", json={"email": "nobody@nowhere.example"})
    assert response.status_code == 202


def test_reset_token_expires_after_30_minutes(
    client: TestClient,
    user: User,
    inbox: Inbox,
    run_jobs: Callable[..., None],
    database: Database,
) -> None:
    client.post("/api/v1/auth/password/reset", json={"email": user.email})
    run_jobs([EMAIL_QUEUE])
    token = _token_in(inbox, user.email)
    with database.session() as session:
        session.execute(
            update(OneTimeToken)
            .where(OneTimeToken.user_id == user.id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    response = client.post(
        "/api/v1/auth/password/reset/confirm", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("password", "accepted"),
    [
        ("short7!", False),  # 7 characters
        ("qwertyuiop", False),  # common
        ("é" * 64 + "x" * 64, True),  # 128 characters, every one of them checked
        ("y" * 129, False),  # too long
    ],
)
def test_password_policy(
    client: TestClient,
    user: User,
    inbox: Inbox,
    run_jobs: Callable[..., None],
    password: str,
    accepted: bool,
) -> None:
    client.post("/api/v1/auth/password/reset", json={"email": user.email})
    run_jobs([EMAIL_QUEUE])
    response = client.post(
        "/api/v1/auth/password/reset/confirm",
        json={"token": _token_in(inbox, user.email), "new_password": password},
    )
    assert (response.status_code == 204) is accepted, response.text
    if accepted:
        assert _login(client, user, password) == 200
        assert _login(client, user, password[:-1]) == 401  # every character counts


def test_email_verification(
    client: TestClient,
    owner: User,
    auth_headers: Callable[[User], dict[str, str]],
    inbox: Inbox,
    run_jobs: Callable[..., None],
) -> None:
    created = client.post(
        "/api/v1/users",
        json={
            "username": "newstaff",
            "email": f"new-{owner.id.hex[:8]}@example.com",
            "password": NEW_PASSWORD,
            "role": "staff",
        },
        headers=auth_headers(owner),
    )
    assert created.status_code == 201, created.text
    new_user = created.json()
    login = {"email": new_user["email"], "password": NEW_PASSWORD}
    run_jobs([EMAIL_QUEUE])
    response = client.post("/api/v1/auth/login", json=login)
    assert (response.status_code, response.json()["error"]["code"]) == (403, "AUTH_002")

    resent = client.post("/api/v1/auth/resend-verification", json={"email": new_user["email"]})
    assert resent.status_code == 202
    run_jobs([EMAIL_QUEUE])
    assert len(inbox.to(new_user["email"])) == 2
    first_token = _token_in(inbox, new_user["email"])
    verified = client.post("/api/v1/auth/verify-email", json={"token": first_token})
    assert verified.status_code == 204
    assert client.post("/api/v1/auth/login", json=login).status_code == 200
    assert client.post("/api/v1/auth/verify-email", json={"token": first_token}).status_code == 401
