"""Tenants (super admin), users and roles, refusal of fields a role may not set, audit log."""

import uuid
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TEST_PASSWORD
from visage.config import Settings
from visage.core.db import Database
from visage.identity import service
from visage.identity.models import Role, Tenant, User

PASSWORD = "staff member passphrase"


@pytest.fixture(scope="module")
def admin(database: Database, settings: Settings) -> User:
    with database.session() as session:
        return service.ensure_super_admin(session, settings)


@pytest.fixture
def admin_headers(admin: User, auth_headers: Callable[[User], dict[str, str]]) -> dict[str, str]:
    return auth_headers(admin)


def test_super_admin_is_created_once_and_never_reset(
    database: Database, settings: Settings, admin: User
) -> None:
    with database.session() as session:
        again = service.ensure_super_admin(session, settings)
    assert again.id == admin.id
    assert again.password_hash == admin.password_hash
    assert again.role is Role.SUPER_ADMIN
    assert again.tenant_id is None


def test_a_new_organization_end_to_end(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    """Super admin creates a tenant and its owner; the owner creates staff and a kiosk."""
    slug = f"gym-{uuid.uuid4().hex[:6]}"
    tenant = client.post(
        "/api/v1/tenants", json={"name": "Iron Gym", "slug": slug}, headers=admin_headers
    )
    assert tenant.status_code == 201, tenant.text
    tenant_id = tenant.json()["id"]
    duplicate = client.post(
        "/api/v1/tenants", json={"name": "x", "slug": slug}, headers=admin_headers
    )
    assert duplicate.status_code == 409

    owner = client.post(
        "/api/v1/users",
        json={
            "username": "boss",
            "email": f"boss@{slug}.example",
            "password": PASSWORD,
            "role": "tenant_owner",
            "tenant_id": tenant_id,
            "email_verified": True,
        },
        headers=admin_headers,
    )
    assert owner.status_code == 201, owner.text
    tokens = client.post(
        "/api/v1/auth/login", json={"username": "boss", "password": PASSWORD, "tenant": slug}
    ).json()
    owner_headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/api/v1/tenants/me", headers=owner_headers).json()["slug"] == slug

    staff = client.post(
        "/api/v1/users",
        json={
            "username": "desk",
            "email": f"desk@{slug}.example",
            "password": PASSWORD,
            "role": "staff",
            "email_verified": True,
        },
        headers=owner_headers,
    )
    assert staff.status_code == 201, staff.text
    assert staff.json()["tenant_id"] == tenant_id
    kiosk = client.post("/api/v1/devices", json={"name": "Door"}, headers=owner_headers)
    assert kiosk.status_code == 201

    suspended = client.post(f"/api/v1/tenants/{tenant_id}/suspend", headers=admin_headers)
    assert suspended.json()["is_active"] is False
    refused = client.post(
        "/api/v1/auth/login", json={"username": "desk", "password": PASSWORD, "tenant": slug}
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "AUTH_003")
    assert client.get("/api/v1/tenants/me", headers=owner_headers).status_code == 403
    client.post(f"/api/v1/tenants/{tenant_id}/activate", headers=admin_headers)
    assert client.get("/api/v1/tenants/me", headers=owner_headers).status_code == 200

    listed = client.get("/api/v1/tenants", params={"search": slug}, headers=admin_headers).json()
    assert [t["slug"] for t in listed["items"]] == [slug]
    assert client.get("/api/v1/tenants", headers=owner_headers).status_code == 403


def test_same_email_in_two_tenants_but_not_twice_in_one(
    client: TestClient,
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
    auth_headers: Callable[[User], dict[str, str]],
) -> None:
    first, second = make_tenant(), make_tenant()
    headers_one = auth_headers(make_user(first, Role.TENANT_OWNER))
    headers_two = auth_headers(make_user(second, Role.TENANT_OWNER))
    body = {"username": "anna", "email": "anna@example.com", "password": PASSWORD, "role": "member"}
    assert client.post("/api/v1/users", json=body, headers=headers_one).status_code == 201
    assert client.post("/api/v1/users", json=body, headers=headers_two).status_code == 201
    clash = client.post(
        "/api/v1/users",
        json={**body, "username": "anna2", "email": "ANNA@example.com"},
        headers=headers_one,
    )
    assert clash.status_code == 409
    assert clash.json()["error"]["details"] == {"field": "email"}


def test_list_is_paginated_and_filtered(
    client: TestClient,
    owner: User,
    make_user: Callable[..., User],
    auth_headers: Callable[[User], dict[str, str]],
    session,
) -> None:
    tenant = session.get(Tenant, owner.tenant_id)
    for index in range(3):
        make_user(tenant, Role.MEMBER, username=f"member{index}", full_name="Club Member")
    photographer = make_user(tenant, Role.PHOTOGRAPHER, username="shooter")
    headers = auth_headers(owner)
    page = client.get("/api/v1/users", params={"page_size": 2}, headers=headers).json()
    assert (page["total"], len(page["items"]), page["page"]) == (5, 2, 1)
    last = client.get("/api/v1/users", params={"page_size": 2, "page": 3}, headers=headers).json()
    assert len(last["items"]) == 1
    members = client.get("/api/v1/users", params={"role": "member"}, headers=headers).json()
    assert members["total"] == 3
    found = client.get("/api/v1/users", params={"search": "SHOOT"}, headers=headers).json()
    assert [u["id"] for u in found["items"]] == [str(photographer.id)]
    too_big = client.get("/api/v1/users", params={"page_size": 101}, headers=headers)
    assert too_big.status_code == 422


def test_fields_a_role_may_not_set_are_refused(
    client: TestClient,
    owner: User,
    make_user: Callable[..., User],
    auth_headers: Callable[[User], dict[str, str]],
    make_tenant: Callable[..., Tenant],
    session,
) -> None:
    tenant = session.get(Tenant, owner.tenant_id)
    member = make_user(tenant, Role.MEMBER)
    member_headers = auth_headers(member)
    owner_headers = auth_headers(owner)

    own_role = client.patch(
        f"/api/v1/users/{member.id}", json={"role": "tenant_owner"}, headers=member_headers
    )
    assert (own_role.status_code, own_role.json()["error"]["code"]) == (403, "FIELD_NOT_ALLOWED")
    assert own_role.json()["error"]["details"] == {"fields": ["role"]}
    renamed = client.patch(
        f"/api/v1/users/{member.id}", json={"full_name": "Me"}, headers=member_headers
    )
    assert renamed.json()["full_name"] == "Me"

    other_tenant = client.patch(
        f"/api/v1/users/{member.id}",
        json={"tenant_id": str(make_tenant().id)},
        headers=owner_headers,
    )
    assert other_tenant.status_code == 403
    to_super = client.patch(
        f"/api/v1/users/{member.id}", json={"role": "super_admin"}, headers=owner_headers
    )
    assert to_super.status_code == 403
    create_super = client.post(
        "/api/v1/users",
        json={
            "username": "root2",
            "email": "r@example.com",
            "password": PASSWORD,
            "role": "super_admin",
        },
        headers=owner_headers,
    )
    assert create_super.status_code == 403
    unknown_field = client.patch(
        f"/api/v1/users/{member.id}", json={"token_version": 9}, headers=owner_headers
    )
    assert unknown_field.status_code == 422
    self_demote = client.patch(
        f"/api/v1/users/{owner.id}", json={"role": "member"}, headers=owner_headers
    )
    assert self_demote.status_code == 403

    promoted = client.patch(
        f"/api/v1/users/{member.id}", json={"role": "staff"}, headers=owner_headers
    )
    assert promoted.json()["role"] == "staff"
    audit = client.get(
        "/api/v1/audit", params={"action": "user.role_changed"}, headers=owner_headers
    ).json()
    assert audit["items"][0]["details"] == {"from": "member", "to": "staff"}
    assert audit["items"][0]["actor_id"] == str(owner.id)


def test_own_password_change_needs_the_current_one(
    client: TestClient, owner: User, auth_headers: Callable[[User], dict[str, str]]
) -> None:
    headers = auth_headers(owner)
    wrong = client.patch(
        f"/api/v1/users/{owner.id}",
        json={"password": PASSWORD, "current_password": "nope"},
        headers=headers,
    )
    assert wrong.status_code == 422
    changed = client.patch(
        f"/api/v1/users/{owner.id}",
        json={"password": PASSWORD, "current_password": TEST_PASSWORD},
        headers=headers,
    )
    assert changed.status_code == 200
    # Changing the password ends every session, this one included.
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_deactivation_revokes_access_immediately(
    client: TestClient,
    owner: User,
    make_user: Callable[..., User],
    auth_headers: Callable[[User], dict[str, str]],
    session,
) -> None:
    staff = make_user(session.get(Tenant, owner.tenant_id), Role.STAFF)
    staff_headers = auth_headers(staff)
    owner_headers = auth_headers(owner)
    assert client.get("/api/v1/auth/me", headers=staff_headers).status_code == 200
    response = client.post(f"/api/v1/users/{staff.id}/deactivate", headers=owner_headers)
    assert response.json()["is_active"] is False
    assert client.get("/api/v1/auth/me", headers=staff_headers).status_code == 401
    client.post(f"/api/v1/users/{staff.id}/activate", headers=owner_headers)
    assert client.get("/api/v1/auth/me", headers=auth_headers(staff)).status_code == 200
    actions = {
        event["action"]
        for event in client.get(
            "/api/v1/audit", params={"actor_id": str(owner.id)}, headers=owner_headers
        ).json()["items"]
    }
    assert {"user.deactivated", "user.activated"} <= actions
    assert client.delete(f"/api/v1/users/{staff.id}", headers=owner_headers).status_code == 204
    assert client.get(f"/api/v1/users/{staff.id}", headers=owner_headers).status_code == 404
    assert client.delete(f"/api/v1/users/{owner.id}", headers=owner_headers).status_code == 409


def test_audit_log_is_tenant_scoped_for_owners_and_global_for_super_admins(
    client: TestClient,
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
    auth_headers: Callable[[User], dict[str, str]],
    admin_headers: dict[str, str],
) -> None:
    first, second = make_tenant(), make_tenant()
    owner_one = make_user(first, Role.TENANT_OWNER)
    owner_two = make_user(second, Role.TENANT_OWNER)
    client.post("/api/v1/devices", json={"name": "one"}, headers=auth_headers(owner_one))
    client.post("/api/v1/devices", json={"name": "two"}, headers=auth_headers(owner_two))
    seen = client.get(
        "/api/v1/audit", params={"action": "device.created"}, headers=auth_headers(owner_one)
    ).json()
    assert {e["tenant_id"] for e in seen["items"]} == {str(first.id)}
    assert (
        client.get(
            "/api/v1/audit", params={"tenant_id": str(second.id)}, headers=auth_headers(owner_one)
        ).status_code
        == 403
    )
    everything = client.get(
        "/api/v1/audit",
        params={"action": "device.created", "page_size": 100},
        headers=admin_headers,
    ).json()
    assert {str(first.id), str(second.id)} <= {e["tenant_id"] for e in everything["items"]}
    staff = make_user(first, Role.STAFF)
    assert client.get("/api/v1/audit", headers=auth_headers(staff)).status_code == 403


def test_owner_renames_their_tenant_but_cannot_unsuspend_it(
    client: TestClient,
    owner: User,
    make_user: Callable[..., User],
    auth_headers: Callable[[User], dict[str, str]],
    session,
) -> None:
    headers = auth_headers(owner)
    renamed = client.patch("/api/v1/tenants/me", json={"name": "New Name"}, headers=headers)
    assert renamed.json()["name"] == "New Name"
    refused = client.patch("/api/v1/tenants/me", json={"is_active": False}, headers=headers)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "FIELD_NOT_ALLOWED")
    staff = make_user(session.get(Tenant, owner.tenant_id), Role.STAFF)
    staff_headers = auth_headers(staff)
    assert client.get("/api/v1/tenants/me", headers=staff_headers).json()["name"] == "New Name"
    denied = client.patch("/api/v1/tenants/me", json={"name": "x"}, headers=staff_headers)
    assert denied.status_code == 403
