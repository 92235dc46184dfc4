"""Hostile uploads: polyglots, truncated JPEGs, decompression bombs and empty files are refused
per file (the good file beside them is accepted) or, when accepted, served back only as an image
download; kiosk frames the same; and a body declared past MAX_REQUEST_BYTES is answered 413 from
its header, before the body is sent."""

from __future__ import annotations

import io
import socket
import uuid
from collections.abc import Callable, Iterator

from fastapi.testclient import TestClient
from PIL import Image

from tests.conftest import TenantOwner
from tests.images import face_bytes
from tests.reliability.conftest import OwnedEvent
from visage.app import create_app
from visage.config import Settings
from visage.core.db import Database
from visage.core.live_server import serve_in_thread
from visage.identity.models import Tenant

ONE_GIGABYTE = 1024**3
HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"


def _bomb() -> bytes:
    """100 megapixels of one colour: a PNG of a few hundred kilobytes."""
    buffer = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


HOSTILE = {
    "empty.jpg": lambda: b"",
    "truncated.jpg": lambda: face_bytes("obama.jpg")[: len(face_bytes("obama.jpg")) // 2],
    "page.jpg": lambda: HTML,
    "bomb.png": _bomb,
    "header-only.jpg": lambda: b"\xff\xd8\xff\xe0" + b"\x00" * 64,
}


def test_hostile_files_are_refused_beside_a_good_one(
    client: TestClient, owned_event: OwnedEvent
) -> None:
    files = {name: make() for name, make in HOSTILE.items()} | {"good.jpg": face_bytes("obama.jpg")}
    response = owned_event.upload(client, files)
    assert response.status_code == 200, response.text
    outcomes = {f["filename"]: f for f in response.json()["files"]}
    assert outcomes["good.jpg"]["status"] == "accepted"
    for name in HOSTILE:
        assert outcomes[name]["status"] == "rejected", name
        assert outcomes[name]["error"]["code"] in ("IMAGE_001", "IMAGE_002"), name


def test_a_jpeg_html_polyglot_is_only_ever_served_as_an_image_download(
    client: TestClient, owned_event: OwnedEvent, run_jobs: Callable[..., None]
) -> None:
    owner = owned_event.owner
    polyglot = face_bytes("obama2.jpg") + HTML
    response = owned_event.upload(client, {"x.html": polyglot}, "text/html")
    photo = response.json()["files"][0]
    if photo["status"] == "rejected":
        return  # refusing it is as safe as storing it
    run_jobs(queues=["photos"])  # renditions come from the indexing job's decode
    for rendition, disposition in (("original", "attachment"), ("preview", "inline")):
        served = client.get(
            f"/api/v1/photos/{photo['photo_id']}/{rendition}", headers=owner.headers
        )
        assert served.status_code == 200
        assert served.headers["content-type"] == "image/jpeg"
        assert served.headers["x-content-type-options"] == "nosniff"
        assert served.headers["content-disposition"].startswith(disposition)
    preview = client.get(f"/api/v1/photos/{photo['photo_id']}/preview", headers=owner.headers)
    assert HTML not in preview.content  # renditions are re-encoded pixels, never the upload


def test_hostile_kiosk_frames_get_a_4xx(
    client: TestClient,
    make_tenant_owner: Callable[[], TenantOwner],
    device_headers: Callable[[Tenant], dict[str, str]],
) -> None:
    kiosk = device_headers(make_tenant_owner().tenant)
    for name, make in HOSTILE.items():
        response = client.post(
            "/api/v1/checkins", files={"image": (name, make(), "image/jpeg")}, headers=kiosk
        )
        assert 400 <= response.status_code < 500, (name, response.text)


def test_a_gigabyte_body_is_refused_from_its_header(settings: Settings, database: Database) -> None:
    app = create_app(settings, prewarm=False)
    with serve_in_thread(app, lifespan=False) as base_url:
        host, port = base_url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as connection:
            connection.sendall(
                b"POST /api/v1/events/" + uuid.uuid4().hex.encode() + b"/photos HTTP/1.1\r\n"
                b"Host: localhost\r\nContent-Type: multipart/form-data; boundary=x\r\n"
                b"Content-Length: " + str(ONE_GIGABYTE).encode() + b"\r\n\r\n--x\r\n"
            )
            # Answered with only these bytes sent: nothing waits for the other gigabyte.
            answer = connection.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"PAYLOAD_TOO_LARGE" in answer
    del database


def test_a_body_without_length_is_cut_off_past_the_ceiling(
    settings: Settings, database: Database
) -> None:
    client = TestClient(
        create_app(settings.model_copy(update={"max_request_bytes": 4096}), prewarm=False)
    )

    def chunks() -> Iterator[bytes]:
        for _ in range(64):
            yield b"x" * 1024

    response = client.post(
        "/api/v1/auth/login", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    del database
