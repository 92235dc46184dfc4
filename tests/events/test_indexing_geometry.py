"""Tiling geometry, merging of one face seen by several passes, preview watermark: pure
functions, no face model."""

from __future__ import annotations

import io
import itertools

import numpy as np
from PIL import Image

from visage.events import media
from visage.events.detection import TILE_OVERLAP, TILE_SIDE, FoundFace, _merged, _tile_starts


def _face(left: int, top: int, width: int, analyzed_width: int) -> FoundFace:
    box = {"left": left, "top": top, "right": left + width, "bottom": top + width}
    return FoundFace(box, 1.0, 100.0, True, np.zeros(128, np.float32), analyzed_width)


def test_tiles_cover_the_image_with_overlap() -> None:
    assert _tile_starts(1500) == [0]
    for length in (TILE_SIDE + 1, 3000, 4400, 8192):
        starts = _tile_starts(length)
        assert starts[0] == 0
        assert starts[-1] + TILE_SIDE == length
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        assert all(TILE_SIDE - gap >= TILE_OVERLAP for gap in gaps)


def test_merge_keeps_the_sharper_view_and_drops_fragments() -> None:
    whole_pass = _face(1000, 1000, 100, analyzed_width=45)  # small in the downscaled image
    tile_pass = _face(1004, 1002, 96, analyzed_width=96)  # the same face, native pixels
    big = _face(3000, 500, 600, analyzed_width=300)
    fragment = _face(3350, 700, 180, analyzed_width=180)  # big face cut by a tile border
    elsewhere = _face(200, 200, 60, analyzed_width=60)
    merged = _merged([whole_pass, big, tile_pass, fragment, elsewhere])
    assert sorted(merged, key=lambda f: f.box["left"]) == [elsewhere, tile_pass, big]


def test_watermark_marks_previews_only() -> None:
    rgb = np.full((800, 1200, 3), 60, dtype=np.uint8)
    plain = media.render(rgb, preview_max_side=1000, thumbnail_max_side=200, watermark=None)
    marked = media.render(rgb, preview_max_side=1000, thumbnail_max_side=200, watermark="Race")
    assert marked.thumbnail == plain.thumbnail
    plain_px = np.asarray(Image.open(io.BytesIO(plain.preview)), dtype=np.int16)
    marked_px = np.asarray(Image.open(io.BytesIO(marked.preview)), dtype=np.int16)
    assert Image.open(io.BytesIO(marked.preview)).size == (1000, 667)
    corner = np.abs(marked_px - plain_px)[-200:, -400:]
    assert corner.max() > 60  # light text over the dark picture
    assert np.abs(marked_px - plain_px)[:300, :300].max() < 10  # the rest untouched
