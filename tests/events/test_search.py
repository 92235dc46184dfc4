"""Find me by selfie on composed group photos, private-gallery access rules, opt-in
notifications and the privacy controls."""

from __future__ import annotations

import base64
import io
import uuid
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from tests.events.conftest import compose, join, register
from tests.images import face_bytes
from visage.config import Settings
from visage.core.db import Database
from visage.events.models import PhotoFace, SelfieSubscription
from visage.events.uploads import reindex_event
from visage.identity.email import mail_dir
from visage.identity.models import AuditEvent

OBAMA_PHOTOS = {"obama-biden.jpg", "hopper-obama2.jpg"}


def _search(
    client: TestClient, event_id: str, headers: dict[str, str], *, notify: bool = False
) -> Any:
    return client.post(
        f"/api/v1/events/{event_id}/search",
        files={"image": ("selfie.jpg", face_bytes("obama3.jpg"), "image/jpeg")},
        data={"notify": str(notify).lower()},
        headers=headers,
    )


def _face_count(database: Database, event_id: str) -> int:
    with database.session() as session:
        return (
            session.scalar(
                select(func.count()).select_from(PhotoFace).where(PhotoFace.event_id == event_id)
            )
            or 0
        )


def _audit_actions(database: Database, target_id: str) -> list[str]:
    with database.session() as session:
        return list(
            session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == target_id))
        )


def test_find_me_on_a_private_event(
    client: TestClient,
    database: Database,
    settings: Settings,
    make_event: Callable[..., dict[str, Any]],
    upload: Callable[..., dict[str, Any]],
    index_photos: Callable[[], None],
    run_jobs: Callable[..., None],
    group_photos: dict[str, bytes],
    organizer_headers: dict[str, str],
) -> None:
    event = make_event(visibility="private")
    uploaded = upload(event["id"], group_photos)
    ids = {item["filename"]: item["photo_id"] for item in uploaded["files"]}
    index_photos()

    # Anonymous attendee: exactly the photos Obama is in, closest first, thumbnails by link.
    anonymous = join(client, event["access_code"])
    response = _search(client, event["id"], anonymous)
    assert response.status_code == 200, response.text
    found = response.json()["photos"]
    assert {match["photo_id"] for match in found} == {ids[name] for name in OBAMA_PHOTOS}
    distances = [match["distance"] for match in found]
    assert distances == sorted(distances)
    assert all(d <= settings.face_recognition_tolerance for d in distances)
    thumbnail = client.get(found[0]["thumbnail_url"])  # no Authorization: the link suffices
    assert thumbnail.status_code == 200

    # Private gallery: nothing listed without a kept template; others' photos refused.
    listed = client.get(f"/api/v1/events/{event['id']}/photos", headers=anonymous).json()
    assert listed["total"] == 0
    stranger_photo = ids["biden-hopper.jpg"]
    refused = client.get(f"/api/v1/photos/{stranger_photo}/original", headers=anonymous)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "EVENT_006"

    # A registered attendee opts in: their template is kept, the gallery shows their photos.
    runner = register(client, event["access_code"], "barack@example.com", "barack")
    runner_headers = {"Authorization": f"Bearer {runner['access_token']}"}
    assert _search(client, event["id"], runner_headers, notify=True).status_code == 200
    mine = client.get(f"/api/v1/events/{event['id']}/photos", headers=runner_headers).json()
    assert {photo["id"] for photo in mine["items"]} == {ids[name] for name in OBAMA_PHOTOS}
    obama_photo = ids["obama-biden.jpg"]
    original = client.get(f"/api/v1/photos/{obama_photo}/original", headers=runner_headers)
    assert original.status_code == 200
    assert original.content == group_photos["obama-biden.jpg"]

    # Someone else's pass does not open Obama's original.
    other = register(client, event["access_code"], "joe@example.com", "joe")
    other_headers = {"Authorization": f"Bearer {other['access_token']}"}
    denied = client.get(f"/api/v1/photos/{obama_photo}/original", headers=other_headers)
    assert denied.status_code == 403

    # A new photo of him arrives: he is emailed once, even after the event is re-indexed,
    # and re-indexing never duplicates faces.
    faces_before = _face_count(database, event["id"])
    upload(event["id"], {"finish-line.jpg": compose("astronaut.png", "obama2.jpg")})
    index_photos()
    faces_with_new = _face_count(database, event["id"])
    assert faces_with_new > faces_before
    with database.session() as session:
        _, queued = reindex_event(session, uuid.UUID(event["id"]), failed_only=False)
    assert queued == 5
    index_photos()
    assert _face_count(database, event["id"]) == faces_with_new
    run_jobs(queues=["email"])
    emails = [path.read_text() for path in mail_dir(settings).glob("*")]
    to_runner = [text for text in emails if "barack@example.com" in text]
    assert len(to_runner) == 1
    assert "New photos of you" in to_runner[0]

    # Privacy: he deletes his selfie data and sees it gone.
    me = client.delete("/api/v1/attendees/me/selfie", headers=runner_headers).json()
    assert me["has_selfie_template"] is False
    assert (
        client.get("/api/v1/attendees/me", headers=runner_headers).json()["has_selfie_template"]
        is False
    )
    assert "events.selfie_template_deleted" in _audit_actions(database, runner["attendee"]["id"])

    # The host turns face search off: every template of the event is deleted, audited.
    client.patch(
        f"/api/v1/events/{event['id']}",
        json={"face_search_enabled": False},
        headers=organizer_headers,
    )
    left = _face_count(database, event["id"])
    with database.session() as session:
        kept = session.scalar(
            select(func.count())
            .select_from(SelfieSubscription)
            .where(SelfieSubscription.event_id == event["id"])
        )
    assert (left, kept) == (0, 0)
    assert "events.face_search_disabled" in _audit_actions(database, event["id"])
    off = _search(client, event["id"], anonymous)
    assert off.status_code == 409
    assert off.json()["error"]["code"] == "EVENT_002"


def test_selfie_without_a_face_is_a_clear_error(
    client: TestClient, make_event: Callable[..., dict[str, Any]]
) -> None:
    event = make_event(visibility="public")
    headers = join(client, event["access_code"])
    buffer = io.BytesIO()
    Image.new("RGB", (400, 400), (120, 120, 120)).save(buffer, format="JPEG")
    response = client.post(
        f"/api/v1/events/{event['id']}/search",
        json={"image": base64.b64encode(buffer.getvalue()).decode()},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "EVENT_005"
