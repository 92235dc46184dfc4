"""What the load bench's kiosks send: 640x480 JPEG frames of a real photo, as a door camera
takes them, with the enrolled member at arm's length or nobody in front (each kiosk its own
door, a still camera: the same crop with the sensor's noise)."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

KIOSK_FRAME = (640, 480)
# The door member is enrolled from two other photos of this person (access/bench.py).
KIOSK_PORTRAIT = "obama.jpg"
# At arm's length from a door camera a face is about this wide in a 640x480 frame.
KIOSK_FACE_WIDTHS = (150, 230)
KIOSK_FRAME_VARIANTS = 8
# Frames of one empty door differ by the sensor's noise (grey levels, standard deviation).
SENSOR_NOISE = 4.0


def _pacing(seed: str) -> random.Random:
    return random.Random(seed)  # noqa: S311 - variety of the frames, not a secret


@dataclass(frozen=True)
class DoorFrames:
    member: list[bytes]
    nobody: list[list[bytes]]  # doors, each as several takes of its still camera
    nobody_share: float  # of the frames a kiosk sends


def kiosk_frames(images: Path, count: int = KIOSK_FRAME_VARIANTS) -> list[bytes]:
    """Frames of the member at the door: crops of a real photo (its own background, not a
    portrait pasted on a flat one) with the face 150-230 px wide, a little off-centre, saved
    at a webcam's JPEG quality."""
    import dlib

    source = Image.open(images / KIOSK_PORTRAIT).convert("RGB")
    (box,) = dlib.get_frontal_face_detector()(np.asarray(source), 0)
    rng = _pacing(KIOSK_PORTRAIT)
    frames = []
    for _ in range(count):
        scale = rng.uniform(*KIOSK_FACE_WIDTHS) / box.width()
        width, height = KIOSK_FRAME[0] / scale, KIOSK_FRAME[1] / scale
        # The eyes sit a little above the middle of the frame.
        centre_x = box.center().x + rng.uniform(-0.1, 0.1) * width
        centre_y = box.center().y + rng.uniform(0.0, 0.15) * height
        left = min(max(0.0, centre_x - width / 2), source.width - width)
        top = min(max(0.0, centre_y - height / 2), source.height - height)
        crop = source.crop((round(left), round(top), round(left + width), round(top + height)))
        buffer = io.BytesIO()
        crop.resize(KIOSK_FRAME, Image.Resampling.BILINEAR).save(
            buffer, format="JPEG", quality=rng.randrange(75, 90)
        )
        frames.append(buffer.getvalue())
    return frames


def camera_takes(door: Image.Image, count: int, rng: random.Random) -> list[bytes]:
    """`count` JPEG frames of a still camera filming `door`: its sensor's noise, a webcam's
    JPEG quality."""
    noise = np.random.default_rng(rng.randrange(2**32))
    pixels = np.asarray(door, dtype=np.float32)
    takes = []
    for _ in range(count):
        noisy = np.clip(pixels + noise.normal(0, SENSOR_NOISE, pixels.shape), 0, 255)
        buffer = io.BytesIO()
        Image.fromarray(noisy.astype(np.uint8)).save(
            buffer, format="JPEG", quality=rng.randrange(75, 90)
        )
        takes.append(buffer.getvalue())
    return takes


def empty_frames(
    images: Path, count: int = KIOSK_FRAME_VARIANTS // 2, takes: int = KIOSK_FRAME_VARIANTS // 2
) -> list[list[bytes]]:
    """`count` doors with nobody in front, `takes` frames each (camera_takes): crops of the same
    photo below the face, kept only where no scan the kiosk makes (down to 1.42x, and dlib's
    2x) sees a face in any take."""
    import dlib

    detector = dlib.get_frontal_face_detector()
    source = Image.open(images / KIOSK_PORTRAIT).convert("RGB")
    (box,) = detector(np.asarray(source), 0)
    top = box.bottom() + box.height() // 2
    height = source.height - top
    width = min(source.width, height * KIOSK_FRAME[0] // KIOSK_FRAME[1])
    enlarged = (round(KIOSK_FRAME[0] * 1.42), round(KIOSK_FRAME[1] * 1.42))
    rng = _pacing("nobody")
    doors: list[list[bytes]] = []
    for _ in range(count * 20):
        left = rng.randrange(0, source.width - width + 1)
        crop = source.crop((left, top, left + width, top + width * 3 // 4))
        frames = camera_takes(crop.resize(KIOSK_FRAME, Image.Resampling.BILINEAR), takes, rng)
        seen = [Image.open(io.BytesIO(frame)).convert("RGB") for frame in frames]
        if any(
            len(detector(np.asarray(take), 1))
            or len(detector(np.asarray(take.resize(enlarged, Image.Resampling.BILINEAR)), 0))
            for take in seen
        ):
            continue
        doors.append(frames)
        if len(doors) == count:
            return doors
    raise RuntimeError(f"no empty kiosk frame in {KIOSK_PORTRAIT}: every crop shows a face")
