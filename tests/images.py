"""The labeled test face images (see tests/data/faces and LICENSES.md) and image encodings."""

from __future__ import annotations

import base64
import io
from pathlib import Path

from PIL import Image

FACES_DIR = Path(__file__).parent / "data" / "faces"


def face_bytes(name: str) -> bytes:
    return (FACES_DIR / name).read_bytes()


def as_base64(data: bytes, *, data_url: bool = False) -> str:
    encoded = base64.b64encode(data).decode()
    return f"data:image/jpeg;base64,{encoded}" if data_url else encoded


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()
