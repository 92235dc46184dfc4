"""dlib's MMOD detector around the converted network: its tiled image pyramid and its decoding.

Mirrors dlib 20.0: `input_rgb_image_pyramid::to_tensor` (dnn/input.h) with
`compute_tiled_image_pyramid_details` (image_transforms/image_pyramid.h) and the float path of
`resize_image(..., interpolate_bilinear)` (image_transforms/interpolation.h) that
`tt::resize_bilinear` uses; `loss_mmod_::to_label` (dnn/loss.h) for the decoding: every output
cell scoring above 0 becomes a window-sized box mapped back through the network and the
pyramid, then greedy non-max suppression with `test_box_overlap`.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from visage.faces.inference.base import RGBImage

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]
Rect = tuple[int, int, int, int]  # left, top, right, bottom, inclusive (dlib::rectangle)

MIN_LEVEL_HEIGHT = 5  # compute_tiled_image_pyramid_details stops below this


@dataclass(frozen=True)
class MmodConfig:
    mean_rgb: tuple[float, float, float]
    pyramid_padding: int
    pyramid_outer_padding: int
    pyramid_rate: float
    windows: list[tuple[int, int]]
    nms_iou_threshold: float
    nms_percent_covered_threshold: float
    output_to_input: tuple[float, float]

    @classmethod
    def from_json(cls, text: str) -> MmodConfig:
        raw = json.loads(text)
        return cls(
            mean_rgb=tuple(raw["mean_rgb"]),
            pyramid_padding=int(raw["pyramid_padding"]),
            pyramid_outer_padding=int(raw["pyramid_outer_padding"]),
            pyramid_rate=float(raw["pyramid_rate"]),
            windows=[(int(w), int(h)) for w, h in raw["windows"]],
            nms_iou_threshold=float(raw["nms_iou_threshold"]),
            nms_percent_covered_threshold=float(raw["nms_percent_covered_threshold"]),
            output_to_input=(float(raw["output_to_input"][0]), float(raw["output_to_input"][1])),
        )


@dataclass(frozen=True)
class Detection:
    rect: Rect
    score: float


def _width(rect: Rect) -> int:
    return rect[2] - rect[0] + 1


def _height(rect: Rect) -> int:
    return rect[3] - rect[1] + 1


def pyramid_layout(rows: int, cols: int, config: MmodConfig) -> tuple[list[Rect], int, int]:
    """Where each pyramid level sits in the tiled image, and the tiled image's size."""
    padding, outer = config.pyramid_padding, config.pyramid_outer_padding
    sizes = [(rows, cols)]
    while True:
        rows, cols = math.floor(config.pyramid_rate * rows), math.floor(config.pyramid_rate * cols)
        if rows * cols == 0 or rows < MIN_LEVEL_HEIGHT:
            break
        sizes.append((rows, cols))
    first_rows, first_cols = sizes[0]
    total_height = sum(r + padding for r, _ in sizes) - 2 * padding
    height, previous_width = 0, 0
    for level_rows, level_cols in sizes:
        # The first column goes down until the next image fits beside the previous one.
        if (
            level_cols <= first_cols - previous_width - padding
            and (height - first_rows) * 2 >= total_height - first_rows
        ):
            break
        height += level_rows + padding
        previous_width = level_cols
    height -= padding
    tiled_rows, tiled_cols = height + 2 * outer, first_cols + 2 * outer
    rects: list[Rect] = []
    y = outer
    while y < height + outer and len(rects) < len(sizes):
        level_rows, level_cols = sizes[len(rects)]
        rects.append((outer, y, outer + level_cols - 1, y + level_rows - 1))
        y += level_rows + padding
    y -= padding
    while len(rects) < len(sizes):
        level_rows, level_cols = sizes[len(rects)]
        right, bottom = outer + first_cols - 1, y - 1
        rect = (right - level_cols + 1, bottom - level_rows + 1, right, bottom)
        first = rects[0]
        if max(first[0], rect[0]) <= min(first[2], rect[2]) and max(first[1], rect[1]) <= min(
            first[3], rect[3]
        ):
            break  # the last column would run into the original image
        rects.append(rect)
        y -= level_rows + padding
    return rects, tiled_rows, tiled_cols


def _accumulate(start: float, step: float, count: int) -> npt.NDArray[np.float64]:
    """start + step, + step, ... added one at a time in double, as dlib's loops do."""
    return np.cumsum(np.concatenate([[start], np.full(count, step)]))[1:]


def _sample_columns(in_cols: int, cols: int) -> tuple[IntArray, IntArray, FloatArray]:
    """Left/right source column and weight of the right one, per output column, as dlib's
    float-image resize steps them: 4 lanes from -4*x_scale + lane*x_scale, growing by
    float(4*x_scale) in float arithmetic while the 4th lane's right neighbour is inside the
    image; the remaining columns one by one in double."""
    x_scale = (in_cols - 1) / max(cols - 1, 1)
    groups = cols // 4 + 1
    steps = np.full((groups, 4), np.float32(4 * x_scale), dtype=np.float32)
    steps[0] += np.array([-4 * x_scale + lane * x_scale for lane in range(4)], dtype=np.float32)
    lanes_x = np.cumsum(steps, axis=0, dtype=np.float32)  # sequential float adds
    lanes_left = lanes_x.astype(np.int64)  # truncation, as _mm_cvttps_epi32
    inside = lanes_left[:, 3] + 1 < in_cols
    vector_cols = min(4 * (groups if inside.all() else int(np.argmin(inside))), cols)
    x_vector = lanes_x.reshape(-1)[:vector_cols]
    left_vector = lanes_left.reshape(-1)[:vector_cols]
    x_tail = _accumulate(-x_scale + vector_cols * x_scale, x_scale, cols - vector_cols)
    left_tail = np.floor(x_tail).astype(np.int64)
    left = np.concatenate([left_vector, left_tail])
    right = np.concatenate([left_vector + 1, np.minimum(left_tail + 1, in_cols - 1)])
    weight = np.concatenate(
        [x_vector - left_vector.astype(np.float32), (x_tail - left_tail).astype(np.float32)]
    ).astype(np.float32)
    return left, right, weight


def _resize_bilinear(source: FloatArray, rows: int, cols: int) -> FloatArray:
    """dlib's bilinear resize of a float image (its sampling positions exactly; the weighted
    sum done rows first, which differs from dlib's in the last bits only)."""
    in_rows, in_cols = source.shape[1:]
    y_scale = (in_rows - 1) / max(rows - 1, 1)
    y = _accumulate(-y_scale, y_scale, rows)
    top = np.floor(y).astype(np.int64)
    bottom = np.minimum(top + 1, in_rows - 1)
    down = (y - top).astype(np.float32)[:, None]
    vertical = source[:, top, :] * (np.float32(1) - down) + source[:, bottom, :] * down
    left, right, across = _sample_columns(in_cols, cols)
    result: FloatArray = vertical[:, :, left] * (np.float32(1) - across) + (
        vertical[:, :, right] * across
    )
    return result


def tiled_pyramid(image: RGBImage, config: MmodConfig) -> tuple[FloatArray, list[Rect]]:
    """The network input: 1 x 3 x H x W, every level normalized as (pixel - mean) / 256."""
    rows, cols = image.shape[:2]
    rects, tiled_rows, tiled_cols = pyramid_layout(rows, cols, config)
    data = np.zeros((3, tiled_rows, tiled_cols), dtype=np.float32)
    mean = np.asarray(config.mean_rgb, dtype=np.float32)[:, None, None]
    planes = np.transpose(image, (2, 0, 1)).astype(np.float32)
    left, top = rects[0][:2]
    data[:, top : top + rows, left : left + cols] = (planes - mean) / np.float32(256)
    for previous, rect in itertools.pairwise(rects):
        source = data[:, previous[1] : previous[3] + 1, previous[0] : previous[2] + 1]
        data[:, rect[1] : rect[3] + 1, rect[0] : rect[2] + 1] = _resize_bilinear(
            source, _height(rect), _width(rect)
        )
    return data[None], rects


def _nearest_level(rects: list[Rect], x: int, y: int) -> int:
    best, best_distance = 0, math.inf
    for index, (left, top, right, bottom) in enumerate(rects):
        if left <= x <= right and top <= y <= bottom:
            return index
        distance = math.hypot(min(max(x, left), right) - x, min(max(y, top), bottom) - y)
        if distance < best_distance:
            best, best_distance = index, distance
    return best


def _round(value: float) -> int:
    """std::lround: halves away from zero."""
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def _overlaps(a: Rect, b: Rect, iou_threshold: float, covered_threshold: float) -> bool:
    """dlib's test_box_overlap: intersection over the bounding box of both, or coverage."""
    inner_w = min(a[2], b[2]) - max(a[0], b[0]) + 1
    inner_h = min(a[3], b[3]) - max(a[1], b[1]) + 1
    if inner_w <= 0 or inner_h <= 0:
        return False
    inner = inner_w * inner_h
    outer = (max(a[2], b[2]) - min(a[0], b[0]) + 1) * (max(a[3], b[3]) - min(a[1], b[1]) + 1)
    area_a, area_b = _width(a) * _height(a), _width(b) * _height(b)
    return (
        inner / outer > iou_threshold
        or inner / area_a > covered_threshold
        or inner / area_b > covered_threshold
    )


def decode(
    scores: FloatArray, rects: list[Rect], config: MmodConfig, threshold: float = 0.0
) -> list[Detection]:
    """loss_mmod_::to_label for one image: boxes in image pixels, best first, after NMS."""
    scale, offset = config.output_to_input
    level_up = 1 / config.pyramid_rate
    candidates: list[Detection] = []
    for channel, (window_w, window_h) in enumerate(config.windows):
        rows, cols = np.nonzero(scores[channel] > threshold)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            px, py = scale * c + offset, scale * r + offset
            half_w, half_h = (window_w - 1) / 2, (window_h - 1) / 2
            level = _nearest_level(rects, math.floor(px + 0.5), math.floor(py + 0.5))
            origin_x, origin_y = rects[level][0], rects[level][1]
            corners = [
                px - half_w - origin_x,
                py - half_h - origin_y,
                px + half_w - origin_x,
                py + half_h - origin_y,
            ]
            for _ in range(level):  # pyramid_down<6>::point_up, once per level
                corners = [value * level_up + 0.3 for value in corners]
            rect = (_round(corners[0]), _round(corners[1]), _round(corners[2]), _round(corners[3]))
            candidates.append(Detection(rect, float(scores[channel, r, c])))
    candidates.sort(key=lambda detection: -detection.score)
    kept: list[Detection] = []
    for candidate in candidates:
        if not any(
            _overlaps(
                other.rect,
                candidate.rect,
                config.nms_iou_threshold,
                config.nms_percent_covered_threshold,
            )
            for other in kept
        ):
            kept.append(candidate)
    return kept
