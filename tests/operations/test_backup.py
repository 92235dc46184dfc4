"""`visage backup` then `visage restore` into a fresh data dir, as a user would run them: the
counts, the stored photos and a face search are the same afterwards; then a global
`security lockdown` on the restored copy signs everyone out."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.images import as_base64, face_bytes
from tests.reliability.conftest import OwnedEvent, enroll_member
from visage.app import create_app
from visage.billing.models import WebhookEvent as StripeEvent
from visage.config import Settings
from visage.core.db import Database, embedded_server, get_database, set_database
from visage.core.storage import storage_from_settings
from visage.messaging.models import MessageTemplate
from visage.operations import lockdown
from visage.operations.backup import MANIFEST, table_counts
from visage.publishing.models import Post


def _visage(*args: str, data_dir: Path | None = None) -> str:
    env = {**os.environ, **({"VISAGE_DATA_DIR": str(data_dir)} if data_dir else {})}
    done = subprocess.run(
        [sys.executable, "-m", "visage", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _identify(client: TestClient, headers: dict[str, str]) -> Any:
    response = client.post(
        "/api/v1/faces/identify",
        json={"image": as_base64(face_bytes("obama.jpg"))},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def fresh_data_dir(database: Database) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="visage-restored-"))
    yield path
    set_database(database)
    if (path / "pgdata").exists():
        embedded_server(path).stop()
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.slow
def test_backup_restores_into_a_fresh_data_dir(
    client: TestClient,
    settings: Settings,
    owned_event: OwnedEvent,
    fresh_data_dir: Path,
    tmp_path: Path,
) -> None:
    headers = owned_event.owner.headers
    enroll_member(client, headers)
    assert owned_event.upload(client, {"race.jpg": face_bytes("obama2.jpg")}).json()["accepted"]
    before = _identify(client, headers)
    assert before["outcome"] == "MATCH"
    tenant_id = owned_event.owner.tenant.id
    with get_database().session() as session:  # a row in each later domain's tables
        session.add_all(
            [
                StripeEvent(event_id=f"evt_{uuid.uuid4().hex}", type="invoice.paid"),
                MessageTemplate(tenant_id=tenant_id, name="Welcome", body="Hello {first_name}"),
                Post(tenant_id=tenant_id, text="Race day"),
            ]
        )

    backup_dir = tmp_path / "backup"
    _visage("backup", str(backup_dir))
    manifest = json.loads((backup_dir / MANIFEST).read_text())
    assert manifest["revision"]
    assert manifest["files"]
    later_domains = ("billing_webhook_events", "message_templates", "scheduled_posts")
    assert all(manifest["counts"][table] >= 1 for table in later_domains)
    _visage("restore", str(backup_dir), data_dir=fresh_data_dir)

    restored = settings.model_copy(update={"visage_data_dir": fresh_data_dir})
    with TestClient(create_app(restored, prewarm=False)) as restored_client:
        with get_database().engine.connect() as connection:
            assert table_counts(connection) == manifest["counts"]
        storage = storage_from_settings(restored)
        assert all(storage.exists(key) for key in manifest["files"])
        assert _identify(restored_client, headers) == before

        with get_database().session() as session:
            result = lockdown.lockdown(
                session, tenant_slug=None, deactivate_users=False, reason="drill"
            )
        assert result.sessions_revoked >= 1
        assert restored_client.get("/api/v1/auth/me", headers=headers).status_code == 401
