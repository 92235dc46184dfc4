"""A live Visage on a free port (uvicorn in a thread, on the test database) for the tests that
run real `curl` and shell commands the way a guide's reader would, and the accounts they use."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

from tests.conftest import TEST_PASSWORD, free_port
from tests.publishing.conftest import x_api, x_state  # AllIN's connected X account
from visage.app import create_app
from visage.config import Settings
from visage.core.db import Database, set_database
from visage.identity import api_tokens
from visage.identity.models import Role, Tenant, User
from visage.identity.principal import ClientInfo
from visage.identity.service import user_principal

START_SECONDS = 120


@pytest.fixture(scope="session")
def live_server(database: Database, settings: Settings) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_SECONDS
    while not server.started:
        assert thread.is_alive(), "the live server stopped while starting"
        assert time.monotonic() < deadline, "the live server did not start"
        time.sleep(0.1)
    assert httpx.get(f"{base_url}/health", timeout=10).status_code == 200
    yield base_url
    server.should_exit = True
    thread.join(timeout=30)
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
