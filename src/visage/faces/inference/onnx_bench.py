"""The figures of issue 7 (`visage bench engine`): the ONNX backend beside the dlib backend and the
`face_recognition` loop, in the same run on the same pixels.

- embed ms/face, one chip and a batch of 16;
- detection ms on a 640x480 kiosk frame and a 12 MP photo: dlib's HOG (the dlib backend),
  the `face_recognition` loop (HOG, upsampled once) and MMOD on ONNX Runtime;
- a kiosk check-in without the search: detect, align and embed the best face of the frame;
- faces found per group photo (all, and those wide enough to recognize) by dlib's HOG upsampled
  once vs the ONNX backend's photo detectors: HOG from the smallest usable face, MMOD, both;
- event indexing (detect "photo" + align + embed) in photos/min and faces/min, 1 and 2 worker
  processes, the ONNX backend with HOG and with HOG + MMOD as its photo detector.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from visage.faces.bench import FaceCount
from visage.faces.inference.alignment import align
from visage.faces.inference.base import MIN_FACE_WIDTH, DetectedFace, FaceBackend, RGBImage
from visage.faces.inference.dlib_backend import DlibBackend
from visage.faces.inference.onnx_backend import OnnxBackend, PhotoDetector, threads_per_process

PORTRAITS = ("obama.jpg", "biden.jpg", "hopper.jpg", "obama2.jpg", "obama3.jpg")
BATCH = 16
# Face heights in the group photos: from what HOG upsampled once still finds to large.
GROUP_FACE_HEIGHTS = (70, 100, 140, 200, 280)
GROUP_PHOTO_SIZE = (1600, 1067)
COUNTED_DETECTORS: tuple[PhotoDetector, ...] = ("hog", "mmod", "both")
INDEXING_DETECTORS: tuple[PhotoDetector, ...] = ("hog", "both")


@dataclass(frozen=True)
class Row:
    figure: str
    dlib: float | None
    onnx: float | None
    peer: float | None  # the face_recognition loop
    unit: str
    higher_is_better: bool = False

    def _speedup(self, other: float | None) -> str:
        if not self.onnx or not other:
            return "-"
        return f"{(self.onnx / other if self.higher_is_better else other / self.onnx):.1f}x"

    def line(self) -> str:
        def cell(value: float | None) -> str:
            return "-" if value is None else f"{value:.1f}"

        return (
            f"{self.figure:<44} dlib {cell(self.dlib):>8}  onnx {cell(self.onnx):>8}  "
            f"face_recognition {cell(self.peer):>8}  {self.unit:<10} onnx vs dlib "
            f"{self._speedup(self.dlib):>6}, vs face_recognition {self._speedup(self.peer):>6}"
        )


def _median_ms(action: Callable[[], object], repeats: int) -> float:
    action()  # warm-up: first-run allocations
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def _portrait(images_dir: Path, name: str, height: int) -> Image.Image:
    image = Image.open(images_dir / name).convert("RGB")
    return image.resize((image.width * height // image.height, height))


def _canvas(images_dir: Path, size: tuple[int, int], heights: list[int]) -> RGBImage:
    """Portraits of the given heights, left to right, wrapping into rows."""
    canvas = Image.new("RGB", size, (180, 185, 190))
    left, top, row_height = 10, 10, 0
    for index, height in enumerate(heights):
        portrait = _portrait(images_dir, PORTRAITS[index % len(PORTRAITS)], height)
        if left + portrait.width > size[0]:
            left, top, row_height = 10, top + row_height + 10, 0
        canvas.paste(portrait, (left, top))
        left += portrait.width + 10
        row_height = max(row_height, height)
    return np.asarray(canvas)


def group_photos(images_dir: Path) -> list[RGBImage]:
    """Portrait heights (the face is about 40 % of it) from small to large, shuffled per photo."""
    rng = np.random.default_rng(7)
    photos = []
    for _ in range(3):
        heights = [int(h) for h in rng.permutation(np.repeat(GROUP_FACE_HEIGHTS, 2))]
        photos.append(_canvas(images_dir, GROUP_PHOTO_SIZE, [h * 5 // 2 for h in heights]))
    return photos


def _counted(faces: list[DetectedFace]) -> FaceCount:
    return FaceCount.of_widths([face.width for face in faces])


def _peer() -> Any:
    try:
        import face_recognition
    except ImportError:
        return None
    return face_recognition


def _index_photos(backend: FaceBackend, photos: list[RGBImage]) -> int:
    faces = 0
    for photo in photos:
        detected = backend.detect(photo, "photo")
        backend.embed(align(photo, detected))
        faces += len(detected)
    return faces


_worker_backend: FaceBackend | None = None


def _start_worker(detector: PhotoDetector | None, models_dir: Path, threads: int) -> None:
    """A worker process with its own backend: dlib's (detector None) or ONNX's."""
    global _worker_backend
    _worker_backend = (
        DlibBackend()
        if detector is None
        else OnnxBackend(models_dir, photo_detector=detector, threads=threads)
    )


def _worker_index(photo: RGBImage) -> int:
    assert _worker_backend is not None
    return _index_photos(_worker_backend, [photo])


def indexing_rate(
    detector: PhotoDetector | None, models_dir: Path, photos: list[RGBImage], workers: int
) -> tuple[float, float]:
    """(photos/min, faces/min) with `workers` processes sharing the cores."""
    threads = threads_per_process(workers)
    with ProcessPoolExecutor(
        workers, initializer=_start_worker, initargs=(detector, models_dir, threads)
    ) as pool:
        list(pool.map(_worker_index, photos[:workers]))  # load and warm every worker
        start = time.perf_counter()
        faces = sum(pool.map(_worker_index, photos))
        minutes = (time.perf_counter() - start) / 60
    return len(photos) / minutes, faces / minutes


def _peer_indexing_rate(peer: Any, photos: list[RGBImage]) -> tuple[float, float]:
    """The `face_recognition` loop: locations (HOG, upsampled once), then encodings."""
    start = time.perf_counter()
    faces = 0
    for photo in photos:
        locations = peer.face_locations(photo, 1)
        peer.face_encodings(photo, locations, model="small")
        faces += len(locations)
    minutes = (time.perf_counter() - start) / 60
    return len(photos) / minutes, faces / minutes


def run(images_dir: Path, models_dir: Path, *, repeats: int = 5) -> Iterator[Row]:
    """Yield the figures one by one (the slow ones last)."""
    dlib_backend = DlibBackend()
    onnx_backend = OnnxBackend(models_dir)
    peer = _peer()

    portrait = np.asarray(Image.open(images_dir / PORTRAITS[0]).convert("RGB"))
    face = dlib_backend.detect(portrait, "kiosk")[:1]
    chips = align(portrait, face)
    batch = [chip for name in PORTRAITS for chip in _chips(dlib_backend, images_dir, name)]
    batch = (batch * BATCH)[:BATCH]
    location = [(face[0].top, face[0].right, face[0].bottom, face[0].left)]
    yield Row(
        "embed, 1 face",
        _median_ms(lambda: dlib_backend.embed(chips), repeats),
        _median_ms(lambda: onnx_backend.embed(chips), repeats),
        _median_ms(lambda: peer.face_encodings(portrait, location, model="small"), repeats)
        if peer
        else None,
        "ms/face",
    )
    yield Row(
        f"embed, batch of {BATCH}",
        _median_ms(lambda: dlib_backend.embed(batch), repeats) / BATCH,
        _median_ms(lambda: onnx_backend.embed(batch), repeats) / BATCH,
        _median_ms(lambda: peer.face_encodings(portrait, location * BATCH, model="small"), 1)
        / BATCH
        if peer
        else None,
        "ms/face",
    )

    frame = _canvas(images_dir, (640, 480), [420])
    yield Row(
        "detect 640x480: HOG | MMOD",
        _median_ms(lambda: dlib_backend.detect(frame, "kiosk"), repeats),
        _median_ms(lambda: onnx_backend.mmod(frame), repeats),
        _median_ms(lambda: peer.face_locations(frame, 1), repeats) if peer else None,
        "ms",
    )

    def check_in(backend: FaceBackend) -> None:
        faces = backend.detect(frame, "kiosk")
        backend.embed(align(frame, faces[:1]))

    def peer_check_in() -> None:
        peer.face_encodings(frame, peer.face_locations(frame, 1)[:1], model="small")

    yield Row(
        "kiosk 640x480: detect+align+embed",
        _median_ms(lambda: check_in(dlib_backend), repeats),
        _median_ms(lambda: check_in(onnx_backend), repeats),
        _median_ms(peer_check_in, repeats) if peer else None,
        "ms",
    )
    photos = group_photos(images_dir)
    upsampled = [_counted(dlib_backend.detect(p, "photo")) for p in photos]
    for detector in COUNTED_DETECTORS:
        onnx_backend.photo_detector = detector
        found = [_counted(onnx_backend.detect(p, "photo")) for p in photos]
        for label, field in (("", "found"), (f" >= {MIN_FACE_WIDTH} px", "recognizable")):
            yield Row(
                f"faces{label} / photo of {2 * len(GROUP_FACE_HEIGHTS)}: HOG-up | {detector}",
                statistics.mean(getattr(count, field) for count in upsampled),
                statistics.mean(getattr(count, field) for count in found),
                None,
                "faces",
                higher_is_better=True,
            )
    peer_rate = _peer_indexing_rate(peer, photos * 2) if peer else (None, None)
    for workers in (1, 2):
        dlib_rate = indexing_rate(None, models_dir, photos * 2, workers)
        # The face_recognition loop is one process: its figure stands beside 1 worker.
        beside = peer_rate if workers == 1 else (None, None)
        for detector in INDEXING_DETECTORS:
            onnx_rate = indexing_rate(detector, models_dir, photos * 2, workers)
            figure = f"event indexing, {workers} worker(s), onnx {detector}"
            yield Row(figure, dlib_rate[0], onnx_rate[0], beside[0], "photos/min", True)
            yield Row(figure, dlib_rate[1], onnx_rate[1], beside[1], "faces/min", True)

    big = _canvas(images_dir, (4000, 3000), [1100] * 5)
    yield Row(
        "detect 12 MP: HOG | MMOD",
        _median_ms(lambda: dlib_backend.detect(big, "photo"), 1),
        _median_ms(lambda: onnx_backend.mmod(big), 1),
        _median_ms(lambda: peer.face_locations(big, 1), 1) if peer else None,
        "ms",
    )


def _chips(backend: DlibBackend, images_dir: Path, name: str) -> list[RGBImage]:
    image = np.asarray(Image.open(images_dir / name).convert("RGB"))
    return align(image, backend.detect(image, "kiosk")[:1])
