"""The labeled test face images (see tests/data/faces and LICENSES.md), image encodings, and a
door as a kiosk's camera sees it."""

from __future__ import annotations

import base64
import io
import random
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


# Under the 100 px of the kiosk's close-face scans, over the 52 px of its fine one: a member
# about 2 m from the camera.
STANDING_BACK_FACE_WIDTH = 64


def empty_door() -> Image.Image:
    """A 640x480 door with nobody in front, as the load bench's kiosks film it."""
    from visage.operations.door_frames import empty_frames

    ((frame,),) = empty_frames(FACES_DIR, 1, takes=1)
    return Image.open(io.BytesIO(frame)).convert("RGB")


def camera_take(door: Image.Image, seed: int) -> bytes:
    """The door filmed a moment later: another JPEG frame of the load bench's still camera."""
    from visage.operations.door_frames import camera_takes

    (frame,) = camera_takes(door, 1, random.Random(seed))
    return frame


def member_standing_back(door: Image.Image) -> Image.Image:
    """The door with a member's head in it (obama3.jpg), the face STANDING_BACK_FACE_WIDTH
    wide: only the head changes, the hardest change to see."""
    portrait = Image.open(FACES_DIR / "obama3.jpg").convert("RGB")
    left, top, width = 633, 277, 321  # dlib's face box in obama3.jpg
    head = portrait.crop(
        (left - width // 3, top - width // 2, left + width * 4 // 3, top + width * 3 // 2)
    )
    scale = STANDING_BACK_FACE_WIDTH / width
    size = (round(head.width * scale), round(head.height * scale))
    frame = door.copy()
    frame.paste(head.resize(size, Image.Resampling.LANCZOS), (420, 40))
    return frame
