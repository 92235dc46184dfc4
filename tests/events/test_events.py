"""Events CRUD, share link and QR code, attendee accounts scoped to one event."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image

from tests.events.conftest import join, register


def test_event_crud_and_share_qr(
    client: TestClient,
    make_event: Callable[..., dict[str, Any]],
    organizer_headers: dict[str, str],
) -> None:
    event = make_event(visibility="public")
    assert event["visibility"] == "public"
    assert event["face_search_enabled"] is True
    assert event["share_url"].endswith(f"/e/{event['access_code']}")

    listed = client.get("/api/v1/events", headers=organizer_headers).json()
    assert event["id"] in [item["id"] for item in listed["items"]]

    taken = client.post(
        "/api/v1/events",
        json={"name": "Again", "slug": event["slug"], "event_date": event["event_date"]},
        headers=organizer_headers,
    )
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "EVENT_001"

    patched = client.patch(
        f"/api/v1/events/{event['id']}",
        json={"name": "Club race 2026", "regenerate_access_code": True},
        headers=organizer_headers,
    ).json()
    assert patched["name"] == "Club race 2026"
    assert patched["access_code"] != event["access_code"]

    qr = client.get(event["qr_code_url"], headers=organizer_headers)
    assert qr.status_code == 200
    assert qr.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(qr.content)).size[0] > 100

    assert (
        client.delete(f"/api/v1/events/{event['id']}", headers=organizer_headers).status_code == 204
    )
    assert client.get(f"/api/v1/events/{event['id']}", headers=organizer_headers).status_code == 404


def test_other_tenant_sees_404(
    client: TestClient,
    make_event: Callable[..., dict[str, Any]],
    owner: Any,
    auth_headers: Callable[..., dict[str, str]],
) -> None:
    event = make_event()
    response = client.get(f"/api/v1/events/{event['id']}", headers=auth_headers(owner))
    assert response.status_code == 404


def test_same_email_may_register_at_two_events_once_each(
    client: TestClient, make_event: Callable[..., dict[str, Any]]
) -> None:
    first, second = make_event(), make_event()
    register(client, first["access_code"], "runner@example.com", "runner")
    register(client, second["access_code"], "runner@example.com", "runner")

    again = client.post(
        "/api/v1/attendees/register",
        json={
            "access_code": first["access_code"],
            "email": "RUNNER@example.com",
            "username": "other-name",
            "password": "a long attendee password",
        },
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "EVENT_004"

    login = client.post(
        "/api/v1/attendees/login",
        json={
            "access_code": second["access_code"],
            "login": "runner",
            "password": "a long attendee password",
        },
    )
    assert login.status_code == 200
    assert login.json()["event"]["id"] == second["id"]


def test_anonymous_access_with_the_event_code(
    client: TestClient, make_event: Callable[..., dict[str, Any]]
) -> None:
    event = make_event()
    headers = join(client, event["access_code"].lower())
    me = client.get("/api/v1/attendees/me", headers=headers).json()
    assert me["attendee"] is None
    assert me["event"]["id"] == event["id"]
    wrong = client.post("/api/v1/attendees/anonymous", json={"access_code": "NOPE1234"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "EVENT_003"
    # An attendee pass is not a tenant token.
    assert client.get("/api/v1/events", headers=headers).status_code == 401
