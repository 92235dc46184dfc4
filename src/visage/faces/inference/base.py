"""The face engine's one interface: detect -> 5-point landmarks -> aligned chip -> embedding.

Every backend (dlib reference, ONNX Runtime) implements `FaceBackend`; alignment is shared so
all backends embed the same chips.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

RGBImage = npt.NDArray[np.uint8]  # H x W x 3, RGB
Embeddings = npt.NDArray[np.float32]  # N x D

CHIP_SIZE = 150
CHIP_PADDING = 0.25
# Below this width (in analyzed pixels) the 150x150 chip is mostly upsampling noise and the
# embedding is not reliable enough to decide who it is.
MIN_FACE_WIDTH = 50

# "kiosk": one frame from a door camera or a selfie: the person in front of it, fast; smaller
#   faces are looked for only when there is no large one.
# "photo": an event photo or an enrollment photo: every face worth recognizing.
DetectionMode = Literal["kiosk", "photo"]
# What a backend scans for: a DetectionMode, or "kiosk_close": a kiosk frame that still shows
# the scene in which the full kiosk scan found nobody (faces/scenes.py), scanned for close faces
# only.
ScanMode = Literal["kiosk", "kiosk_close", "photo"]


@dataclass(frozen=True)
class DetectedFace:
    """A face in image pixel coordinates."""

    left: int
    top: int
    right: int
    bottom: int
    landmarks: npt.NDArray[np.float32]  # 5 x 2 (x, y): dlib's 5-point layout
    score: float

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def box(self) -> dict[str, int]:
        return {"left": self.left, "top": self.top, "right": self.right, "bottom": self.bottom}


@runtime_checkable
class FaceBackend(Protocol):
    name: str
    embedding_dimensions: int

    def detect(self, image: RGBImage, mode: ScanMode) -> list[DetectedFace]:
        """Faces with landmarks, best first."""
        ...

    def embed(self, chips: list[RGBImage]) -> Embeddings:
        """One L2-comparable embedding per aligned 150x150 chip, as one batch."""
        ...
