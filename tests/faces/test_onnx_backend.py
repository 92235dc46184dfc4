"""The ONNX backend computes what dlib computes: the numerical proof for FACE_BACKEND=onnx.

Same aligned chips -> embeddings within 1e-4 and identical decisions at dlib's 0.6; same small
images -> the same MMOD boxes as `dlib.cnn_face_detection_model_v1` (IoU >= 0.95). dlib's CNN
detector takes seconds even at 320 px here, so it only sees two small images.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

import dlib
import face_recognition_models
import numpy as np
import pytest
from PIL import Image

from tests.images import FACES_DIR
from visage.config import Settings
from visage.faces.inference.alignment import align
from visage.faces.inference.base import MIN_FACE_WIDTH, DetectedFace, RGBImage
from visage.faces.inference.dlib_backend import DlibBackend
from visage.faces.inference.dlib_convert import converted_model, source_path
from visage.faces.inference.dlib_format import (
    MMOD_TOKENS,
    RESNET_TOKENS,
    DlibFormatError,
    parse_network,
)
from visage.faces.inference.onnx_backend import (
    KIOSK_CLOSE_FACE_WIDTH,
    KIOSK_CLOSE_SCALE,
    KIOSK_FACE_WIDTH,
    KIOSK_SCALE,
    OnnxBackend,
)

IMAGES = ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg", "hopper.jpg", "astronaut.png")
TOLERANCE = 0.6  # dlib's threshold for "same person"
MMOD_WIDTH = 320


def load(name: str, width: int | None = None) -> RGBImage:
    image = Image.open(FACES_DIR / name).convert("RGB")
    if width is not None:
        # Portrait crop (4:5) then scale: small enough for dlib's slow CNN detector.
        image = image.crop((0, 0, image.width, min(image.height, image.width * 5 // 4)))
        image = image.resize((width, image.height * width // image.width))
    return np.asarray(image)


def iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    inner_w = min(a[2], b[2]) - max(a[0], b[0]) + 1
    inner_h = min(a[3], b[3]) - max(a[1], b[1]) + 1
    if inner_w <= 0 or inner_h <= 0:
        return 0.0
    inner = inner_w * inner_h
    area = lambda r: (r[2] - r[0] + 1) * (r[3] - r[1] + 1)  # noqa: E731
    return inner / (area(a) + area(b) - inner)


def as_rect(face: DetectedFace) -> tuple[int, int, int, int]:
    return (face.left, face.top, face.right, face.bottom)


@pytest.fixture(scope="session")
def onnx_backend(settings: Settings) -> OnnxBackend:
    # The session's data dir: the conversion happens once per test run, shared with the app.
    return OnnxBackend(settings.models_dir, photo_detector="both")


@pytest.fixture(scope="module")
def dlib_backend() -> DlibBackend:
    return DlibBackend()


@pytest.fixture(scope="module")
def chips(dlib_backend: DlibBackend) -> list[RGBImage]:
    """One chip per test image, cut by the shared alignment from dlib's detection."""
    result = []
    for name in IMAGES:
        image = load(name)
        faces = dlib_backend.detect(image, "kiosk")
        assert faces, name
        result.extend(align(image, faces[:1]))
    return result


@pytest.fixture(scope="module")
def embeddings(
    chips: list[RGBImage], dlib_backend: DlibBackend, onnx_backend: OnnxBackend
) -> tuple[np.ndarray, np.ndarray]:
    return dlib_backend.embed(chips), onnx_backend.embed(chips)


def test_embeddings_match_dlib(embeddings: tuple[np.ndarray, np.ndarray]) -> None:
    reference, converted = embeddings
    assert converted.shape == (len(IMAGES), 128)
    assert converted.dtype == np.float32
    assert float(np.abs(reference - converted).max()) < 1e-4


def test_single_chip_equals_its_row_in_a_batch(
    chips: list[RGBImage], onnx_backend: OnnxBackend, embeddings: tuple[np.ndarray, np.ndarray]
) -> None:
    alone = onnx_backend.embed(chips[3:4])
    assert float(np.abs(alone[0] - embeddings[1][3]).max()) < 1e-5


def test_every_pair_decision_at_the_threshold_is_dlibs(
    embeddings: tuple[np.ndarray, np.ndarray],
) -> None:
    reference, converted = embeddings
    decisions = []
    for i, j in itertools.combinations(range(len(IMAGES)), 2):
        same_dlib = np.linalg.norm(reference[i] - reference[j]) < TOLERANCE
        same_onnx = np.linalg.norm(converted[i] - converted[j]) < TOLERANCE
        assert same_dlib == same_onnx, (IMAGES[i], IMAGES[j])
        decisions.append(same_onnx)
    assert any(decisions)  # the three Obama photos match
    assert not all(decisions)  # and the strangers do not


def test_no_chips_no_embeddings(onnx_backend: OnnxBackend) -> None:
    assert onnx_backend.embed([]).shape == (0, 128)


@pytest.mark.parametrize("name", ["obama.jpg", "biden.jpg"])
def test_mmod_boxes_match_dlibs_cnn_detector(name: str, onnx_backend: OnnxBackend) -> None:
    image = load(name, MMOD_WIDTH)
    detector = dlib.cnn_face_detection_model_v1(
        face_recognition_models.cnn_face_detector_model_location()
    )
    expected = [
        ((d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom()), d.confidence)
        for d in detector(image, 0)
    ]
    found = onnx_backend.mmod(image)
    assert expected, "dlib finds the face"
    assert len(found) == len(expected)
    for (box, confidence), detection in zip(expected, found, strict=True):
        assert iou(box, detection.rect) >= 0.95
        assert detection.score == pytest.approx(confidence, abs=1e-3)


def test_photo_mode_merges_mmod_and_hog_into_one_face_with_landmarks(
    onnx_backend: OnnxBackend, dlib_backend: DlibBackend
) -> None:
    image = load("obama.jpg", MMOD_WIDTH)
    assert len(dlib_backend.detect(image, "photo")) == 1  # HOG sees the same face
    faces = onnx_backend.detect(image, "photo")
    assert len(faces) == 1
    face = faces[0]
    assert (face.left, face.top, face.right, face.bottom) == onnx_backend.mmod(image)[0].rect
    assert face.landmarks.shape == (5, 2)
    xs, ys = face.landmarks[:, 0], face.landmarks[:, 1]
    # The eye corners and the nose lie inside the detected box.
    assert face.left <= xs.min()
    assert xs.max() <= face.right
    assert face.top <= ys.min()
    assert ys.max() <= face.bottom
    assert len(align(image, faces)) == 1


def test_images_smaller_than_the_mmod_window_have_no_face(onnx_backend: OnnxBackend) -> None:
    # dlib's pyramid of a 1x1 image is too small for the network: no run, no face.
    assert onnx_backend.detect(np.zeros((1, 1, 3), dtype=np.uint8), "photo") == []


def test_kiosk_hog_looks_for_a_close_face_first(
    onnx_backend: OnnxBackend, dlib_backend: DlibBackend
) -> None:
    close = load("biden.jpg", 480)  # a face of ~155 px: the quickest scan, for close faces
    quickest = onnx_backend.hog(close, KIOSK_CLOSE_SCALE)
    assert quickest
    assert quickest[0].width >= KIOSK_CLOSE_FACE_WIDTH
    assert [f.box() for f in onnx_backend.detect(close, "kiosk")] == [f.box() for f in quickest]
    nearby = load("biden.jpg", 320)  # a face of ~117 px: missed by it, found by the next scan
    assert onnx_backend.hog(nearby, KIOSK_CLOSE_SCALE) == []
    quick = onnx_backend.hog(nearby, KIOSK_SCALE)
    assert quick
    assert KIOSK_FACE_WIDTH <= quick[0].width < KIOSK_CLOSE_FACE_WIDTH
    assert [f.box() for f in onnx_backend.detect(nearby, "kiosk")] == [f.box() for f in quick]
    far = load("obama.jpg", 160)  # a face of ~50 px: only the scan for every usable face
    assert onnx_backend.hog(far, KIOSK_SCALE) == []
    assert dlib_backend.hog(far, 0) == []
    (upsampled,) = dlib_backend.hog(far, 1)
    (found,) = onnx_backend.detect(far, "kiosk")
    assert found.width >= MIN_FACE_WIDTH
    assert iou(as_rect(found), as_rect(upsampled)) >= 0.5


def test_hog_looks_for_faces_down_to_the_smallest_recognizable_size(
    onnx_backend: OnnxBackend, dlib_backend: DlibBackend
) -> None:
    small = load("obama.jpg", 160)  # a face of ~50 px: usable, found in photos
    (found,) = onnx_backend.detect(small, "photo")
    assert found.width >= MIN_FACE_WIDTH
    tiny = load("obama.jpg", 120)  # a face of ~36 px: dlib's 2x pass finds it, unusable
    (upsampled,) = dlib_backend.hog(tiny, 1)
    assert upsampled.width < MIN_FACE_WIDTH
    assert onnx_backend.detect(tiny, "kiosk") == []
    assert onnx_backend.detect(tiny, "photo") == []


def test_converted_models_are_cached_by_source_hash(
    settings: Settings, onnx_backend: OnnxBackend
) -> None:
    del onnx_backend  # built the cache
    first = converted_model(settings.models_dir, "embedder")
    modified = first.stat().st_mtime_ns
    again = converted_model(settings.models_dir, "embedder")
    assert again == first
    assert again.stat().st_mtime_ns == modified
    assert first.parent == settings.models_dir
    assert first.name.startswith("dlib_face_recognition_resnet_model_v1-")


def test_converter_refuses_a_network_it_does_not_know() -> None:
    detector_bytes = source_path("mmod").read_bytes()
    with pytest.raises(DlibFormatError):
        parse_network(detector_bytes, RESNET_TOKENS)
    with pytest.raises(DlibFormatError):
        parse_network(detector_bytes + b"\x00", MMOD_TOKENS)


def close_up(name: str, face_width: int) -> RGBImage:
    """A 640x480 door-camera frame cut from a real photo, its face about `face_width` px."""
    image = Image.open(FACES_DIR / name).convert("RGB")
    (box,) = dlib.get_frontal_face_detector()(np.asarray(image), 0)
    scale = face_width / box.width()
    width, height = 640 / scale, 480 / scale
    left = min(max(0.0, box.center().x - width / 2), image.width - width)
    top = min(max(0.0, box.center().y - height / 2 + 0.1 * height), image.height - height)
    crop = image.crop((round(left), round(top), round(left + width), round(top + height)))
    return np.asarray(crop.resize((640, 480), Image.Resampling.BILINEAR))


@pytest.mark.parametrize("face_width", [150, 190, 240])
def test_the_close_face_scan_keeps_the_distance_to_the_enrolled_face(
    onnx_backend: OnnxBackend, face_width: int
) -> None:
    # Landmarks and chips come from the full-size frame whichever scan found the box, so the
    # distance the decision reads moves by far less than frames of one person differ.
    enrolled_photo = load("obama2.jpg")
    (enrolled,) = onnx_backend.embed(
        align(enrolled_photo, onnx_backend.detect(enrolled_photo, "photo"))
    )
    frame = close_up("obama.jpg", face_width)
    assert onnx_backend.hog(frame, KIOSK_CLOSE_SCALE)  # found by the close-face scan
    (close,) = onnx_backend.detect(frame, "kiosk")
    (finer,) = onnx_backend.hog(frame, KIOSK_SCALE)
    quick, fine = onnx_backend.embed(align(frame, [close, finer]))
    quick_distance = float(np.linalg.norm(quick - enrolled))
    fine_distance = float(np.linalg.norm(fine - enrolled))
    assert quick_distance < 0.45  # the same person, well inside the threshold
    assert abs(quick_distance - fine_distance) < 0.03


def test_concurrent_hog_scans_each_see_their_own_image(dlib_backend: DlibBackend) -> None:
    # dlib's detector scans with the GIL released and keeps state in itself: one detector
    # shared by request threads returned other frames' faces (and crashed the API).
    images = [load(name, 320) for name in ("obama.jpg", "biden.jpg", "hopper.jpg")]

    def boxes(image: RGBImage) -> list[tuple[int, int, int, int]]:
        rects, _ = dlib_backend.hog_scan(image, 1)
        return [(r.left(), r.top(), r.right(), r.bottom()) for r in rects]

    expected = [boxes(image) for image in images]
    assert all(expected)
    with ThreadPoolExecutor(max_workers=6) as pool:
        runs = list(pool.map(lambda n: (n % 3, boxes(images[n % 3])), range(48)))
    assert [found for index, found in runs] == [expected[index] for index, _ in runs]
