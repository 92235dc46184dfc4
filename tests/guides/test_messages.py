"""The guides' error texts, where the guides say a reader meets them.

Each phrase is the guide's own: the first test finds it in the guides' text (tests/guides/seeds/),
the others make Visage say it where the guide says it is said.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.conftest import TenantOwner
from tests.guides.databases import can_run_password_cluster, password_cluster, scratch_database
from tests.guides.seed_requests import GUIDES, SEEDS
from tests.guides.situations import port_held_by_another_process, run_visage
from tests.images import as_base64, jpeg
from visage.app import create_app
from visage.config import Settings
from visage.core.db import Database
from visage.core.security import create_access_token
from visage.health.checks import check_database

INVALID_CREDENTIALS = "Invalid credentials"  # AUTH_001
UNABLE_TO_LOG_IN = "Unable to log in with provided credentials."
TOKEN_EXPIRED = "Token expired"  # AUTH_004
RATE_LIMIT_EXCEEDED = "Rate limit exceeded"  # "429 Rate Limit"
NO_FACE = "No face detected in the image"
NO_VECTOR = "Extension vector does not exist"  # "pgvector Extension Missing"
NOT_UP_TO_DATE = "Target database is not up to date"  # "Migration Errors"
ADDRESS_IN_USE = "Address already in use"  # "Port Already in Use"

# Each phrase and the guides that write it, word for word.
PHRASES = {
    INVALID_CREDENTIALS: {"Messaging API", "AllIN"},
    UNABLE_TO_LOG_IN: {"WiWebb"},
    TOKEN_EXPIRED: {"PowerGym", "Messaging API", "AllIN"},
    RATE_LIMIT_EXCEEDED: {"PowerGym", "AllIN"},
    NO_FACE: {"PowerGym"},
    NO_VECTOR: {"PowerGym"},
    NOT_UP_TO_DATE: {"PowerGym"},
    ADDRESS_IN_USE: {"PowerGym"},
}


@pytest.mark.parametrize("phrase", PHRASES)
def test_the_phrase_is_the_guides_own_words(phrase: str) -> None:
    texts = {guide: (SEEDS / name).read_text(encoding="utf-8") for name, guide in GUIDES.items()}
    assert {guide for guide, text in texts.items() if f'"{phrase}' in text} == PHRASES[phrase]


def test_wrong_password_says_invalid_credentials_in_both_wordings(
    client: TestClient, make_tenant_owner: Callable[[], TenantOwner]
) -> None:
    owner = make_tenant_owner()
    for path in ("/api/v1/auth/login", "/api/v1/auth/login/", "/api/login", "/auth/login"):
        response = client.post(path, json={"username": owner.user.username, "password": "nope"})
        assert response.status_code == 401, path
        error = response.json()["error"]
        assert error["code"] == "AUTH_001"
        assert INVALID_CREDENTIALS in error["message"]
        assert UNABLE_TO_LOG_IN in error["message"]


def test_an_expired_access_token_says_token_expired(
    client: TestClient, settings: Settings, make_tenant_owner: Callable[[], TenantOwner]
) -> None:
    owner = make_tenant_owner()
    expired = create_access_token(settings.secret_key, subject=owner.user.id, expires_minutes=-1)
    response = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "AUTH_004"
    assert error["message"].startswith(TOKEN_EXPIRED)
    assert "/api/v1/auth/refresh" in error["message"]


def test_over_the_limit_says_rate_limit_exceeded(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"rate_limit_per_minute": 1}), prewarm=False)
    limited = TestClient(app, client=(f"10.{uuid.uuid4().int % 250}.0.1", 50000))
    assert limited.get("/").status_code == 200
    response = limited.get("/")
    assert response.status_code == 429
    assert response.json()["error"]["message"].startswith(RATE_LIMIT_EXCEEDED)


def test_an_image_without_a_face_says_no_face_detected(
    client: TestClient, make_tenant_owner: Callable[[], TenantOwner]
) -> None:
    owner = make_tenant_owner()
    blank = jpeg(Image.new("RGB", (640, 640), (120, 130, 140)))
    response = client.post(
        "/api/v1/faces/identify", json={"image": as_base64(blank)}, headers=owner.headers
    )
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith(NO_FACE)


def test_a_schema_behind_head_says_target_database_is_not_up_to_date(settings: Settings) -> None:
    with scratch_database(settings, revision="0004_access") as url:
        behind = Database(settings.model_copy(update={"database_url": url}))
        result = check_database(behind)
        behind.dispose()
    assert not result.ok
    assert result.detail.startswith(NOT_UP_TO_DATE)


@pytest.mark.skipif(
    not can_run_password_cluster(), reason="needs PostgreSQL 15's initdb (and runuser as root)"
)
def test_a_postgresql_without_pgvector_says_extension_vector_does_not_exist(
    settings: Settings,
) -> None:
    with password_cluster("a password") as url:  # the distribution's PostgreSQL: no pgvector
        bare = Database(settings.model_copy(update={"database_url": url}))
        result = check_database(bare)
        bare.dispose()
    assert not result.ok
    assert result.detail == NO_VECTOR
    assert "CREATE EXTENSION IF NOT EXISTS vector" in result.fix


def test_serve_on_a_taken_port_says_address_already_in_use(tmp_path: Path) -> None:
    with port_held_by_another_process() as (port, pid):
        result = run_visage(tmp_path, "serve", "--host", "127.0.0.1", "--port", str(port))
    assert result.returncode == 1
    assert ADDRESS_IN_USE in result.stdout
    assert f"(pid {pid})" in result.stdout
    assert "API_PORT=" in result.stdout
