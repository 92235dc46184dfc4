"""The guides' paths answer directly with Visage's own handlers, listed as deprecated aliases."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from tests.conftest import TEST_PASSWORD, TenantOwner
from visage.guides.aliases import ALIAS_TAG, ALIASES, Alias, UnknownCanonicalRoute, alias_router
from visage.identity.models import Role, User

REDIRECTS = {301, 302, 307, 308}


def test_every_alias_is_a_deprecated_operation_pointing_at_its_canonical_path(
    client: TestClient,
) -> None:
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    for alias in ALIASES:
        operation = paths[alias.path][alias.method.lower()]
        assert operation["deprecated"] is True
        assert operation["tags"] == [ALIAS_TAG]
        assert alias.canonical in operation["description"]
        assert not paths[alias.canonical][alias.method.lower()].get("deprecated")


def test_every_alias_answers_without_a_redirect(
    client: TestClient,
    make_tenant_owner: Callable[[], TenantOwner],
    make_user: Callable[..., User],
    auth_headers: Callable[[User], dict[str, str]],
) -> None:
    owner = make_tenant_owner()
    for alias in ALIASES:
        member = make_user(owner.tenant, Role.MEMBER)
        path = alias.path.replace("{user_id}", str(member.id))
        response = client.request(
            alias.method,
            path,
            json={} if alias.method in {"POST", "PATCH"} else None,
            headers=auth_headers(owner.user),
            follow_redirects=False,
        )
        assert response.status_code not in REDIRECTS | {404, 405}, (alias, response.text)


def test_an_alias_answers_what_its_canonical_route_answers(
    client: TestClient, make_tenant_owner: Callable[[], TenantOwner]
) -> None:
    owner = make_tenant_owner()
    canonical = client.get("/api/v1/auth/me", headers=owner.headers)
    for path in ("/api/v1/auth/user/", "/api/v1/auth/user", "/api/v1/auth/me/"):
        assert client.get(path, headers=owner.headers).json() == canonical.json()
    created = client.post(
        "/api/v1/users/",
        json={
            "username": f"slash{uuid.uuid4().hex[:8]}",
            "email": f"slash-{uuid.uuid4().hex[:8]}@example.com",
            "password": "a long enough password",
        },
        headers=owner.headers,
        follow_redirects=False,
    )
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    patched = client.patch(
        f"/api/v1/users/{user_id}/", json={"full_name": "Slash"}, headers=owner.headers
    )
    assert (patched.status_code, patched.json()["full_name"]) == (200, "Slash")
    deleted = client.delete(f"/api/v1/users/{user_id}/", headers=owner.headers)
    assert deleted.status_code == 204
    assert client.get(f"/api/v1/users/{user_id}", headers=owner.headers).status_code == 404


@pytest.mark.parametrize("field", ["refresh_token", "refreshToken"])
@pytest.mark.parametrize("path", ["/api/v1/auth/refresh", "/api/auth/refresh", "/auth/refresh"])
def test_refresh_takes_either_spelling(
    client: TestClient, make_tenant_owner: Callable[[], TenantOwner], field: str, path: str
) -> None:
    owner = make_tenant_owner()
    login = client.post(
        "/api/v1/auth/login", json={"username": owner.user.username, "password": TEST_PASSWORD}
    )
    response = client.post(path, json={field: login.json()["refresh_token"]})
    assert response.status_code == 200, response.text
    assert response.json()["refresh_token"] != login.json()["refresh_token"]


def test_a_domain_adds_its_guides_paths_as_rows() -> None:
    billing = APIRouter(prefix="/payments")

    @billing.post("/webhook", status_code=202)
    def webhook() -> dict[str, str]:
        return {"received": "yes"}

    rows = [Alias("POST", "/api/v1/payments/webhook/", "/api/v1/payments/webhook", "WiWebb")]
    router = alias_router([("/api/v1", billing)], rows)
    (route,) = router.routes
    assert route.path == "/api/v1/payments/webhook/"  # type: ignore[attr-defined]
    assert route.endpoint is webhook  # type: ignore[attr-defined]
    assert route.status_code == 202  # type: ignore[attr-defined]
    with pytest.raises(UnknownCanonicalRoute, match="/api/v1/payments/refund"):
        alias_router(
            [("/api/v1", billing)],
            [Alias("POST", "/refund/", "/api/v1/payments/refund", "WiWebb")],
        )


def test_findme_login_refuses_bad_input_with_4xx(client: TestClient) -> None:
    too_long = client.post(
        "/api/login", json={"username": "invite", "password": "x" * 300, "access_code": "ABC"}
    )
    assert (too_long.status_code, too_long.json()["error"]["code"]) == (422, "VALIDATION_ERROR")
    unknown_event = client.post(
        "/api/login", json={"username": "invite", "password": "secret", "access_code": "NOPE"}
    )
    assert (unknown_event.status_code, unknown_event.json()["error"]["code"]) == (401, "EVENT_003")
    no_identifier = client.post("/api/login", json={"password": "secret"})
    assert no_identifier.status_code == 422
