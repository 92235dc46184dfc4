"""Apps under a real rate limit (the suite's own client has it lifted), sharing the session's
database; no lifespan is run, so the session's database stays installed."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import TEST_PASSWORD, TenantOwner
from tests.images import face_bytes
from tests.reliability.postgres import TcpPostgres
from visage.app import create_app
from visage.config import Settings
from visage.core.db import Database, set_database
from visage.core.migrations import upgrade_to_head
from visage.identity import service as identity_service
from visage.identity.models import Role
from visage.identity.principal import ClientInfo
from visage.members.models import Member


@pytest.fixture
def limited_client(settings: Settings, database: Database) -> Callable[..., TestClient]:
    """`limited_client(limit, peer="10.0.0.1", **settings)`: a fresh app (fresh counters) whose
    requests come from `peer`."""

    def factory(limit: int, peer: str = "10.0.0.1", **overrides: Any) -> TestClient:
        app = create_app(
            settings.model_copy(update={"rate_limit_per_minute": limit, **overrides}),
            prewarm=False,
        )
        return TestClient(app, client=(peer, 40000))

    del database  # requested so the session's database is installed
    return factory


def enroll_member(client: httpx.Client | TestClient, headers: dict[str, str]) -> dict[str, Any]:
    """A consenting member enrolled from two photos of Barack Obama, through the API."""
    member: dict[str, Any] = client.post(
        "/api/v1/members", json={"full_name": "Barack"}, headers=headers
    ).json()
    consent = {"text_version": "v1", "method": "kiosk"}
    client.post(f"/api/v1/members/{member['id']}/consent", json=consent, headers=headers)
    enrolled = client.post(
        f"/api/v1/members/{member['id']}/faces",
        files=[("images", (n, face_bytes(n))) for n in ("obama2.jpg", "obama3.jpg")],
        headers=headers,
    )
    assert enrolled.status_code == 201, enrolled.text
    return member


@dataclass(frozen=True)
class OwnedEvent:
    id: str
    owner: TenantOwner

    def upload(
        self, client: TestClient, files: dict[str, bytes], content_type: str = "image/jpeg"
    ) -> httpx.Response:
        return client.post(
            f"/api/v1/events/{self.id}/photos",
            files=[("files", (name, data, content_type)) for name, data in files.items()],
            headers=self.owner.headers,
        )


@pytest.fixture
def owned_event(client: TestClient, make_tenant_owner: Callable[[], TenantOwner]) -> OwnedEvent:
    """A fresh tenant's event (face search on) and its owner."""
    owner = make_tenant_owner()
    body = {
        "name": "Race",
        "slug": f"race-{uuid.uuid4().hex[:8]}",
        "event_date": datetime.date.today().isoformat(),
    }
    response = client.post("/api/v1/events", json=body, headers=owner.headers)
    assert response.status_code == 201, response.text
    return OwnedEvent(response.json()["id"], owner)


@dataclass
class ExternalSite:
    """A tenant owner and a member on a database of the test's own (`TcpPostgres`)."""

    postgres: TcpPostgres
    settings: Settings
    database: Database
    owner_headers: dict[str, str]
    tenant_id: uuid.UUID
    member_id: uuid.UUID

    def app(self, **overrides: Any) -> FastAPI:
        return create_app(self.settings.model_copy(update=overrides), prewarm=False)


@pytest.fixture
def external_site(settings: Settings, database: Database) -> Iterator[ExternalSite]:
    postgres = TcpPostgres()
    postgres.start()
    external_settings = settings.model_copy(
        update={"database_url": postgres.url, "rate_limit_per_minute": 1_000_000}
    )
    external = Database(external_settings)
    upgrade_to_head(external.engine)
    slug = f"t-{uuid.uuid4().hex[:10]}"
    with external.session() as session:
        tenant = identity_service.create_tenant(session, name=slug, slug=slug)
        owner = identity_service.create_user(
            session,
            tenant_id=tenant.id,
            username="owner",
            email="owner@example.com",
            password=TEST_PASSWORD,
            role=Role.TENANT_OWNER,
            email_verified=True,
        )
        tokens = identity_service.start_session(session, external_settings, owner, ClientInfo())
        member = Member(tenant_id=tenant.id, full_name="Door Member", is_active=True)
        session.add(member)
        session.flush()
        member_id, tenant_id = member.id, tenant.id
    try:
        yield ExternalSite(
            postgres,
            external_settings,
            external,
            {"Authorization": f"Bearer {tokens.access_token}"},
            tenant_id,
            member_id,
        )
    finally:
        external.dispose()
        set_database(database)  # an app's lifespan installed its own
        postgres.destroy()
