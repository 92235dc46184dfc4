"""Shared fixtures: a real embedded PostgreSQL (fresh data dir per test run), the app, tenants
and users. Nothing of ours is mocked."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# Settings come from the environment: point everything at a throw-away data dir before any
# visage import reads them.
_DATA_DIR = Path(tempfile.mkdtemp(prefix="visage-test-"))
os.environ.update(
    {
        "VISAGE_DATA_DIR": str(_DATA_DIR),
        "ENVIRONMENT": "test",
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "SMTP_HOST": "",
        "RATE_LIMIT_PER_MINUTE": "100000",
        # Every test client shares one address: per-address lockout is tested on its own.
        "LOGIN_MAX_FAILURES_PER_IP": "100000",
    }
)

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from visage.app import create_app  # noqa: E402
from visage.config import Settings, get_settings  # noqa: E402
from visage.core.db import Database, embedded_server, set_database  # noqa: E402
from visage.core.jobs import connected_app  # noqa: E402
from visage.core.migrations import upgrade_to_head  # noqa: E402
from visage.identity import service as identity_service  # noqa: E402
from visage.identity.models import Role, Tenant, User  # noqa: E402
from visage.identity.principal import ClientInfo  # noqa: E402

# The embedded server logs its shutdown at interpreter exit, after pytest closed the streams
# our log handlers write to: not an error of the code under test.
logging.raiseExceptions = False

TEST_PASSWORD = "correct horse battery staple"


def free_port() -> int:
    """A local TCP port nothing listens on (yet)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
def database(settings: Settings) -> Iterator[Database]:
    database = Database(settings)
    upgrade_to_head(database.engine)
    set_database(database)
    yield database
    database.dispose()
    # Killed worker subprocesses keep the shared server's last-user count up: stop it ourselves.
    embedded_server(settings.visage_data_dir).stop()
    shutil.rmtree(settings.visage_data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def client(database: Database, settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app) as test_client:
        yield test_client
    set_database(database)


@pytest.fixture(scope="session")
def run_jobs(settings: Settings, database: Database) -> Callable[..., None]:
    """Run a real Procrastinate worker over the test database until no job is left."""
    job_app = connected_app(settings)

    def run(queues: list[str] | None = None) -> None:
        async def work() -> None:
            async with job_app.open_async():
                await job_app.run_worker_async(
                    queues=queues, wait=False, install_signal_handlers=False, listen_notify=False
                )

        asyncio.run(work())

    return run


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    """A unit of work that commits when the test body is done with it."""
    with database.session() as db_session:
        yield db_session


@pytest.fixture(scope="session")
def make_tenant(database: Database) -> Callable[..., Tenant]:
    def factory(name: str | None = None) -> Tenant:
        slug = f"t-{uuid.uuid4().hex[:10]}"
        with database.session() as db_session:
            return identity_service.create_tenant(db_session, name=name or slug, slug=slug)

    return factory


@pytest.fixture(scope="session")
def make_user(database: Database) -> Callable[..., User]:
    def factory(
        tenant: Tenant | None,
        role: Role = Role.TENANT_OWNER,
        *,
        verified: bool = True,
        **fields: str,
    ) -> User:
        name = fields.pop("username", f"u{uuid.uuid4().hex[:10]}")
        with database.session() as db_session:
            return identity_service.create_user(
                db_session,
                tenant_id=tenant.id if tenant else None,
                username=name,
                email=fields.pop("email", f"{name}@example.com"),
                password=fields.pop("password", TEST_PASSWORD),
                role=role,
                email_verified=verified,
                **fields,
            )

    return factory


@pytest.fixture(scope="session")
def auth_headers(settings: Settings, database: Database) -> Callable[[User], dict[str, str]]:
    def headers(user: User) -> dict[str, str]:
        with database.session() as db_session:
            current = db_session.get_one(User, user.id)  # its token version may have moved on
            tokens = identity_service.start_session(db_session, settings, current, ClientInfo())
        return {"Authorization": f"Bearer {tokens.access_token}"}

    return headers


@dataclass(frozen=True)
class TenantOwner:
    tenant: Tenant
    user: User
    headers: dict[str, str]


@pytest.fixture(scope="session")
def make_tenant_owner(
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
    auth_headers: Callable[[User], dict[str, str]],
) -> Callable[[], TenantOwner]:
    """A fresh tenant, its owner and the owner's `Authorization` headers."""

    def factory() -> TenantOwner:
        tenant = make_tenant()
        owner = make_user(tenant, Role.TENANT_OWNER)
        return TenantOwner(tenant, owner, auth_headers(owner))

    return factory


@pytest.fixture
def device_headers(database: Database) -> Callable[[Tenant], dict[str, str]]:
    """`X-API-Key` headers of a new kiosk device of `tenant`."""

    def headers(tenant: Tenant) -> dict[str, str]:
        with database.session() as db_session:
            _, api_key = identity_service.create_device(db_session, tenant.id, "Test kiosk")
        return {"X-API-Key": api_key}

    return headers


@pytest.fixture
def owner(make_tenant: Callable[..., Tenant], make_user: Callable[..., User]) -> User:
    """The owner of a fresh tenant."""
    return make_user(make_tenant(), Role.TENANT_OWNER)


@pytest.fixture
def outside_world(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The outside services a route calls without further set-up, as contract servers: the API
    walks look for our 5xx and leaks, and without them a machine with no internet gets
    Bluesky's honest 503 (SOCIAL_006, the platform unreachable) for every app-password
    sign-in."""
    # Imported here: the contract servers import this module.
    from tests.contracts import bluesky as bluesky_contract
    from tests.contracts.server import serve

    with serve(bluesky_contract.create_app(bluesky_contract.BlueskyState())) as base:
        monkeypatch.setattr(settings, "bluesky_api_base_url", base)
        yield
