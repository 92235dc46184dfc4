"""Storage that cannot take a file during an upload (here: the process' file-size limit, which
makes the disk refuse writes past it with EFBIG exactly as a full disk refuses with ENOSPC): the
files that could not be stored get `STORAGE_FULL` (507 when none could), no half-written photo
row or file is left, and the files that fit are accepted."""

from __future__ import annotations

import datetime
import resource
import signal
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from tests.conftest import TenantOwner
from tests.images import jpeg
from visage.core.db import Database
from visage.core.storage import get_storage
from visage.events.models import Photo

WRITE_LIMIT_BYTES = 200_000


@contextmanager
def disk_refuses_files_over(limit: int) -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a signal
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def _noise_jpeg(side: int) -> bytes:
    pixels = np.random.default_rng(side).integers(0, 255, (side, side, 3), dtype=np.uint8)
    return jpeg(Image.fromarray(pixels))


@pytest.fixture
def event_of(
    client: TestClient, make_tenant_owner: Callable[[], TenantOwner]
) -> tuple[str, dict[str, str]]:
    owner = make_tenant_owner()
    body = {
        "name": "Race",
        "slug": f"race-{uuid.uuid4().hex[:8]}",
        "event_date": datetime.date.today().isoformat(),
    }
    response = client.post("/api/v1/events", json=body, headers=owner.headers)
    assert response.status_code == 201, response.text
    return response.json()["id"], owner.headers


def _upload(client: TestClient, event: tuple[str, dict[str, str]], files: dict[str, bytes]) -> Any:
    event_id, headers = event
    return client.post(
        f"/api/v1/events/{event_id}/photos",
        files=[("files", (name, data, "image/jpeg")) for name, data in files.items()],
        headers=headers,
    )


def _stored_files(event_id: str) -> list[str]:
    root = get_storage().root  # type: ignore[attr-defined]
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and event_id in str(p)
    )


def test_files_that_do_not_fit_are_refused_the_others_accepted(
    client: TestClient, database: Database, event_of: tuple[str, dict[str, str]]
) -> None:
    small, big = _noise_jpeg(120), _noise_jpeg(900)
    assert len(small) * 3 < WRITE_LIMIT_BYTES < len(big)
    with disk_refuses_files_over(WRITE_LIMIT_BYTES):
        response = _upload(client, event_of, {"small.jpg": small, "big.jpg": big})
    assert response.status_code == 200, response.text
    files = {f["filename"]: f for f in response.json()["files"]}
    assert files["small.jpg"]["status"] == "accepted"
    assert files["big.jpg"]["status"] == "rejected"
    assert files["big.jpg"]["error"]["code"] == "STORAGE_FULL"
    with database.session() as session:
        stored = session.scalars(select(Photo.filename).where(Photo.event_id == event_of[0])).all()
    assert stored == ["small.jpg"]
    kept = _stored_files(event_of[0])
    assert len(kept) == 3  # original, thumbnail, preview: of the small photo only
    assert all(files["small.jpg"]["photo_id"] in path for path in kept)


def test_an_upload_nothing_of_which_fits_is_a_507(
    client: TestClient, event_of: tuple[str, dict[str, str]]
) -> None:
    with disk_refuses_files_over(WRITE_LIMIT_BYTES):
        response = _upload(client, event_of, {"big.jpg": _noise_jpeg(900)})
    assert response.status_code == 507
    assert response.json()["files"][0]["error"]["code"] == "STORAGE_FULL"
    assert _stored_files(event_of[0]) == []
    # Once the disk takes files again, the same photo goes in.
    assert _upload(client, event_of, {"big.jpg": _noise_jpeg(900)}).json()["accepted"] == 1
