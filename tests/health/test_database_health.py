"""/health/db and doctor against a database that goes away, lacks pgvector, or is behind."""

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.conftest import free_port
from visage.app import prepare_database
from visage.config import Settings
from visage.core.db import Database, embedded_server, set_database
from visage.core.migrations import SchemaNotAtHead
from visage.health.checks import check_port

DEBIAN_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def _debian_postgres_up() -> bool:
    import psycopg

    try:
        psycopg.connect(DEBIAN_POSTGRES, connect_timeout=2).close()
    except psycopg.OperationalError:
        return False
    return True


@pytest.fixture(scope="module")
def second_database(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Database, Any]]:
    """A separate embedded PostgreSQL, never migrated, that tests may stop (and must restart)
    without disturbing the rest of the suite."""
    data_dir = tmp_path_factory.mktemp("second-db")
    own = settings.model_copy(update={"visage_data_dir": data_dir})
    server = embedded_server(data_dir)
    database = Database(own)
    yield database, server
    database.dispose()
    server.stop()


@pytest.fixture
def use_database(database: Database) -> Iterator[Any]:
    def install(other: Database) -> None:
        set_database(other)

    yield install
    set_database(database)


def test_stopped_database_answers_503_fast_then_recovers(
    client: TestClient, second_database: tuple[Database, Any], use_database: Any
) -> None:
    other, server = second_database
    use_database(other)
    assert client.get("/health/db").json()["components"]["database"]["data"]["connected"]

    server.stop()
    started = time.perf_counter()
    response = client.get("/health/db")
    elapsed = time.perf_counter() - started
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]
    assert elapsed < 2.5

    server.start()
    response = client.get("/health/db")
    assert response.json()["components"]["database"]["data"]["connected"] is True


def test_schema_behind_head_is_reported(
    client: TestClient, second_database: tuple[Database, Any], use_database: Any
) -> None:
    other, _ = second_database
    with other.engine.begin() as connection:
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
    use_database(other)
    response = client.get("/health/db")
    assert response.status_code == 503
    component = response.json()["components"]["database"]
    assert component["detail"] == "Target database is not up to date — run `visage migrate`"
    assert component["data"]["at_head"] is False


def test_healthy_database_reports_latency_revision_and_vector(client: TestClient) -> None:
    data = client.get("/health/db").json()["components"]["database"]["data"]
    assert data["connected"] is True
    assert data["at_head"] is True
    assert data["vector_extension"] is True
    assert data["latency_ms"] >= 0


@pytest.mark.skipif(not _debian_postgres_up(), reason="needs the machine's PostgreSQL on :5432")
def test_doctor_reports_missing_vector_extension_with_the_fix(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "visage", "doctor", "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "VISAGE_DATA_DIR": str(tmp_path),
            "DATABASE_URL": DEBIAN_POSTGRES,
            "API_PORT": str(free_port()),
        },
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    checks = {check["name"]: check for check in json.loads(result.stdout)["checks"]}
    assert checks["database"]["detail"] == "Extension vector does not exist"
    assert "CREATE EXTENSION" in checks["database"]["fix"]
    assert checks["python"]["ok"]


def test_doctor_passes_on_the_embedded_database(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "visage", "doctor"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "VISAGE_DATA_DIR": str(tmp_path),
            "API_PORT": str(free_port()),
        },
        timeout=120,
        check=False,
    )
    # A fresh data dir has no schema yet: doctor says so and how to fix it.
    assert "Target database is not up to date" in result.stdout, result.stdout
    assert "fix: visage migrate" in result.stdout
    migrate = subprocess.run(
        [sys.executable, "-m", "visage", "migrate"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "VISAGE_DATA_DIR": str(tmp_path)},
    )
    assert migrate.returncode == 0, migrate.stderr
    result = subprocess.run(
        [sys.executable, "-m", "visage", "doctor"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
        env={
            "PATH": "/usr/bin:/bin",
            "VISAGE_DATA_DIR": str(tmp_path),
            "API_PORT": str(free_port()),
        },
    )
    assert result.returncode == 0, result.stdout
    assert "FAIL" not in result.stdout


def test_service_refuses_an_external_database_behind_head(
    settings: Settings, second_database: tuple[Database, Any]
) -> None:
    other, server = second_database
    external = settings.model_copy(update={"database_url": str(server.get_uri())})
    with pytest.raises(SchemaNotAtHead, match="Target database is not up to date"):
        prepare_database(external, other)


def test_doctor_names_the_process_holding_the_port(settings: Settings) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = check_port(settings.model_copy(update={"api_host": "127.0.0.1", "api_port": port}))
    assert not result.ok
    assert f"Port {port} is already in use by " in result.detail
    assert f"(pid {os.getpid()})" in result.detail
    assert "API_PORT" in result.fix


def visage_command(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "visage", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", **env},
        timeout=120,
        check=False,
    )


def test_a_command_on_a_fresh_data_dir_migrates_it_as_the_app_does(tmp_path: Path) -> None:
    # A fresh clone's first command may be a bench or a backup rather than `visage serve`.
    created = visage_command(
        "tenants", "create", "--name", "Fresh Gym", "--slug", "fresh",
        env={"VISAGE_DATA_DIR": str(tmp_path)}, cwd=tmp_path,
    )  # fmt: skip
    assert created.returncode == 0, created.stdout + created.stderr
    assert "Tenant fresh created" in created.stdout
    doctor = visage_command(
        "doctor", "--json", env={"VISAGE_DATA_DIR": str(tmp_path), "API_PORT": str(free_port())},
        cwd=tmp_path,
    )  # fmt: skip
    checks = json.loads(doctor.stdout)["checks"]
    [database] = [check for check in checks if check["name"] == "database"]
    assert database["data"]["at_head"], database


def test_a_command_on_an_external_database_behind_head_names_the_fix(
    tmp_path: Path, second_database: tuple[Database, Any]
) -> None:
    _, server = second_database
    refused = visage_command(
        "tenants", "create", "--name", "Gym", "--slug", "gym",
        env={"DATABASE_URL": str(server.get_uri()), "VISAGE_DATA_DIR": str(tmp_path)},
        cwd=tmp_path,
    )  # fmt: skip
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "Target database is not up to date" in refused.stdout
    assert "fix: visage migrate" in refused.stdout
    assert "Traceback" not in refused.stderr


def test_a_command_without_a_database_names_the_fix(tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    refused = visage_command(
        "tenants", "create", "--name", "Gym", "--slug", "gym",
        env={"DATABASE_URL": f"postgresql://visage@127.0.0.1:{port}/visage"}, cwd=tmp_path,
    )  # fmt: skip
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "Cannot reach the database" in refused.stdout
    assert "fix: check DATABASE_URL" in refused.stdout
    assert "Traceback" not in refused.stderr
