"""The face pipeline every domain uses: detect -> align -> quality -> one batched embed.

Synchronous and CPU-bound: routes are plain `def` (FastAPI runs them in its thread pool) and
async callers wrap it in `run_in_threadpool`, so it never runs on the event loop. Detection and
embedding take a slot of the process's inference gate at the caller's priority (a kiosk frame
first, see inference/scheduling.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal, TypeVar

import numpy as np
import numpy.typing as npt

from visage.core.errors import AppError
from visage.faces.errors import (
    FACE_QUALITY_MESSAGES,
    FaceQualityTooLow,
    NoFaceDetected,
    SeveralFaces,
)
from visage.faces.inference.alignment import align
from visage.faces.inference.base import MIN_FACE_WIDTH, DetectedFace, RGBImage, ScanMode
from visage.faces.inference.engine import get_backend
from visage.faces.inference.scheduling import Priority, gate

# Variance of the Laplacian of the aligned grey chip. Calibrated on LFW (docs/biometrics.md,
# "Enrollment gate"): blurring its photos, genuine distances stay as they were down to a
# sharpness of about 5 (Gaussian sigma 1.5 px at chip scale) and rise below it (sigma 2:
# sharpness 3, +0.05 on average). The old 15 refused 5 % of these sharp press photos.
MIN_SHARPNESS = 5.0
# A face under two thirds the width of the largest stands 1.5 times farther from the camera
# or more: a bystander in the background, not a second subject of the photo.
BYSTANDER_WIDTH_RATIO = 2 / 3

UnusableReason = Literal["too_small", "too_blurred"]


@dataclass(frozen=True)
class AssessedFace:
    """A detected face, its aligned chip and whether it is good enough to recognize."""

    face: DetectedFace
    chip: RGBImage  # 150 x 150 aligned, what the embedder sees
    sharpness: float
    reason: UnusableReason | None  # None when usable

    @property
    def usable(self) -> bool:
        return self.reason is None

    @property
    def area(self) -> int:
        return self.face.width * self.face.height


@dataclass(frozen=True)
class FaceAnalysis(AssessedFace):
    embedding: npt.NDArray[np.float32]  # (128,) float32


def sharpness(chip: RGBImage) -> float:
    """Variance of the 4-neighbour Laplacian of the grey chip: low means blurred."""
    grey = chip.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    laplacian = (
        grey[:-2, 1:-1] + grey[2:, 1:-1] + grey[1:-1, :-2] + grey[1:-1, 2:] - 4 * grey[1:-1, 1:-1]
    )
    return float(laplacian.var())


def unusable_reason(face: DetectedFace, chip_sharpness: float) -> UnusableReason | None:
    if face.width < MIN_FACE_WIDTH:
        return "too_small"
    if chip_sharpness < MIN_SHARPNESS:
        return "too_blurred"
    return None


class StageTimer:
    """Milliseconds per pipeline stage, for `visage bench faces`."""

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.ms[name] = self.ms.get(name, 0.0) + (time.perf_counter() - start) * 1000


_NO_TIMER = StageTimer()


def assess(
    image: RGBImage,
    mode: ScanMode,
    *,
    timer: StageTimer = _NO_TIMER,
    priority: Priority = Priority.INTERACTIVE,
) -> list[AssessedFace]:
    """Detect, align and judge every face (no embedding), best detection first."""
    backend = get_backend()
    with gate.slot(priority):
        with timer.stage("detect"):
            faces = backend.detect(image, mode)
        with timer.stage("align"):
            chips = align(image, faces)
    assessed = []
    for face, chip in zip(faces, chips, strict=True):
        chip_sharpness = sharpness(chip)
        assessed.append(
            AssessedFace(face, chip, chip_sharpness, unusable_reason(face, chip_sharpness))
        )
    return assessed


def embed(
    faces: list[AssessedFace],
    *,
    timer: StageTimer = _NO_TIMER,
    priority: Priority = Priority.INTERACTIVE,
) -> list[FaceAnalysis]:
    """The faces with their 128-d embeddings, computed in one batch."""
    if not faces:
        return []
    backend = get_backend()
    with gate.slot(priority), timer.stage("embed"):
        embeddings = backend.embed([face.chip for face in faces])
    return [
        FaceAnalysis(a.face, a.chip, a.sharpness, a.reason, vector)
        for a, vector in zip(faces, embeddings, strict=True)
    ]


def analyze(
    image: RGBImage,
    mode: ScanMode,
    *,
    timer: StageTimer = _NO_TIMER,
    priority: Priority = Priority.INTERACTIVE,
) -> list[FaceAnalysis]:
    """Every face with its 128-d embedding, computed in one batch."""
    faces = assess(image, mode, timer=timer, priority=priority)
    return embed(faces, timer=timer, priority=priority)


FaceT = TypeVar("FaceT", bound=AssessedFace)


def largest(faces: list[FaceT]) -> FaceT:
    """The face nearest the camera: the person at the kiosk, or the subject of a selfie."""
    return max(faces, key=lambda face: face.area)


def subjects(faces: list[FaceT]) -> list[FaceT]:
    """The faces that may be the subject of a photo: not far smaller than the largest."""
    if not faces:
        return []
    main_width = largest(faces).face.width
    return [face for face in faces if face.face.width >= BYSTANDER_WIDTH_RATIO * main_width]


def enrollment_refusal(
    faces: list[AssessedFace], details: dict[str, object] | None = None
) -> AppError | None:
    """Why this photo cannot be enrolled (FACE_001/002/003), or None when it can."""
    found = subjects(faces)
    if not found:
        return NoFaceDetected(details=details)
    if len(found) > 1:
        return SeveralFaces(details={**(details or {}), "faces": len(found)})
    face = found[0]
    if face.reason is None:
        return None
    return FaceQualityTooLow(
        FACE_QUALITY_MESSAGES[face.reason],
        details={
            **(details or {}),
            "reason": face.reason,
            "face_width": face.face.width,
            "min_face_width": MIN_FACE_WIDTH,
            "sharpness": round(face.sharpness, 1),
            "min_sharpness": MIN_SHARPNESS,
        },
    )


def analyze_largest(
    image: RGBImage,
    mode: ScanMode,
    *,
    timer: StageTimer = _NO_TIMER,
    priority: Priority = Priority.INTERACTIVE,
) -> FaceAnalysis | None:
    """Only the largest face, embedded alone: a kiosk frame with a queue behind the member
    costs one embedding, not one per face."""
    faces = assess(image, mode, timer=timer, priority=priority)
    if not faces:
        return None
    (face,) = embed([largest(faces)], timer=timer, priority=priority)
    return face
