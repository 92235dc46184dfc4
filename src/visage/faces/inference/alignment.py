"""Aligned face chips exactly as dlib cuts them (what the ResNet embedder was trained on)."""

from __future__ import annotations

import dlib
import numpy as np

from visage.faces.inference.base import CHIP_PADDING, CHIP_SIZE, DetectedFace, RGBImage


def full_object_detection(face: DetectedFace) -> dlib.full_object_detection:
    rect = dlib.rectangle(face.left, face.top, face.right, face.bottom)
    points = [dlib.point(round(float(x)), round(float(y))) for x, y in face.landmarks]
    return dlib.full_object_detection(rect, points)


def align(image: RGBImage, faces: list[DetectedFace]) -> list[RGBImage]:
    """One 150x150 chip per face, rotated and scaled on the 5 landmarks."""
    if not faces:
        return []
    shapes = dlib.full_object_detections()
    for face in faces:
        shapes.append(full_object_detection(face))
    chips = dlib.get_face_chips(
        np.ascontiguousarray(image), shapes, size=CHIP_SIZE, padding=CHIP_PADDING
    )
    return [np.asarray(chip, dtype=np.uint8) for chip in chips]
