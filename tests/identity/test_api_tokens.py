"""Personal API tokens: `POST /api/v1/auth/tokens`, sent as `Authorization: Token <key>`."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import TenantOwner
from visage.core.db import Database, utcnow
from visage.identity.api_tokens import api_token_owner, verify_api_token
from visage.identity.models import ApiToken, AuditEvent, Role, Tenant, User

TOKENS = "/api/v1/auth/tokens"


def _create(client: TestClient, headers: dict[str, str], **body: object) -> dict[str, object]:
    response = client.post(TOKENS, json={"name": "ci", **body}, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


def _token_headers(token: object) -> dict[str, str]:
    return {"Authorization": f"Token {token}"}


def test_token_is_shown_once_stored_hashed_and_acts_as_its_user(
    client: TestClient, make_tenant_owner: Callable[[], TenantOwner], session: Session
) -> None:
    owner = make_tenant_owner()
    created = _create(client, owner.headers, expires_in_days=30)
    token = str(created["token"])
    assert token.startswith("vst_")

    me = client.get("/api/v1/auth/me", headers=_token_headers(token))
    assert me.status_code == 200, me.text
    assert (me.json()["id"], me.json()["role"]) == (str(owner.user.id), "tenant_owner")

    listed = client.get(TOKENS, headers=owner.headers).json()
    assert [t["id"] for t in listed] == [created["id"]]
    assert "token" not in listed[0]
    assert listed[0]["last_used_at"] is not None  # recorded by the call above
    stored = session.scalars(select(ApiToken).where(ApiToken.user_id == owner.user.id)).one()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (stored.token_hash, stored.token_prefix)
    assert stored.tenant_id == owner.tenant.id
    actions = set(
        session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == str(created["id"])))
    )
    assert {"api_token.created", "api_token.used"} <= actions


def test_token_works_on_the_event_photo_routes_too(
    client: TestClient, make_tenant_owner: Callable[[], TenantOwner]
) -> None:
    owner = make_tenant_owner()
    token = _create(client, owner.headers)["token"]
    assert client.get("/api/v1/events", headers=_token_headers(token)).status_code == 200
    photo = client.get(f"/api/v1/photos/{uuid.uuid4()}", headers=_token_headers(token))
    assert photo.status_code == 404  # signed in, and no such photo in the tenant
    bad = client.get(f"/api/v1/photos/{uuid.uuid4()}", headers=_token_headers("vst_nope"))
    assert bad.status_code == 401


def test_token_has_the_users_role_and_tenant(
    client: TestClient,
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
    auth_headers: Callable[[User], dict[str, str]],
    make_tenant_owner: Callable[[], TenantOwner],
) -> None:
    tenant = make_tenant()
    member = make_user(tenant, Role.MEMBER)
    token = _create(client, auth_headers(member))["token"]
    # A member may not list users, with a token as with a password.
    assert client.get("/api/v1/users", headers=_token_headers(token)).status_code == 403
    other = make_tenant_owner()
    owner_token = _create(client, other.headers)["token"]
    foreign = client.get(f"/api/v1/users/{member.id}", headers=_token_headers(owner_token))
    assert foreign.status_code == 404


def test_revoked_expired_and_deactivated_tokens_are_refused(
    client: TestClient, make_tenant_owner: Callable[[], TenantOwner], database: Database
) -> None:
    owner = make_tenant_owner()
    revoked = _create(client, owner.headers)
    response = client.delete(f"{TOKENS}/{revoked['id']}", headers=owner.headers)
    assert response.status_code == 204
    refused = client.get("/api/v1/auth/me", headers=_token_headers(revoked["token"]))
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "AUTH_004"
    assert "revoked" in refused.json()["error"]["message"]

    expiring = _create(client, owner.headers, expires_in_days=1)
    with database.session() as session:
        session.get_one(ApiToken, expiring["id"]).expires_at = utcnow() - timedelta(seconds=1)
    assert (
        client.get("/api/v1/auth/me", headers=_token_headers(expiring["token"])).status_code == 401
    )

    live = _create(client, owner.headers)
    assert verify_api_token_in(database, str(live["token"])) == owner.user.id
    with database.session() as session:
        session.get_one(User, owner.user.id).is_active = False
    inactive = client.get("/api/v1/auth/me", headers=_token_headers(live["token"]))
    assert (inactive.status_code, inactive.json()["error"]["code"]) == (403, "AUTH_003")


def verify_api_token_in(database: Database, token: str) -> object:
    with database.session() as session:
        verified = verify_api_token(session, token)
    assert verified == api_token_owner(token)
    return verified.user_id if verified else None


def test_another_users_token_cannot_be_revoked(
    client: TestClient, make_tenant_owner: Callable[[], TenantOwner]
) -> None:
    first, second = make_tenant_owner(), make_tenant_owner()
    created = _create(client, first.headers)
    assert client.delete(f"{TOKENS}/{created['id']}", headers=second.headers).status_code == 404
    assert (
        client.get("/api/v1/auth/me", headers=_token_headers(created["token"])).status_code == 200
    )


def test_bearer_with_something_else_than_a_jwt_names_the_token_scheme(
    client: TestClient, make_tenant_owner: Callable[[], TenantOwner]
) -> None:
    owner = make_tenant_owner()
    token = _create(client, owner.headers)["token"]
    for value in (f"Bearer {token}", "Bearer abc123def456"):
        response = client.get("/api/v1/auth/me", headers={"Authorization": value})
        assert response.status_code == 401
        assert "Authorization: Token <token>" in response.json()["error"]["message"]
    no_scheme = client.get("/api/v1/auth/me", headers={"Authorization": "abc123def456"})
    assert no_scheme.status_code == 401
    assert "`Token <personal API token>`" in no_scheme.json()["error"]["message"]


def test_lifetime_and_name_are_checked(
    client: TestClient, make_tenant_owner: Callable[[], TenantOwner]
) -> None:
    owner = make_tenant_owner()
    for body in (
        {"name": "x", "expires_in_days": 0},
        {"name": "x", "expires_in_days": 400},
        {"name": ""},
        {"name": "x", "scope": "all"},
    ):
        assert client.post(TOKENS, json=body, headers=owner.headers).status_code == 422
