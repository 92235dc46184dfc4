"""Finding every face of an event photo: decode (EXIF-upright, at most 2048 px), detect in
"photo" mode (upsampled, for small faces in group photos), embed; boxes mapped back to the
original's pixels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from visage.config import Settings
from visage.core.images import DEFAULT_MAX_SIDE, ImageLimits, decode_image
from visage.faces.pipeline import analyze


@dataclass(frozen=True)
class FoundFace:
    box: dict[str, int]  # original-image pixels
    score: float
    sharpness: float
    usable: bool
    embedding: npt.NDArray[np.float32]  # raw; protected before it is stored


def find_faces(data: bytes, settings: Settings) -> list[FoundFace]:
    limits = ImageLimits(
        max_bytes=settings.max_upload_bytes,
        max_pixels=settings.max_image_pixels,
        max_side=DEFAULT_MAX_SIDE,
    )
    decoded = decode_image(data, limits, allow_heif=True)
    to_original = 1.0 / decoded.scale
    found = []
    for analysis in analyze(decoded.rgb, "photo"):
        face = analysis.face
        box = {
            "left": round(face.left * to_original),
            "top": round(face.top * to_original),
            "right": min(decoded.original_width, round(face.right * to_original)),
            "bottom": min(decoded.original_height, round(face.bottom * to_original)),
        }
        found.append(
            FoundFace(box, face.score, analysis.sharpness, analysis.usable, analysis.embedding)
        )
    return found
