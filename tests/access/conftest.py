"""A gym to test against: a fresh tenant with its owner, and shortcuts over the real API."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TenantOwner
from visage.core.db import Database
from visage.core.tenancy import TenantId
from visage.identity.models import Tenant, User
from visage.identity.principal import Principal
from visage.members.models import Member


@dataclass
class Gym:
    client: TestClient
    database: Database
    tenant: Tenant
    owner: User
    headers: dict[str, str]

    @property
    def principal(self) -> Principal:
        """The owner, as the services see a signed-in user."""
        return Principal(
            kind="user", id=self.owner.id, tenant_id=TenantId(self.tenant.id), role=self.owner.role
        )

    def add_member(self, full_name: str = "Ada Member") -> uuid.UUID:
        with self.database.session() as session:
            member = Member(tenant_id=self.tenant.id, full_name=full_name, is_active=True)
            session.add(member)
            session.flush()
            return member.id

    def add_device(self, name: str = "Front door") -> dict[str, str]:
        """A kiosk registered by the owner; its `X-API-Key` headers."""
        return {"X-API-Key": self.post("/devices", {"name": name}, expect=201)["api_key"]}

    def post(self, path: str, json: Any = None, expect: int = 200, **kwargs: Any) -> Any:
        response = self.client.post(f"/api/v1{path}", json=json, headers=self.headers, **kwargs)
        assert response.status_code == expect, response.text
        return response.json() if response.content else None

    def get(self, path: str, expect: int = 200, **params: Any) -> Any:
        response = self.client.get(f"/api/v1{path}", params=params, headers=self.headers)
        assert response.status_code == expect, response.text
        return response.json()

    def add_plan(self, kind: str = "unlimited", **terms: Any) -> dict[str, Any]:
        body = {"name": f"{kind} {uuid.uuid4().hex[:6]}", "kind": kind, **terms}
        plan: dict[str, Any] = self.post("/plans", body, expect=201)
        return plan

    def sell(self, member_id: uuid.UUID, plan: dict[str, Any], **fields: Any) -> dict[str, Any]:
        body = {"plan_id": plan["id"], **fields}
        membership: dict[str, Any] = self.post(
            f"/members/{member_id}/memberships", body, expect=201
        )
        return membership

    def check_in(self, member_id: uuid.UUID, expect: int = 200) -> Any:
        return self.post("/checkins/manual", {"member_id": str(member_id)}, expect=expect)


@pytest.fixture(scope="session")
def make_gym(
    client: TestClient, database: Database, make_tenant_owner: Callable[[], TenantOwner]
) -> Callable[[], Gym]:
    def factory() -> Gym:
        new = make_tenant_owner()
        return Gym(client, database, new.tenant, new.user, new.headers)

    return factory


@pytest.fixture
def gym(make_gym: Callable[[], Gym]) -> Gym:
    return make_gym()
