"""Storage that cannot take a file during an upload (here: the process' file-size limit, which
makes the disk refuse writes past it with EFBIG exactly as a full disk refuses with ENOSPC): the
files that could not be stored get `STORAGE_FULL` (507 when none could), no half-written photo
row or file is left, and the files that fit are accepted."""

from __future__ import annotations

import resource
import signal
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from tests.images import jpeg
from tests.reliability.conftest import OwnedEvent
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


def _stored_files(event_id: str) -> list[str]:
    root = get_storage().root  # type: ignore[attr-defined]
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and event_id in str(p)
    )


def test_files_that_do_not_fit_are_refused_the_others_accepted(
    client: TestClient, database: Database, owned_event: OwnedEvent
) -> None:
    small, big = _noise_jpeg(120), _noise_jpeg(900)
    assert len(small) * 3 < WRITE_LIMIT_BYTES < len(big)
    with disk_refuses_files_over(WRITE_LIMIT_BYTES):
        response = owned_event.upload(client, {"small.jpg": small, "big.jpg": big})
    assert response.status_code == 200, response.text
    files = {f["filename"]: f for f in response.json()["files"]}
    assert files["small.jpg"]["status"] == "accepted"
    assert files["big.jpg"]["status"] == "rejected"
    assert files["big.jpg"]["error"]["code"] == "STORAGE_FULL"
    with database.session() as session:
        stored = session.scalars(
            select(Photo.filename).where(Photo.event_id == owned_event.id)
        ).all()
    assert stored == ["small.jpg"]
    kept = _stored_files(owned_event.id)
    assert len(kept) == 1  # the small photo's original; its renditions come from the job
    assert all(files["small.jpg"]["photo_id"] in path for path in kept)


def test_an_upload_nothing_of_which_fits_is_a_507(
    client: TestClient, owned_event: OwnedEvent
) -> None:
    with disk_refuses_files_over(WRITE_LIMIT_BYTES):
        response = owned_event.upload(client, {"big.jpg": _noise_jpeg(900)})
    assert response.status_code == 507
    assert response.json()["files"][0]["error"]["code"] == "STORAGE_FULL"
    assert _stored_files(owned_event.id) == []
    # Once the disk takes files again, the same photo goes in.
    assert owned_event.upload(client, {"big.jpg": _noise_jpeg(900)}).json()["accepted"] == 1
