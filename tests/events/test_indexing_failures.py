"""Indexing survives failures: a missing stored file is retried with backoff, an unreadable
one fails with its reason and can be re-indexed from the CLI, and a worker killed mid-job
loses nothing (another worker runs the job again; faces are never duplicated)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.polling import wait_until
from tests.reliability.workers import job_status, kill_when, start_worker, stop_worker
from visage.cli import app as cli
from visage.core.db import Database
from visage.core.storage import get_storage
from visage.events.links import photo_key
from visage.events.models import Photo, PhotoFace, PhotoStatus

INDEX_TASK = "events.index_photo"


def _photo(database: Database, photo_id: str) -> Photo:
    with database.session() as session:
        photo = session.get(Photo, uuid.UUID(photo_id))
        assert photo is not None
        return photo


def _faces(database: Database, photo_id: str) -> int:
    with database.session() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(PhotoFace)
                .where(PhotoFace.photo_id == uuid.UUID(photo_id))
            )
            or 0
        )


def _uploaded(
    database: Database,
    make_event: Callable[..., dict[str, Any]],
    upload: Callable[..., dict[str, Any]],
    photo: bytes,
) -> tuple[dict[str, Any], str, str]:
    """A new event with one uploaded photo: (event, photo id, storage key of the original)."""
    event = make_event()
    photo_id: str = upload(event["id"], {"p.jpg": photo})["files"][0]["photo_id"]
    return event, photo_id, photo_key(_photo(database, photo_id), "original")


def test_missing_file_is_retried_with_backoff(
    database: Database,
    make_event: Callable[..., dict[str, Any]],
    upload: Callable[..., dict[str, Any]],
    index_photos: Callable[[], None],
    group_photos: dict[str, bytes],
) -> None:
    _, photo_id, key = _uploaded(database, make_event, upload, group_photos["obama-biden.jpg"])
    storage = get_storage()
    data = storage.get(key)
    storage.delete(key)  # e.g. an object store not yet consistent, a volume remounting

    index_photos()
    photo = _photo(database, photo_id)
    assert photo.status == PhotoStatus.PENDING
    assert photo.failure_reason is not None
    assert "StorageObjectMissing" in photo.failure_reason

    storage.put(key, data, "image/jpeg")

    def indexed() -> bool:
        index_photos()  # the retry is scheduled 2 s after the failure
        return _photo(database, photo_id).status == PhotoStatus.INDEXED

    wait_until(indexed, seconds=15, step=0.5, what="the retry to index the photo")
    photo = _photo(database, photo_id)
    assert (photo.index_attempts, photo.face_count, photo.failure_reason) == (2, 2, None)
    assert _faces(database, photo_id) == 2


def test_unreadable_file_fails_with_reason_then_cli_reindex(
    database: Database,
    make_event: Callable[..., dict[str, Any]],
    upload: Callable[..., dict[str, Any]],
    index_photos: Callable[[], None],
    group_photos: dict[str, bytes],
) -> None:
    event, photo_id, key = _uploaded(database, make_event, upload, group_photos["biden-hopper.jpg"])
    storage = get_storage()
    good = storage.get(key)
    storage.put(key, b"garbage, not a photo", "image/jpeg")
    index_photos()
    photo = _photo(database, photo_id)
    assert photo.status == PhotoStatus.FAILED
    assert photo.failure_reason == "Unsupported or corrupt image: send a JPEG, PNG or WebP picture."

    storage.put(key, good, "image/jpeg")
    result = CliRunner().invoke(
        cli, ["events", "reindex", event["access_code"], "--failed-only", "--no-wait"]
    )
    assert result.exit_code == 0, result.output
    assert "Queued 1 photo" in result.output
    index_photos()
    assert _photo(database, photo_id).status == PhotoStatus.INDEXED
    assert _faces(database, photo_id) == 2


def test_worker_killed_mid_job_loses_nothing(
    database: Database,
    make_event: Callable[..., dict[str, Any]],
    upload: Callable[..., dict[str, Any]],
    group_photos: dict[str, bytes],
) -> None:
    event = make_event()
    photo_id = upload(event["id"], {"p.jpg": group_photos["hopper-obama2.jpg"]})["files"][0][
        "photo_id"
    ]

    # The job is taken and the photo marked `indexing`: kill the worker there.
    kill_when(
        start_worker("photos"),
        lambda: _photo(database, photo_id).status == PhotoStatus.INDEXING,
    )
    assert job_status(database, INDEX_TASK, "photo_id", photo_id) == "doing"
    assert _photo(database, photo_id).status == PhotoStatus.INDEXING

    rescuer = start_worker("photos")
    try:
        wait_until(
            lambda: _photo(database, photo_id).status == PhotoStatus.INDEXED,
            seconds=90,
            what="the rescuing worker to index the photo",
        )
    finally:
        stop_worker(rescuer)
    photo = _photo(database, photo_id)
    assert photo.face_count == 2
    assert _faces(database, photo_id) == 2
    assert photo.index_attempts == 2
    assert job_status(database, INDEX_TASK, "photo_id", photo_id) == "succeeded"
