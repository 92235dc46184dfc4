"""Photo storage on the filesystem and on S3. The S3 store is moto's server, a local
implementation of the S3 REST API (https://docs.aws.amazon.com/AmazonS3/latest/API/), reached
over HTTP by boto3 exactly as AWS or MinIO would be."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient
from moto.server import ThreadedMotoServer

from tests.conftest import free_port
from visage.config import Settings
from visage.core.storage import (
    FileStorage,
    S3Storage,
    Storage,
    StorageConfigError,
    StorageObjectMissing,
    set_storage,
    storage_from_settings,
)


@pytest.fixture(scope="module")
def s3_storage() -> Iterator[S3Storage]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    client = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    client.create_bucket(Bucket="event-photos")
    yield S3Storage("event-photos", "visage/", client=client)
    server.stop()


@pytest.fixture(params=["file", "s3"])
def any_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "file":
        return FileStorage(tmp_path)
    storage: Storage = request.getfixturevalue("s3_storage")
    return storage


def test_storage_round_trip(any_storage: Storage) -> None:
    any_storage.put("events/t/e/p1/original.jpg", b"one", "image/jpeg")
    any_storage.put("events/t/e/p1/thumbnail.jpg", b"two", "image/jpeg")
    any_storage.put("events/t/e/p2/original.jpg", b"three", "image/jpeg")
    assert any_storage.get("events/t/e/p1/original.jpg") == b"one"
    assert any_storage.exists("events/t/e/p1/thumbnail.jpg")
    with pytest.raises(StorageObjectMissing):
        any_storage.get("events/t/e/p9/original.jpg")
    assert any_storage.delete_prefix("events/t/e/p1") == 2
    assert not any_storage.exists("events/t/e/p1/original.jpg")
    assert any_storage.exists("events/t/e/p2/original.jpg")
    any_storage.delete("events/t/e/p2/original.jpg")
    any_storage.delete("events/t/e/p2/original.jpg")  # deleting twice is not an error
    assert not any_storage.exists("events/t/e/p2/original.jpg")
    with pytest.raises(ValueError, match="invalid storage key"):
        any_storage.get("../secrets.json")


def test_storage_url_selects_the_store(settings: Settings) -> None:
    default = storage_from_settings(settings)
    assert isinstance(default, FileStorage)
    assert default.root == (settings.visage_data_dir / "storage").resolve()
    s3 = storage_from_settings(
        settings.model_copy(update={"storage_url": "s3://bucket/some/prefix"})
    )
    assert isinstance(s3, S3Storage)
    assert (s3.bucket, s3.prefix) == ("bucket", "some/prefix")
    with pytest.raises(StorageConfigError, match="STORAGE_URL"):
        storage_from_settings(settings.model_copy(update={"storage_url": "ftp://nope"}))


def test_event_photos_on_s3(
    client: TestClient,
    s3_storage: S3Storage,
    make_event: Callable[..., dict[str, Any]],
    upload: Callable[..., dict[str, Any]],
    index_photos: Callable[[], None],
    group_photos: dict[str, bytes],
    organizer_headers: dict[str, str],
) -> None:
    set_storage(s3_storage)
    try:
        event = make_event(visibility="public", watermark_previews=True)
        result = upload(event["id"], {"hopper-obama2.jpg": group_photos["hopper-obama2.jpg"]})
        photo_id = result["files"][0]["photo_id"]
        index_photos()
        detail = client.get(f"/api/v1/photos/{photo_id}", headers=organizer_headers).json()
        assert detail["status"] == "indexed"
        assert detail["face_count"] == 2
        original = client.get(detail["original_url"], headers=organizer_headers)
        assert original.content == group_photos["hopper-obama2.jpg"]
        listing = s3_storage.client.list_objects_v2(Bucket="event-photos", Prefix="visage/events/")
        names = {item["Key"].rsplit("/", 1)[1] for item in listing.get("Contents", [])}
        assert names == {"original.jpg", "thumbnail.jpg", "preview.jpg"}
    finally:
        set_storage(None)
