"""Login, access tokens, refresh rotation with reuse detection, logout."""

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tests.conftest import TEST_PASSWORD
from visage.config import Settings
from visage.core.db import Database
from visage.core.security import JWT_AUDIENCE
from visage.identity.models import AuditEvent, LoginSession, Role, Tenant, User

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
ME = "/api/v1/auth/me"


def login(client: TestClient, user: User, tenant: Tenant | None = None, **overrides) -> dict:
    body = {"username": user.username, "password": TEST_PASSWORD, **overrides}
    if tenant is not None:
        body["tenant"] = tenant.slug
    response = client.post(LOGIN, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def tenant(make_tenant: Callable[..., Tenant]) -> Tenant:
    return make_tenant()


@pytest.fixture
def staff(tenant: Tenant, make_user: Callable[..., User]) -> User:
    return make_user(tenant, Role.STAFF)


def test_login_with_username_or_email_returns_a_token_pair(
    client: TestClient, tenant: Tenant, staff: User, settings: Settings
) -> None:
    tokens = login(client, staff, tenant)
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == settings.access_token_expire_minutes * 60
    me = client.get(ME, headers=bearer(tokens["access_token"]))
    assert me.status_code == 200
    body = me.json()
    assert body["id"] == str(staff.id)
    assert body["tenant"]["slug"] == tenant.slug
    assert "members:read" in body["permissions"]

    by_email = client.post(
        LOGIN, json={"email": staff.email.upper(), "password": TEST_PASSWORD}
    )  # tenant optional when unambiguous, emails case-insensitive
    assert by_email.status_code == 200, by_email.text


def test_wrong_password_and_unknown_user_answer_alike(
    client: TestClient, tenant: Tenant, staff: User, session
) -> None:
    wrong = client.post(LOGIN, json={"username": staff.username, "password": "not the password"})
    unknown = client.post(
        LOGIN, json={"username": f"ghost-{uuid.uuid4().hex}", "password": "x" * 9}
    )
    assert wrong.status_code == unknown.status_code == 401
    for response in (wrong, unknown):
        error = response.json()["error"]
        assert (error["code"], error["message"], error["details"]) == (
            "AUTH_001",
            "Invalid credentials. Unable to log in with provided credentials.",
            None,
        )
    failed = session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "login.failed", AuditEvent.target_id == str(staff.id)
        )
    )
    assert failed is not None
    assert failed.user_agent == "testclient"


def test_unverified_inactive_and_suspended_are_refused(
    client: TestClient, make_user: Callable[..., User], tenant: Tenant, session
) -> None:
    unverified = make_user(tenant, Role.MEMBER, verified=False)
    response = client.post(LOGIN, json={"username": unverified.username, "password": TEST_PASSWORD})
    assert (response.status_code, response.json()["error"]["code"]) == (403, "AUTH_002")

    inactive = make_user(tenant, Role.STAFF)
    session.execute(update(User).where(User.id == inactive.id).values(is_active=False))
    session.commit()
    response = client.post(LOGIN, json={"username": inactive.username, "password": TEST_PASSWORD})
    assert (response.status_code, response.json()["error"]["code"]) == (403, "AUTH_003")

    member = make_user(tenant, Role.STAFF)
    tokens = login(client, member)
    session.execute(update(Tenant).where(Tenant.id == tenant.id).values(is_active=False))
    session.commit()
    response = client.post(LOGIN, json={"username": member.username, "password": TEST_PASSWORD})
    assert (response.status_code, response.json()["error"]["code"]) == (403, "AUTH_003")
    assert client.get(ME, headers=bearer(tokens["access_token"])).status_code == 403
    assert client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]}).status_code == 403


def test_same_username_in_two_tenants_needs_the_tenant_only_when_both_passwords_match(
    client: TestClient, make_tenant: Callable[..., Tenant], make_user: Callable[..., User]
) -> None:
    first, second = make_tenant(), make_tenant()
    name = f"anna{uuid.uuid4().hex[:6]}"
    anna_one = make_user(first, Role.MEMBER, username=name, email=f"{name}@example.com")
    make_user(second, Role.MEMBER, username=name, email=f"{name}@example.com")
    ambiguous = client.post(LOGIN, json={"username": name, "password": TEST_PASSWORD})
    assert (ambiguous.status_code, ambiguous.json()["error"]["code"]) == (400, "AUTH_006")
    tokens = login(client, anna_one, first)
    me = client.get(ME, headers=bearer(tokens["access_token"])).json()
    assert me["id"] == str(anna_one.id)


def _claims(settings: Settings, user: User, **overrides) -> dict:
    now = datetime.now(UTC)
    return {
        "sub": str(user.id),
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=5),
        "aud": JWT_AUDIENCE,
        "type": "access",
        "ver": user.token_version,
        **overrides,
    }


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda s, claims: jwt.encode(claims, None, algorithm="none"), id="alg-none"),
        pytest.param(
            lambda s, claims: jwt.encode(claims, "another-key-" * 4, algorithm="HS256"),
            id="wrong-key",
        ),
        pytest.param(
            lambda s, claims: jwt.encode(
                {**claims, "exp": datetime.now(UTC) - timedelta(seconds=5)},
                s.secret_key,
                algorithm="HS256",
            ),
            id="expired",
        ),
        pytest.param(
            lambda s, claims: jwt.encode(
                {**claims, "aud": "someone-else"}, s.secret_key, algorithm="HS256"
            ),
            id="wrong-audience",
        ),
        pytest.param(
            lambda s, claims: jwt.encode(
                {**claims, "nbf": datetime.now(UTC) + timedelta(minutes=5)},
                s.secret_key,
                algorithm="HS256",
            ),
            id="not-yet-valid",
        ),
        pytest.param(
            lambda s, claims: jwt.encode(
                {**claims, "type": "refresh"}, s.secret_key, algorithm="HS256"
            ),
            id="wrong-type",
        ),
        pytest.param(
            lambda s, claims: jwt.encode(
                {**claims, "sid": str(uuid.uuid4())}, s.secret_key, algorithm="HS256"
            ),
            id="unknown-session",
        ),
    ],
)
def test_bad_access_tokens_are_refused(
    client: TestClient, staff: User, settings: Settings, forge
) -> None:
    tokens = login(client, staff)
    sid = jwt.decode(tokens["access_token"], options={"verify_signature": False})["sid"]
    token = forge(settings, _claims(settings, staff, sid=sid))
    response = client.get(ME, headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AUTH_004"


def test_refresh_token_is_not_an_access_token(client: TestClient, staff: User) -> None:
    tokens = login(client, staff)
    assert client.get(ME, headers=bearer(tokens["refresh_token"])).status_code == 401


def test_refresh_rotates_and_reuse_revokes_the_whole_family(
    client: TestClient, staff: User, session
) -> None:
    first = login(client, staff)
    second = client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert client.get(ME, headers=bearer(rotated["access_token"])).status_code == 200

    replay = client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert (replay.status_code, replay.json()["error"]["code"]) == (401, "AUTH_004")
    # The newest refresh token and the access tokens of the family are dead too.
    assert client.post(REFRESH, json={"refresh_token": rotated["refresh_token"]}).status_code == 401
    assert client.get(ME, headers=bearer(rotated["access_token"])).status_code == 401
    assert session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "refresh_token.reused", AuditEvent.target_id == str(staff.id)
        )
    )
    # Other sessions of the same user are untouched.
    assert client.get(ME, headers=bearer(login(client, staff)["access_token"])).status_code == 200


def test_two_racing_refreshes_exactly_one_wins(client: TestClient, staff: User) -> None:
    tokens = login(client, staff)
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def race() -> None:
        barrier.wait()
        response = client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=race) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 401]


def test_refresh_tokens_have_an_absolute_lifetime(
    client: TestClient, staff: User, database: Database
) -> None:
    tokens = login(client, staff)
    sid = jwt.decode(tokens["access_token"], options={"verify_signature": False})["sid"]
    with database.session() as session:
        session.execute(
            update(LoginSession)
            .where(LoginSession.id == uuid.UUID(sid))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]}).status_code == 401


def test_logout_ends_the_session_immediately(client: TestClient, staff: User) -> None:
    tokens = login(client, staff)
    headers = bearer(tokens["access_token"])
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get(ME, headers=headers).status_code == 401
    assert client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]}).status_code == 401


def test_unknown_refresh_token_is_refused(client: TestClient) -> None:
    response = client.post(REFRESH, json={"refresh_token": "made-up"})
    assert (response.status_code, response.json()["error"]["code"]) == (401, "AUTH_004")
