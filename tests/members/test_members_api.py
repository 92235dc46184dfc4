"""Members CRUD, search and paging, tenant isolation, roles, and consent records."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from visage.core.db import Database
from visage.identity.models import AuditEvent, Role, Tenant, User


@pytest.fixture(scope="module")
def tenant(make_tenant: Callable[..., Tenant]) -> Tenant:
    return make_tenant()


@pytest.fixture(scope="module")
def headers(
    tenant: Tenant,
    make_user: Callable[..., User],
    auth_headers: Callable[[User], dict[str, str]],
) -> dict[str, str]:
    return auth_headers(make_user(tenant, Role.TENANT_OWNER))


@pytest.fixture(scope="module")
def other(
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
    auth_headers: Callable[[User], dict[str, str]],
) -> dict[str, str]:
    """The owner of another tenant."""
    return auth_headers(make_user(make_tenant(), Role.TENANT_OWNER))


def create(client: TestClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = client.post("/api/v1/members", json=fields, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_create_read_update_delete(client: TestClient, headers: dict[str, str]) -> None:
    member = create(
        client, headers, full_name="Ada Lovelace", email="ada@example.com", phone="+44 20 1234"
    )
    assert member["is_active"] is True
    assert member["consent"] is None
    assert member["face_count"] == 0
    url = f"/api/v1/members/{member['id']}"
    assert client.get(url, headers=headers).json()["email"] == "ada@example.com"
    patched = client.patch(url, json={"is_active": False, "phone": None}, headers=headers)
    assert patched.status_code == 200, patched.text
    assert (patched.json()["is_active"], patched.json()["phone"]) == (False, None)
    assert patched.json()["full_name"] == "Ada Lovelace"
    assert client.delete(url, headers=headers).status_code == 204
    assert client.get(url, headers=headers).status_code == 404


def test_search_and_paging(client: TestClient, headers: dict[str, str]) -> None:
    marker = uuid.uuid4().hex[:8]
    for index in range(5):
        name, ref = f"Pager {marker} {index}", f"{marker}-{index}"
        create(client, headers, full_name=name, external_ref=ref)
    first = client.get(
        "/api/v1/members", params={"q": marker, "page_size": 2}, headers=headers
    ).json()
    assert first["total"] == 5
    assert [m["full_name"] for m in first["items"]] == [f"Pager {marker} 0", f"Pager {marker} 1"]
    last = client.get(
        "/api/v1/members", params={"q": marker, "page_size": 2, "page": 3}, headers=headers
    ).json()
    assert [m["external_ref"] for m in last["items"]] == [f"{marker}-4"]
    by_ref = client.get("/api/v1/members", params={"q": f"{marker}-3"}, headers=headers).json()
    assert [m["full_name"] for m in by_ref["items"]] == [f"Pager {marker} 3"]
    # Found by schemathesis: a page far past the end overflowed PostgreSQL's OFFSET (a 500).
    absurd = client.get("/api/v1/members", params={"page": 10**18}, headers=headers)
    assert absurd.status_code == 422
    assert absurd.json()["error"]["details"][0]["field"] == "query.page"


def test_external_ref_is_unique_per_tenant(
    client: TestClient, headers: dict[str, str], other: dict[str, str]
) -> None:
    create(client, headers, full_name="Card One", external_ref="card-0001")
    duplicate = {"full_name": "Card Two", "external_ref": "card-0001"}
    again = client.post("/api/v1/members", json=duplicate, headers=headers)
    assert again.status_code == 409
    create(client, other, full_name="Elsewhere", external_ref="card-0001")


def test_other_tenants_members_are_not_found(
    client: TestClient, headers: dict[str, str], other: dict[str, str]
) -> None:
    member = create(client, headers, full_name="Private Person")
    url = f"/api/v1/members/{member['id']}"
    assert client.get(url, headers=other).status_code == 404
    assert client.patch(url, json={"full_name": "x"}, headers=other).status_code == 404
    assert client.delete(url, headers=other).status_code == 404
    consent = client.post(
        f"{url}/consent", json={"text_version": "v1", "method": "web"}, headers=other
    )
    assert consent.status_code == 404
    listed = client.get("/api/v1/members", params={"q": "Private Person"}, headers=other).json()
    assert listed["total"] == 0


def test_link_to_a_user_of_another_tenant_is_refused(
    client: TestClient,
    headers: dict[str, str],
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
    tenant: Tenant,
) -> None:
    own_user = make_user(tenant, Role.MEMBER)
    foreign_user = make_user(make_tenant(), Role.MEMBER)
    linked = create(client, headers, full_name="Linked", user_id=str(own_user.id))
    assert linked["user_id"] == str(own_user.id)
    refused = client.post(
        "/api/v1/members", json={"full_name": "X", "user_id": str(foreign_user.id)}, headers=headers
    )
    assert refused.status_code == 404


def test_roles(
    client: TestClient,
    headers: dict[str, str],
    tenant: Tenant,
    make_user: Callable[..., User],
    auth_headers: Callable[[User], dict[str, str]],
) -> None:
    staff = auth_headers(make_user(tenant, Role.STAFF))
    photographer = auth_headers(make_user(tenant, Role.PHOTOGRAPHER))
    assert client.get("/api/v1/members", headers=staff).status_code == 200
    create(client, staff, full_name="By Staff")
    assert client.get("/api/v1/members", headers=photographer).status_code == 403
    denied = client.post("/api/v1/members", json={"full_name": "x"}, headers=photographer)
    assert denied.status_code == 403
    assert client.get("/api/v1/members").status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"full_name": ""},
        {"full_name": "x", "email": "not-an-email"},
        {"full_name": "x", "unknown": 1},
    ],
)
def test_invalid_bodies(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> None:
    response = client.post("/api/v1/members", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_consent_is_recorded_replaced_and_withdrawn(
    client: TestClient, headers: dict[str, str], database: Database
) -> None:
    member = create(client, headers, full_name="Consenting")
    url = f"/api/v1/members/{member['id']}/consent"
    assert client.delete(url, headers=headers).status_code == 404  # nothing to withdraw yet
    first = client.post(url, json={"text_version": "2026-01", "method": "paper"}, headers=headers)
    assert first.status_code == 201, first.text
    assert first.json()["recorded_by"] is not None
    second = client.post(url, json={"text_version": "2026-06", "method": "kiosk"}, headers=headers)
    shown = client.get(f"/api/v1/members/{member['id']}", headers=headers).json()["consent"]
    assert shown["id"] == second.json()["id"]
    assert shown["text_version"] == "2026-06"
    withdrawn = client.delete(url, headers=headers)
    assert withdrawn.status_code == 200
    assert withdrawn.json() == {"templates_erased": 0}
    assert client.get(f"/api/v1/members/{member['id']}", headers=headers).json()["consent"] is None
    with database.session() as session:
        actions = list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.target_id == member["id"])
                .order_by(AuditEvent.created_at)
            )
        )
    assert actions.count("consent.given") == 2
    assert {"consent.withdrawn", "faces.erased"} <= set(actions)
