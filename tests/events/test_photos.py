"""Upload, background indexing, progress and the gallery, against the real database, queue
and filesystem storage."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pillow_heif
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from visage.config import Settings
from visage.core.db import Database
from visage.core.storage import get_storage
from visage.events.models import Photo, PhotoFace


def _as_heic(jpeg: bytes) -> bytes:
    pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    Image.open(io.BytesIO(jpeg)).save(buffer, format="HEIF")
    return buffer.getvalue()


def _progress(client: TestClient, event_id: str, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get(f"/api/v1/events/{event_id}/progress", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_upload_index_progress_and_delete(
    client: TestClient,
    database: Database,
    make_event: Callable[..., dict[str, Any]],
    upload: Callable[..., dict[str, Any]],
    index_photos: Callable[[], None],
    group_photos: dict[str, bytes],
    organizer_headers: dict[str, str],
) -> None:
    event = make_event()
    good = {name: group_photos[name] for name in ("obama-biden.jpg", "biden-hopper.jpg")}
    result = upload(
        event["id"],
        {
            "obama-biden.jpg": good["obama-biden.jpg"],
            "broken.jpg": good["biden-hopper.jpg"][:2000],  # truncated JPEG
            "notes.txt": b"not an image at all",
            "biden-hopper.jpg": good["biden-hopper.jpg"],
            "copy-of-obama-biden.jpg": good["obama-biden.jpg"],
            "phone.heic": _as_heic(good["biden-hopper.jpg"]),
        },
    )
    by_name = {item["filename"]: item for item in result["files"]}
    assert (result["accepted"], result["duplicates"], result["rejected"]) == (3, 1, 2)
    assert by_name["broken.jpg"]["error"]["code"] == "IMAGE_001"
    assert by_name["notes.txt"]["error"]["code"] == "IMAGE_001"
    assert by_name["copy-of-obama-biden.jpg"]["status"] == "duplicate"
    assert by_name["copy-of-obama-biden.jpg"]["photo_id"] == by_name["obama-biden.jpg"]["photo_id"]

    again = upload(event["id"], {"late-copy.jpg": good["biden-hopper.jpg"]})
    assert again["files"][0]["status"] == "duplicate"

    before = _progress(client, event["id"], organizer_headers)
    assert (before["total"], before["pending"], before["indexed"]) == (3, 3, 0)
    assert before["percent_done"] == 0

    index_photos()
    after = _progress(client, event["id"], organizer_headers)
    assert (after["total"], after["indexed"], after["failed"]) == (3, 3, 0)
    assert after["percent_done"] == 100
    assert after["faces_found"] == 6  # two people on each photo
    assert after["eta_seconds"] == 0

    photo_id = by_name["obama-biden.jpg"]["photo_id"]
    detail = client.get(f"/api/v1/photos/{photo_id}", headers=organizer_headers).json()
    assert detail["status"] == "indexed"
    assert len(detail["faces"]) == 2
    assert all(face["box"]["right"] > face["box"]["left"] for face in detail["faces"])

    listed = client.get(
        f"/api/v1/events/{event['id']}/photos",
        params={"status": "indexed", "has_faces": "true"},
        headers=organizer_headers,
    ).json()
    assert listed["total"] == 3

    heic = client.get(
        f"/api/v1/photos/{by_name['phone.heic']['photo_id']}/original", headers=organizer_headers
    )
    assert heic.headers["content-type"] == "image/heic"
    assert "phone.heic" in heic.headers["content-disposition"]

    thumbnail = client.get(detail["thumbnail_url"], headers=organizer_headers)
    assert thumbnail.status_code == 200
    assert thumbnail.headers["content-type"] == "image/jpeg"
    assert "inline" in thumbnail.headers["content-disposition"]
    original = client.get(detail["original_url"], headers=organizer_headers)
    assert original.content == good["obama-biden.jpg"]
    assert original.headers["content-disposition"].startswith("attachment")

    storage = get_storage()
    with database.session() as session:
        photo = session.get(Photo, photo_id)
        assert photo is not None
        original_key = f"events/{photo.tenant_id}/{photo.event_id}/{photo.id}/original.jpg"
    assert storage.exists(original_key)
    deleted = client.delete(f"/api/v1/photos/{photo_id}", headers=organizer_headers)
    assert deleted.status_code == 204
    index_photos()  # the file deletion job
    assert not storage.exists(original_key)
    with database.session() as session:
        faces = session.scalar(
            select(func.count()).select_from(PhotoFace).where(PhotoFace.photo_id == photo_id)
        )
    assert faces == 0
    assert client.get(f"/api/v1/photos/{photo_id}", headers=organizer_headers).status_code == 404


def test_the_job_makes_the_renditions_from_its_one_decode_even_without_face_search(
    client: TestClient,
    settings: Settings,
    make_event: Callable[..., dict[str, Any]],
    upload: Callable[..., dict[str, Any]],
    index_photos: Callable[[], None],
    group_photos: dict[str, bytes],
    organizer_headers: dict[str, str],
) -> None:
    event = make_event(face_search_enabled=False)
    photo_id = upload(event["id"], {"a.jpg": group_photos["obama-biden.jpg"]})["files"][0][
        "photo_id"
    ]
    thumbnail_url = f"/api/v1/photos/{photo_id}/thumbnail"
    # The upload only checked and stored the original: the job renders.
    assert client.get(thumbnail_url, headers=organizer_headers).status_code == 404
    index_photos()
    thumbnail = client.get(thumbnail_url, headers=organizer_headers)
    assert thumbnail.status_code == 200
    assert max(Image.open(io.BytesIO(thumbnail.content)).size) == settings.thumbnail_max_side
    preview = client.get(f"/api/v1/photos/{photo_id}/preview", headers=organizer_headers)
    assert Image.open(io.BytesIO(preview.content)).size == (1200, 800)  # never enlarged
    detail = client.get(f"/api/v1/photos/{photo_id}", headers=organizer_headers).json()
    assert (detail["status"], detail["faces"]) == ("pending", [])
