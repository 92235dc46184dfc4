"""Consent-safe images: the published copy blurs every face of someone who did not agree,
checked by running our own detector on the bytes the platform received."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from tests.contracts.x import XState
from tests.events.conftest import compose, register
from tests.images import face_bytes
from tests.publishing.conftest import Club, tweets_with
from visage.config import Settings
from visage.core.storage import get_storage
from visage.events.detection import find_faces
from visage.publishing.safe_images import crop_window

TOLERANCE = 0.6


def _embedding_of(name: str, settings: Settings) -> np.ndarray:
    (face,) = find_faces(face_bytes(name), settings)
    return face.embedding


def _new_member(club: Club, name: str, portrait: str) -> str:
    member_id: str = club.ok("POST", "/members", json={"full_name": name})["id"]
    club.ok("POST", f"/members/{member_id}/consent", json={"text_version": "v1", "method": "web"})
    files = [("images", (portrait, face_bytes(portrait), "image/jpeg"))]
    club.ok("POST", f"/members/{member_id}/faces", files=files)
    return member_id


def _published_image(
    club: Club,
    account: dict[str, Any],
    event: dict[str, Any],
    photo: bytes,
    x_state: XState,
    publish_jobs: Callable[[], None],
) -> tuple[str, bytes]:
    """Upload the photo to the event and publish it to X: its id, and the image X received."""
    photo_id = club.upload_photo(event["id"], photo)
    text = f"{event['name']} {uuid.uuid4().hex[:6]}"
    assert club.publish(account["id"], text, [photo_id], publish_jobs)["status"] == "published"
    (tweet,) = tweets_with(x_state, text)
    (published,) = x_state.media_of(tweet)
    return photo_id, published


def test_a_non_consenting_attendee_is_blurred_and_the_consenting_member_kept(
    club: Club,
    x_account: dict[str, Any],
    x_state: XState,
    settings: Settings,
    publish_jobs: Callable[[], None],
) -> None:
    event = club.new_event("Club race")
    obama = _new_member(club, "Barack Obama", "obama.jpg")
    assert club.ok("PUT", f"/members/{obama}/publicity", json={"consent": True}) == {
        "consent": True
    }
    assert club.ok("GET", f"/members/{obama}/publicity") == {"consent": True}

    attendee = register(club.client, event["access_code"], "joe@example.com", "joe")
    attendee_headers = {"Authorization": f"Bearer {attendee['access_token']}"}
    refused = club.client.put(
        "/api/v1/attendees/me/publicity", json={"consent": False}, headers=attendee_headers
    )
    assert refused.status_code == 200
    assert refused.json() == {"consent": False}

    group = compose("obama2.jpg", "biden.jpg")
    photo_id, published = _published_image(club, x_account, event, group, x_state, publish_jobs)
    faces = [face for face in find_faces(published, settings) if face.usable]
    assert len(faces) == 1, "only the consenting member's face may remain recognizable"
    obama_reference = _embedding_of("obama.jpg", settings)
    biden_reference = _embedding_of("biden.jpg", settings)
    assert np.linalg.norm(faces[0].embedding - obama_reference) < TOLERANCE
    assert all(np.linalg.norm(f.embedding - biden_reference) >= TOLERANCE for f in faces)
    # Biden is found in the original: the blur, not the detector, removed him.
    assert len(find_faces(group, settings)) == 2
    stored = get_storage().get(
        f"events/{club.owner.tenant.id}/{event['id']}/{photo_id}/original.jpg"
    )
    assert hashlib.sha256(stored).digest() == hashlib.sha256(group).digest()


def test_withdrawn_publicity_blurs_the_member_too(
    club: Club,
    x_account: dict[str, Any],
    x_state: XState,
    settings: Settings,
    publish_jobs: Callable[[], None],
) -> None:
    event = club.new_event("Open day")
    obama = _new_member(club, "Barack Obama", "obama.jpg")
    club.ok("PUT", f"/members/{obama}/publicity", json={"consent": True})
    club.ok("PUT", f"/members/{obama}/publicity", json={"consent": False})
    _, published = _published_image(
        club, x_account, event, compose("obama2.jpg"), x_state, publish_jobs
    )
    assert find_faces(published, settings) == []


@pytest.mark.parametrize("face_left", [40, 900, 1700])
def test_instagram_crops_keep_the_faces_in_frame(face_left: int) -> None:
    box = (face_left, 300, face_left + 200, 500)
    left, top, right, bottom = crop_window(2000, 800, (4 / 5, 1.91), [box])
    assert round((right - left) / (bottom - top), 2) == 1.91
    assert left <= box[0]
    assert box[2] <= right
    assert top <= box[1]
    assert box[3] <= bottom
