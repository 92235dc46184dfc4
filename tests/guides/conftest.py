"""A live Visage on a free port (uvicorn in a thread, on the test database) for the tests that
run real `curl` and shell commands the way a guide's reader would, and the accounts they use."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.conftest import TEST_PASSWORD
from tests.publishing.conftest import x_api, x_state  # AllIN's connected X account
from visage.app import create_app
from visage.config import Settings
from visage.core.db import Database, set_database
from visage.core.live_server import serve_in_thread
from visage.identity import api_tokens
from visage.identity.models import Role, Tenant, User
from visage.identity.principal import ClientInfo
from visage.identity.service import user_principal


@pytest.fixture(scope="session")
def live_server(database: Database, settings: Settings) -> Iterator[str]:
    with serve_in_thread(create_app(settings)) as base_url:
        assert httpx.get(f"{base_url}/health", timeout=10).status_code == 200
        yield base_url
    set_database(database)  # the app's lifespan cleared the shared one on its way out


@dataclass(frozen=True)
class Reader:
    """Someone following a guide: an owner of an organization, with a personal API token."""

    tenant: Tenant
    owner: User
    api_token: str
    member: User


@pytest.fixture(scope="module")
def reader(
    database: Database,
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
) -> Reader:
    tenant = make_tenant()
    owner = make_user(tenant, Role.TENANT_OWNER)
    member = make_user(tenant, Role.MEMBER)
    with database.session() as session:
        _, token = api_tokens.create_api_token(
            session, user_principal(owner), name="guide", expires_in_days=1, client=ClientInfo()
        )
    return Reader(tenant, owner, token, member)


__all__ = ["TEST_PASSWORD", "Reader", "x_api", "x_state"]
