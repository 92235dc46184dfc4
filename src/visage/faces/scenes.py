"""Kiosks' empty scenes: what each kiosk's camera showed the last time the full kiosk scan found
nobody, as a small grey thumbnail.

An empty frame is a kiosk's most expensive one: with nobody close, the scan goes on to look for
every usable face (1.42x, faces from 52 px), most of its detection time. A frame that still
shows the kiosk's empty scene is scanned for close faces only (from 100 px, "kiosk_close"):
the fine scan would look at the same door and find the same nobody. Anyone who walks in
changes the scene wherever they stand, so their frames get the full scan; and an empty scene
is scanned in full again and taken anew after RESCAN_SECONDS, which bounds what a change too
small to see could cost.

Kept in process: a kiosk whose frames reach another API process is scanned in full there
until that process has its empty scene too; slower, never wrong.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

from visage.faces.inference.base import RGBImage
from visage.faces.inference.scheduling import Priority
from visage.faces.pipeline import FaceAnalysis, analyze_largest

THUMBNAIL_SIZE = (64, 48)
# A thumbnail pixel (the mean of a 10x10 block of a 640x480 frame) moved by more than this many
# grey levels: more than sensor noise and JPEG artefacts, which the mean mostly cancels.
CHANGED_LEVEL = 20
# This share of the thumbnail moved: the scene changed. A 52 px face alone covers 0.9 % of a
# 640x480 frame, the person under it much more.
CHANGED_SHARE = 0.003
RESCAN_SECONDS = 15.0
MAX_KIOSKS = 4096  # 3 KB each


@dataclass(frozen=True)
class Scene:
    frame_shape: tuple[int, int]
    thumbnail: npt.NDArray[np.uint8]  # THUMBNAIL_SIZE, grey

    @classmethod
    def of(cls, image: RGBImage) -> Scene:
        grey = Image.fromarray(image).convert("L").resize(THUMBNAIL_SIZE, Image.Resampling.BOX)
        return cls((image.shape[0], image.shape[1]), np.asarray(grey))

    def looks_like(self, other: Scene) -> bool:
        if self.frame_shape != other.frame_shape:
            return False
        moved = np.abs(self.thumbnail.astype(np.int16) - other.thumbnail) > CHANGED_LEVEL
        return float(moved.mean()) < CHANGED_SHARE


class EmptyScenes:
    """The last empty scene of each kiosk seen by this process (the most recent MAX_KIOSKS)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._scenes: OrderedDict[uuid.UUID, tuple[float, Scene]] = OrderedDict()

    def still_empty(self, kiosk: uuid.UUID, scene: Scene) -> bool:
        """Whether `scene` is the kiosk's empty scene, taken less than RESCAN_SECONDS ago."""
        with self._lock:
            known = self._scenes.get(kiosk)
        if known is None:
            return False
        taken_at, empty = known
        return self._clock() - taken_at < RESCAN_SECONDS and empty.looks_like(scene)

    def remember(self, kiosk: uuid.UUID, scene: Scene) -> None:
        """The full kiosk scan found nobody in `scene`."""
        with self._lock:
            self._scenes[kiosk] = (self._clock(), scene)
            self._scenes.move_to_end(kiosk)
            while len(self._scenes) > MAX_KIOSKS:
                self._scenes.popitem(last=False)


empty_scenes = EmptyScenes()


def analyze_kiosk_frame(
    image: RGBImage, kiosk: uuid.UUID, *, priority: Priority = Priority.KIOSK
) -> FaceAnalysis | None:
    """The largest face of a frame from `kiosk`'s camera, if any: scanned for close faces only
    while the frame shows the kiosk's empty scene, in full otherwise."""
    scene = Scene.of(image)
    if empty_scenes.still_empty(kiosk, scene):
        return analyze_largest(image, "kiosk_close", priority=priority)
    face = analyze_largest(image, "kiosk", priority=priority)
    if face is None:
        empty_scenes.remember(kiosk, scene)
    return face
