"""`visage doctor` in the situations of the guides, each FAIL naming its fix in one line: a
PostgreSQL without pgvector, a schema behind head, the port held by another process, a wrong
DATABASE_URL password, Docker's host name outside Docker, an unreachable SMTP server, and
FindMe's migration trap (a global unique index left on the attendees)."""

from __future__ import annotations

import json
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import face_recognition_models
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import free_port
from tests.guides.databases import can_run_password_cluster, password_cluster, scratch_database
from tests.guides.situations import port_held_by_another_process, run_visage
from visage.config import Settings
from visage.core.db import Database
from visage.guides.service import findme_health
from visage.health import checks
from visage.health.setup_checks import check_database_url


def run_doctor(tmp_path: Path, *, as_json: bool = True, **env: str) -> CompletedProcess[str]:
    env.setdefault("API_PORT", str(free_port()))
    return run_visage(tmp_path, "doctor", *(["--json"] if as_json else []), **env)


def doctor_checks(tmp_path: Path, **env: str) -> dict[str, dict[str, Any]]:
    result = run_doctor(tmp_path, **env)
    assert result.returncode == 1, result.stdout + result.stderr
    checks = json.loads(result.stdout)["checks"]
    for check in checks:
        if not check["ok"]:
            assert check["fix"], check
            assert "\n" not in check["fix"], check
    return {check["name"]: check for check in checks}


@pytest.mark.skipif(
    not can_run_password_cluster(), reason="needs PostgreSQL 15's initdb (and runuser as root)"
)
def test_without_pgvector_every_fail_prints_its_fix_on_one_line(tmp_path: Path) -> None:
    with password_cluster("a password") as url:  # the distribution's PostgreSQL: no pgvector
        result = run_doctor(tmp_path, as_json=False, DATABASE_URL=url)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert "FAIL database: Extension vector does not exist" in lines
    fails = [i for i, line in enumerate(lines) if line.startswith("FAIL ")]
    for index in fails:
        assert lines[index + 1].startswith("     fix: "), lines[index : index + 2]
    assert (
        "CREATE EXTENSION IF NOT EXISTS vector"
        in lines[lines.index("FAIL database: Extension vector does not exist") + 1]
    )


def test_schema_behind_head(tmp_path: Path, settings: Settings) -> None:
    with scratch_database(settings, revision="0005_events") as url:
        checks = doctor_checks(tmp_path, DATABASE_URL=url)
    database = checks["database"]
    assert database["detail"].startswith("Target database is not up to date")
    assert database["fix"] == "visage migrate"
    assert (database["data"]["revision"], database["data"]["at_head"]) == ("0005_events", False)


def test_port_held_by_another_process_names_its_pid_and_api_port(tmp_path: Path) -> None:
    with port_held_by_another_process() as (port, pid):
        checks = doctor_checks(tmp_path, API_HOST="127.0.0.1", API_PORT=str(port))
    check = checks["port"]
    assert not check["ok"]
    assert f"Port {port} is already in use by " in check["detail"]
    assert f"(pid {pid})" in check["detail"]
    assert "Address already in use" in check["detail"]
    assert f"kill {pid}" in check["fix"]
    assert "API_PORT=" in check["fix"]


@pytest.mark.skipif(
    not can_run_password_cluster(), reason="needs PostgreSQL 15's initdb (and runuser as root)"
)
def test_wrong_database_password(tmp_path: Path) -> None:
    with password_cluster("the right one") as url:
        wrong = url.replace("the right one", "not-the-password")
        checks = doctor_checks(tmp_path, DATABASE_URL=wrong)
    check = checks["database"]
    assert "password authentication failed" in check["detail"]
    assert "DATABASE_URL" in check["fix"]
    assert "ALTER USER visage WITH PASSWORD" in check["fix"]


def test_docker_host_name_outside_docker_unreachable_smtp_and_redis(tmp_path: Path) -> None:
    checks = doctor_checks(
        tmp_path,
        DATABASE_URL="postgresql://user:pass@postgres:5432/powergym",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(free_port()),
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
    )
    assert checks["redis"]["ok"] is False
    assert "REDIS_URL" in checks["redis"]["fix"]
    assert "does not resolve" in checks["database_url"]["detail"]
    assert "Docker" in checks["database_url"]["detail"]
    assert "localhost" in checks["database_url"]["fix"]
    assert checks["smtp"]["ok"] is False
    assert "SMTP_HOST" in checks["smtp"]["fix"]


def test_findme_migration_trap(tmp_path: Path, settings: Settings) -> None:
    """FindMe's errors 2 and 3: a global unique index left over, a composite one missing."""
    with scratch_database(settings, revision="head") as url:
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.begin() as connection:
            connection.execute(
                text("CREATE UNIQUE INDEX ix_users_email ON event_attendees (email)")
            )
        checks = doctor_checks(tmp_path, DATABASE_URL=url)
        stray = checks["unique_constraints"]
        assert "ix_users_email" in stray["detail"]
        assert stray["fix"] == "DROP INDEX IF EXISTS ix_users_email;"

        database = Database(settings.model_copy(update={"database_url": url}))
        health = findme_health(database)
        assert health.status == "degraded"
        assert "DROP INDEX IF EXISTS ix_users_email;" in health.message

        with engine.begin() as connection:
            connection.execute(text("DROP INDEX ix_users_email"))
            connection.execute(text("DROP INDEX users_email_event_unique"))
        health = findme_health(database)
        assert health.database.composite_constraints == ["users_username_event_unique"]
        assert "CREATE UNIQUE INDEX users_email_event_unique" in health.message
        database.dispose()
        engine.dispose()


def test_a_unix_socket_database_url_is_a_valid_form(settings: Settings, tmp_path: Path) -> None:
    """libpq's `?host=/socket/dir` form (the embedded server's) has no host part."""

    def check(url: str) -> tuple[bool, str]:
        result = check_database_url(settings.model_copy(update={"database_url": url}))
        return result.ok, result.detail

    assert check(f"postgresql://visage@/visage?host={tmp_path}")[0]
    ok, detail = check(f"postgresql://visage@/visage?host={tmp_path}/missing")
    assert not ok
    assert "socket directory" in detail
    assert check("postgresql://visage@/visage") == (False, "DATABASE_URL has no host")


# Every check the five guides name that applies to Visage, as `visage doctor --json` names it.
GUIDES_CHECKS = {
    "python",  # PowerGym "Python Version"
    "settings",  # PowerGym "Missing Required Variables"
    "port",  # PowerGym, WiWebb, Messaging API "Port Already in Use"
    "database_url",  # PowerGym "Check DATABASE_URL"
    "database",  # reachability, password, pgvector, migrations at head
    "unique_constraints",  # FindMe's composite unique indexes
    "model_files",  # PowerGym "Model Download Fails": the face model loads
    "redis",  # AllIN, Messaging API `redis-cli ping`
    "smtp",  # AllIN "Check email service"
    "disk",  # PowerGym, Messaging API `df -h`
    "messaging",  # Messaging API: WAHA reachable, WAHA_API_KEY, WEBHOOK_SECRET
    "stripe",  # WiWebb: Stripe keys, LocalStripe, STRIPE_WEBHOOK_SECRET
    "ai_keys",  # AllIN "OpenAI API Errors"
    "social_tokens",  # AllIN "Token Expiration & Refresh"
}


def test_doctor_json_runs_every_check_the_guides_name(tmp_path: Path, settings: Settings) -> None:
    with scratch_database(settings, revision="head") as url:
        result = run_doctor(tmp_path, DATABASE_URL=url)
    report = json.loads(result.stdout)
    names = [check["name"] for check in report["checks"]]
    assert set(names) == GUIDES_CHECKS
    assert len(names) == len(GUIDES_CHECKS)
    assert report["ok"] is (result.returncode == 0)
    for check in report["checks"]:
        assert {"name", "ok", "detail", "fix", "data"} <= check.keys()


def test_an_old_python_disk_space_and_a_broken_face_model_name_their_fixes(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(checks, "MIN_PYTHON", (99, 0))
    python = checks.check_python()
    assert not python.ok
    assert "Python 99.0 or higher is required" in python.detail
    assert "Install Python 99.0+" in python.fix

    monkeypatch.setattr(checks, "MIN_FREE_DISK_BYTES", 1024**6)  # an exbibyte
    disk = checks.check_disk(settings)
    assert not disk.ok
    assert "VISAGE_DATA_DIR" in disk.fix

    missing = str(tmp_path / "no-model.dat")
    monkeypatch.setattr(face_recognition_models, "face_recognition_model_location", lambda: missing)
    model = checks.check_model_files()
    assert not model.ok
    assert "face-recognition-models" in model.fix
