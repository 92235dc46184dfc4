"""Finding every face of an event photo.

The photo is decoded EXIF-upright and analyzed whole at up to 2048 px in "photo" mode (faces
down to about 52 px there, the smallest worth recognizing). When EVENT_PHOTO_MAX_SIDE is larger
and the original has the pixels, it is also analyzed at that resolution in overlapping 2048 px
tiles, so small faces of big group photos are found and embedded from their real pixels. Boxes
are mapped back to the original's pixels and the detections of one face by several passes are
merged.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from visage.config import Settings
from visage.core.images import DEFAULT_MAX_SIDE, DecodedImage, ImageLimits, decode_image
from visage.faces.inference.base import RGBImage
from visage.faces.inference.scheduling import Priority
from visage.faces.pipeline import analyze

TILE_SIDE = DEFAULT_MAX_SIDE
# Faces up to this size (analysis pixels) lie whole inside at least one tile; larger ones are
# found by the whole-image pass.
TILE_OVERLAP = 256
# Two detections whose widths differ by less than this factor, one centred inside the other,
# are one face seen twice; otherwise the smaller is a fragment cut by a tile border.
SAME_FACE_SIZE_RATIO = 1.33


@dataclass(frozen=True)
class FoundFace:
    box: dict[str, int]  # original-image pixels
    score: float
    sharpness: float
    usable: bool
    embedding: npt.NDArray[np.float32]  # raw; protected before it is stored
    analyzed_width: int  # pixels the detector saw: more means a better embedding

    @property
    def width(self) -> int:
        return self.box["right"] - self.box["left"]

    def contains_centre_of(self, other: FoundFace) -> bool:
        x = (other.box["left"] + other.box["right"]) / 2
        y = (other.box["top"] + other.box["bottom"]) / 2
        box = self.box
        return box["left"] <= x <= box["right"] and box["top"] <= y <= box["bottom"]


def _limits(settings: Settings, max_side: int) -> ImageLimits:
    return ImageLimits(
        max_bytes=settings.max_upload_bytes,
        max_pixels=settings.max_image_pixels,
        max_side=max_side,
    )


def _faces_in(rgb: RGBImage, decoded: DecodedImage, left: int, top: int) -> list[FoundFace]:
    """Faces of `rgb` (a tile at left/top of `decoded.rgb`, or all of it), in original pixels."""
    to_original = 1.0 / decoded.scale
    found = []
    for analysis in analyze(rgb, "photo", priority=Priority.BACKGROUND):
        face = analysis.face
        box = {
            "left": round((face.left + left) * to_original),
            "top": round((face.top + top) * to_original),
            "right": min(decoded.original_width, round((face.right + left) * to_original)),
            "bottom": min(decoded.original_height, round((face.bottom + top) * to_original)),
        }
        found.append(
            FoundFace(
                box,
                face.score,
                analysis.sharpness,
                analysis.usable,
                analysis.embedding,
                analyzed_width=face.width,
            )
        )
    return found


def _tile_starts(length: int) -> list[int]:
    if length <= TILE_SIDE:
        return [0]
    step = TILE_SIDE - TILE_OVERLAP
    starts = list(range(0, length - TILE_SIDE, step))
    return [*starts, length - TILE_SIDE]


def _tiles(rgb: RGBImage) -> Iterator[tuple[int, int, RGBImage]]:
    height, width = rgb.shape[:2]
    for top in _tile_starts(height):
        for left in _tile_starts(width):
            yield left, top, rgb[top : top + TILE_SIDE, left : left + TILE_SIDE]


def _merged(candidates: list[FoundFace]) -> list[FoundFace]:
    kept: list[FoundFace] = []
    for candidate in sorted(candidates, key=lambda face: -face.width):
        twin = next(
            (
                face
                for face in kept
                if face.contains_centre_of(candidate) or candidate.contains_centre_of(face)
            ),
            None,
        )
        if twin is None:
            kept.append(candidate)
        elif (
            twin.width <= candidate.width * SAME_FACE_SIZE_RATIO
            and candidate.analyzed_width > twin.analyzed_width
        ):
            kept[kept.index(twin)] = candidate  # the same face, seen with more pixels
    return kept


def decode_photo(data: bytes, settings: Settings) -> DecodedImage:
    """The one decode of a photo's job: up to 2048 px, what detection and renditions need."""
    side = max(DEFAULT_MAX_SIDE, settings.preview_max_side)
    return decode_image(data, _limits(settings, side), allow_heif=True)


def find_faces(data: bytes, settings: Settings) -> list[FoundFace]:
    return find_faces_in(data, decode_photo(data, settings), settings)


def find_faces_in(data: bytes, whole: DecodedImage, settings: Settings) -> list[FoundFace]:
    """Faces of a photo decoded by `decode_photo` (`data`: its file, for the tiled pass)."""
    found = _faces_in(whole.rgb, whole, 0, 0)
    original_side = max(whole.original_width, whole.original_height)
    if settings.event_photo_max_side <= DEFAULT_MAX_SIDE or original_side <= DEFAULT_MAX_SIDE:
        return found
    detailed = decode_image(data, _limits(settings, settings.event_photo_max_side), allow_heif=True)
    for left, top, tile in _tiles(detailed.rgb):
        found.extend(_faces_in(tile, detailed, left, top))
    return _merged(found)
