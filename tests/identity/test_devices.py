"""Kiosk devices: keys shown once and stored hashed, tenant-scoped, check-in only, revocable."""

from collections.abc import Callable
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from visage.core.http import install_error_handlers
from visage.core.security import hash_token
from visage.identity.dependencies import require
from visage.identity.models import AuditEvent, Device, Role, Tenant, User
from visage.identity.permissions import Permission
from visage.identity.principal import Principal


@pytest.fixture(scope="module")
def checkin_client(client: TestClient) -> TestClient:
    """A minimal app with one check-in style route, to exercise the device dependency."""
    router = APIRouter()

    @router.post("/checkin-probe")
    def probe(
        principal: Annotated[Principal, Depends(require(Permission.CHECKINS_CREATE))],
    ) -> dict[str, str]:
        return {"kind": principal.kind, "tenant_id": str(principal.tenant_id)}

    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)
    return TestClient(app)


def test_owner_creates_lists_and_revokes_a_kiosk(
    client: TestClient,
    checkin_client: TestClient,
    owner: User,
    auth_headers: Callable[[User], dict[str, str]],
    session,
) -> None:
    headers = auth_headers(owner)
    created = client.post("/api/v1/devices", json={"name": "Front desk"}, headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    api_key = body["api_key"]
    assert api_key.startswith(body["key_prefix"])

    stored = session.get(Device, body["id"])
    assert stored.key_hash == hash_token(api_key)
    assert api_key not in stored.key_hash

    listed = client.get("/api/v1/devices", headers=headers).json()
    assert [d["id"] for d in listed] == [body["id"]]
    assert "api_key" not in listed[0]

    used = checkin_client.post("/checkin-probe", headers={"X-API-Key": api_key})
    assert used.status_code == 200
    assert used.json() == {"kind": "device", "tenant_id": str(owner.tenant_id)}
    session.expire_all()
    assert session.get(Device, body["id"]).last_used_at is not None
    assert session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "device.key_used", AuditEvent.target_id == body["id"]
        )
    )

    revoked = client.delete(f"/api/v1/devices/{body['id']}", headers=headers)
    assert revoked.status_code == 204
    refused = checkin_client.post("/checkin-probe", headers={"X-API-Key": api_key})
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "AUTH_004"


def test_device_key_cannot_do_anything_but_check_in(
    client: TestClient, owner: User, device_headers: Callable[[Tenant], dict[str, str]], session
) -> None:
    tenant = session.get(Tenant, owner.tenant_id)
    response = client.get("/api/v1/devices", headers=device_headers(tenant))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "PERMISSION_DENIED"


def test_suspended_tenant_kiosk_is_refused(
    checkin_client: TestClient,
    make_tenant: Callable[..., Tenant],
    device_headers: Callable[[Tenant], dict[str, str]],
    session,
) -> None:
    tenant = make_tenant()
    headers = device_headers(tenant)
    assert checkin_client.post("/checkin-probe", headers=headers).status_code == 200
    session.get(Tenant, tenant.id).is_active = False
    session.commit()
    refused = checkin_client.post("/checkin-probe", headers=headers)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "AUTH_003"


def test_unknown_key_and_missing_credentials_are_401(checkin_client: TestClient) -> None:
    assert (
        checkin_client.post("/checkin-probe", headers={"X-API-Key": "vsk_nope"}).status_code == 401
    )
    assert checkin_client.post("/checkin-probe").status_code == 401


def test_staff_may_not_manage_devices(
    client: TestClient,
    owner: User,
    make_user: Callable[..., User],
    auth_headers: Callable[[User], dict[str, str]],
    session,
) -> None:
    staff = make_user(session.get(Tenant, owner.tenant_id), Role.STAFF)
    response = client.post("/api/v1/devices", json={"name": "x"}, headers=auth_headers(staff))
    assert response.status_code == 403
    denial = session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "permission.denied", AuditEvent.actor_id == staff.id
        )
    )
    assert denial is not None
    assert denial.details["permission"] == "devices:manage"
