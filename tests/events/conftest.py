"""FindMe fixtures: an organizer, group photos composed from the labeled test faces, and a
worker run over the photo queue."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.images import FACES_DIR, jpeg
from visage.identity.models import Role, Tenant, User

CANVAS = (1200, 800)


def compose(*names: str, background: tuple[int, int, int] = (90, 110, 130)) -> bytes:
    """A group photo: the named portraits side by side on a 1200x800 canvas, as JPEG."""
    canvas = Image.new("RGB", CANVAS, background)
    slot = CANVAS[0] // len(names)
    for index, name in enumerate(names):
        portrait = Image.open(FACES_DIR / name).convert("RGB")
        portrait.thumbnail((slot - 20, CANVAS[1] - 40))
        canvas.paste(portrait, (index * slot + 10, 20))
    return jpeg(canvas)


@pytest.fixture(scope="session")
def group_photos() -> dict[str, bytes]:
    """Two photos with Obama among strangers, two without him."""
    return {
        "obama-biden.jpg": compose("obama.jpg", "biden.jpg"),
        "hopper-obama2.jpg": compose("hopper.jpg", "obama2.jpg"),
        "biden-hopper.jpg": compose("biden.jpg", "hopper.jpg"),
        "astronaut.jpg": compose("astronaut.png", background=(200, 190, 170)),
    }


@pytest.fixture
def organizer(make_tenant: Callable[..., Tenant], make_user: Callable[..., User]) -> User:
    return make_user(make_tenant(), Role.TENANT_OWNER)


@pytest.fixture
def organizer_headers(
    organizer: User, auth_headers: Callable[[User], dict[str, str]]
) -> dict[str, str]:
    return auth_headers(organizer)


@pytest.fixture
def make_event(
    client: TestClient, organizer_headers: dict[str, str]
) -> Callable[..., dict[str, Any]]:
    def factory(**fields: Any) -> dict[str, Any]:
        body = {
            "name": "Club race",
            "slug": f"race-{uuid.uuid4().hex[:8]}",
            "event_date": date.today().isoformat(),
            **fields,
        }
        response = client.post("/api/v1/events", json=body, headers=organizer_headers)
        assert response.status_code == 201, response.text
        event: dict[str, Any] = response.json()
        return event

    return factory


@pytest.fixture
def upload(client: TestClient, organizer_headers: dict[str, str]) -> Callable[..., dict[str, Any]]:
    def send(event_id: str, files: dict[str, bytes]) -> dict[str, Any]:
        response = client.post(
            f"/api/v1/events/{event_id}/photos",
            files=[("files", (name, data, "image/jpeg")) for name, data in files.items()],
            headers=organizer_headers,
        )
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    return send


@pytest.fixture
def index_photos(run_jobs: Callable[..., None]) -> Callable[[], None]:
    """Run every queued photo job with a real worker."""
    return lambda: run_jobs(queues=["photos"])


def join(client: TestClient, access_code: str) -> dict[str, str]:
    response = client.post("/api/v1/attendees/anonymous", json={"access_code": access_code})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def register(client: TestClient, access_code: str, email: str, username: str) -> dict[str, Any]:
    response = client.post(
        "/api/v1/attendees/register",
        json={
            "access_code": access_code,
            "email": email,
            "username": username,
            "password": "a long attendee password",
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
