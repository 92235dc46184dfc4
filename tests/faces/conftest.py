"""Face fixtures: test images, a tenant with its owner, members enrolled through the API.

Face inference costs 0.1-0.5 s per image here: galleries are built once per module.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.conftest import TenantOwner
from tests.images import FACES_DIR, as_base64, face_bytes, jpeg
from visage.identity.models import Tenant, User


def side_by_side(*names: str, height: int = 400) -> bytes:
    """A group photo: the named portraits scaled to one height on one canvas."""
    portraits = []
    for name in names:
        source = Image.open(FACES_DIR / name).convert("RGB")
        portraits.append(source.resize((source.width * height // source.height, height)))
    canvas = Image.new("RGB", (sum(p.width for p in portraits), height), "white")
    left = 0
    for portrait in portraits:
        canvas.paste(portrait, (left, 0))
        left += portrait.width
    return jpeg(canvas)


@dataclass
class Gym:
    """A tenant seen through its owner's API session."""

    client: TestClient
    tenant: Tenant
    owner: User
    headers: dict[str, str]

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.client.post(f"/api/v1{path}", headers=self.headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(f"/api/v1{path}", headers=self.headers, **kwargs)

    def delete(self, path: str) -> Any:
        return self.client.delete(f"/api/v1{path}", headers=self.headers)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.client.put(f"/api/v1{path}", headers=self.headers, **kwargs)

    def new_member(self, name: str, *, consent: bool = True) -> uuid.UUID:
        response = self.post("/members", json={"full_name": name})
        assert response.status_code == 201, response.text
        member_id = uuid.UUID(response.json()["id"])
        if consent:
            response = self.post(
                f"/members/{member_id}/consent", json={"text_version": "v1", "method": "kiosk"}
            )
            assert response.status_code == 201, response.text
        return member_id

    def enroll(self, member_id: uuid.UUID, *names: str) -> Any:
        files = [("images", (name, face_bytes(name))) for name in names]
        return self.post(f"/members/{member_id}/faces", files=files)

    def identify(self, image: bytes, **fields: Any) -> Any:
        return self.post("/faces/identify", json={"image": as_base64(image), **fields})


@pytest.fixture(scope="module")
def make_gym(client: TestClient, make_tenant_owner: Callable[[], TenantOwner]) -> Callable[[], Gym]:
    def factory() -> Gym:
        new = make_tenant_owner()
        return Gym(client, new.tenant, new.user, new.headers)

    return factory
