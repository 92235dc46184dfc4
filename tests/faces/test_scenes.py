"""A kiosk's empty scene spares the fine scan of frames showing the same door, and never hides
anyone who walks into it, even a member standing back whom only the fine scan finds."""

from __future__ import annotations

import io
import uuid

import numpy as np
import pytest
from PIL import Image

from tests.images import camera_take, empty_door, member_standing_back
from visage.faces.inference.base import RGBImage
from visage.faces.pipeline import analyze_largest
from visage.faces.scenes import (
    RESCAN_SECONDS,
    EmptyScenes,
    Scene,
    analyze_kiosk_frame,
    empty_scenes,
)


def decoded(image: Image.Image, quality: int = 85) -> RGBImage:
    """The image as the API decodes a kiosk's JPEG frame."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return np.asarray(Image.open(buffer).convert("RGB"))


@pytest.fixture(scope="module")
def door() -> Image.Image:
    return empty_door()


def noisy(door: Image.Image, seed: int) -> RGBImage:
    """The door a moment later: sensor noise, another JPEG quality."""
    return np.asarray(Image.open(io.BytesIO(camera_take(door, seed))).convert("RGB"))


def back(door: Image.Image) -> RGBImage:
    return decoded(member_standing_back(door))


def test_camera_noise_is_the_same_scene_and_a_member_standing_back_is_not(
    door: Image.Image,
) -> None:
    empty = Scene.of(noisy(door, 0))
    assert all(empty.looks_like(Scene.of(noisy(door, seed))) for seed in range(1, 6))
    assert not empty.looks_like(Scene.of(back(door)))
    twice_as_large = np.asarray(door.resize((door.width * 2, door.height * 2)))
    assert not empty.looks_like(Scene.of(twice_as_large))


def test_the_fine_scan_is_spared_only_while_the_door_is_empty(door: Image.Image) -> None:
    scenes = EmptyScenes()
    kiosk = uuid.uuid4()
    first, later = noisy(door, 0), noisy(door, 1)
    assert not scenes.still_empty(kiosk, Scene.of(later))  # nothing known yet: full scan
    scenes.remember(kiosk, Scene.of(first))
    assert scenes.still_empty(kiosk, Scene.of(later))
    assert not scenes.still_empty(uuid.uuid4(), Scene.of(later))  # each kiosk its own door
    assert not scenes.still_empty(kiosk, Scene.of(back(door)))


def test_an_empty_scene_is_scanned_in_full_again_after_a_while(door: Image.Image) -> None:
    now = [1000.0]
    scenes = EmptyScenes(clock=lambda: now[0])
    kiosk = uuid.uuid4()
    scenes.remember(kiosk, Scene.of(noisy(door, 0)))
    now[0] += RESCAN_SECONDS - 1
    assert scenes.still_empty(kiosk, Scene.of(noisy(door, 1)))
    now[0] += 1
    assert not scenes.still_empty(kiosk, Scene.of(noisy(door, 1)))


def test_a_member_standing_back_is_found_after_the_door_was_empty(door: Image.Image) -> None:
    kiosk = uuid.uuid4()
    standing_back = back(door)
    assert analyze_largest(standing_back, "kiosk_close") is None  # only the fine scan finds them
    assert analyze_kiosk_frame(noisy(door, 0), kiosk) is None
    assert empty_scenes.still_empty(kiosk, Scene.of(noisy(door, 1)))  # close faces only now
    assert analyze_kiosk_frame(noisy(door, 1), kiosk) is None
    found = analyze_kiosk_frame(standing_back, kiosk)
    assert found is not None
    assert found.usable
    assert 50 <= found.face.width <= 80
