"""`visage security lockdown --tenant T --deactivate-users`: T's sessions, refresh tokens and
access tokens stop working at once and its users are deactivated (audited); another tenant is
untouched; `visage security unlock` reactivates exactly those users, who sign in again."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import TEST_PASSWORD, TenantOwner
from visage.cli import app as cli
from visage.core.db import Database
from visage.identity.models import AuditEvent, Role, User

ME = "/api/v1/auth/me"


def _login(client: TestClient, tenant: str, username: str) -> dict[str, str]:
    response = client.post(
        "/api/v1/auth/login",
        json={"tenant": tenant, "username": username, "password": TEST_PASSWORD},
    )
    assert response.status_code == 200, response.text
    tokens: dict[str, str] = response.json()
    return tokens


def test_lockdown_of_a_tenant_then_unlock(
    client: TestClient,
    database: Database,
    make_tenant_owner: Callable[[], TenantOwner],
    make_user: Callable[..., User],
) -> None:
    breached, bystander = make_tenant_owner(), make_tenant_owner()
    already_inactive = make_user(breached.tenant, Role.STAFF)
    with database.session() as session:
        session.get_one(User, already_inactive.id).is_active = False
    tokens = _login(client, breached.tenant.slug, breached.user.username)
    runner = CliRunner()

    locked = runner.invoke(
        cli,
        [
            "security",
            "lockdown",
            "--tenant",
            breached.tenant.slug,
            "--deactivate-users",
            "--reason",
            "leaked WAHA key",
        ],
    )
    assert locked.exit_code == 0, locked.output
    assert client.get(ME, headers=breached.headers).status_code == 401
    access = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get(ME, headers=access).status_code == 401
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 401
    assert client.get(ME, headers=bystander.headers).status_code == 200
    with database.session() as session:
        event = session.scalars(
            select(AuditEvent).where(
                AuditEvent.tenant_id == breached.tenant.id,
                AuditEvent.action == "security.lockdown",
            )
        ).one()
        assert event.details["reason"] == "leaked WAHA key"
        assert event.details["deactivated"] == [str(breached.user.id)]  # not the inactive one
    login = client.post(
        "/api/v1/auth/login",
        json={
            "tenant": breached.tenant.slug,
            "username": breached.user.username,
            "password": TEST_PASSWORD,
        },
    )
    assert login.status_code == 403  # deactivated until unlocked

    unlocked = runner.invoke(cli, ["security", "unlock", "--tenant", breached.tenant.slug])
    assert unlocked.exit_code == 0, unlocked.output
    fresh = _login(client, breached.tenant.slug, breached.user.username)
    assert (
        client.get(ME, headers={"Authorization": f"Bearer {fresh['access_token']}"}).status_code
        == 200
    )
    assert client.get(ME, headers=access).status_code == 401  # old tokens stay dead
    with database.session() as session:
        assert session.get_one(User, already_inactive.id).is_active is False
        unlock = session.scalars(
            select(AuditEvent).where(
                AuditEvent.tenant_id == breached.tenant.id,
                AuditEvent.action == "security.unlock",
            )
        ).one()
        assert unlock.details["reactivated"] == [str(breached.user.id)]
