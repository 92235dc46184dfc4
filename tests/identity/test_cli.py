"""`visage tenants create`, `visage users create|reset-password|activate|deactivate`."""

import re
import uuid

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from visage.cli import app
from visage.core.db import Database

runner = CliRunner()


def visage(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _login(client: TestClient, slug: str, username: str, password: str) -> int:
    return client.post(
        "/api/v1/auth/login", json={"username": username, "password": password, "tenant": slug}
    ).status_code


def test_operator_sets_up_a_tenant_and_its_users(client: TestClient, database: Database) -> None:
    slug = f"club-{uuid.uuid4().hex[:6]}"
    assert "created" in visage("tenants", "create", "--name", "Chess Club", "--slug", slug)
    output = visage(
        "users",
        "create",
        "--tenant",
        slug,
        "--username",
        "owner",
        "--email",
        f"owner@{slug}.example",
        "--role",
        "tenant_owner",
    )
    generated = re.search(r"Password: (\S+)", output)
    assert generated, output
    assert _login(client, slug, "owner", generated.group(1)) == 200

    new_password = "operator chosen passphrase"
    visage(
        "users",
        "reset-password",
        "--tenant",
        slug,
        "--username",
        "owner",
        "--password",
        new_password,
    )
    assert _login(client, slug, "owner", generated.group(1)) == 401
    assert _login(client, slug, "owner", new_password) == 200

    visage("users", "deactivate", "--tenant", slug, "--username", "owner")
    assert _login(client, slug, "owner", new_password) == 403
    visage("users", "activate", "--tenant", slug, "--username", "owner")
    assert _login(client, slug, "owner", new_password) == 200


def test_refusals_exit_non_zero_with_the_reason() -> None:
    missing = runner.invoke(
        app, ["users", "activate", "--tenant", "no-such-tenant", "--username", "x"]
    )
    assert missing.exit_code == 1
    assert "No user" in missing.output
    weak = runner.invoke(
        app,
        [
            "users",
            "create",
            "--username",
            f"root{uuid.uuid4().hex[:4]}",
            "--email",
            "r@example.com",
            "--role",
            "super_admin",
            "--password",
            "password",
        ],
    )
    assert weak.exit_code == 1
    assert "too common" in weak.output
