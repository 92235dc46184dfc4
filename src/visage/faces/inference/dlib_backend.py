"""Reference backend: dlib's HOG detector, 5-point shape predictor and ResNet-34 (128-d).

The weights ship inside the `face_recognition_models` package; nothing is downloaded.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import dlib
import face_recognition_models
import numpy as np
import numpy.typing as npt

from visage.faces.inference.base import DetectedFace, Embeddings, RGBImage, ScanMode

# Below this width a kiosk frame is upsampled once so faces of ~40 px are still found.
KIOSK_UPSAMPLE_BELOW_WIDTH = 800


class DlibBackend:
    name = "dlib"
    embedding_dimensions = 128

    def __init__(self) -> None:
        # dlib's object detector keeps its feature pyramid in a member while it scans and
        # releases the GIL: two threads scanning with one detector get each other's faces, or
        # crash (the API segfaulted under load). A scan borrows a detector of its own; one is
        # built (~0.5 s) only when all are busy, so there are as many as scans ever ran at once
        # (the inference gate keeps that to the cores).
        self._detectors: queue.SimpleQueue[dlib.fhog_object_detector] = queue.SimpleQueue()
        self._detectors.put(dlib.get_frontal_face_detector())
        # The ResNet's forward pass writes its layers' buffers: one pass at a time.
        self._encoder_lock = threading.Lock()
        self._shape_predictor = dlib.shape_predictor(
            face_recognition_models.pose_predictor_five_point_model_location()
        )
        self._encoder = dlib.face_recognition_model_v1(
            face_recognition_models.face_recognition_model_location()
        )

    @contextmanager
    def _detector(self) -> Iterator[dlib.fhog_object_detector]:
        try:
            detector = self._detectors.get_nowait()
        except queue.Empty:
            detector = dlib.get_frontal_face_detector()
        try:
            yield detector
        finally:
            self._detectors.put(detector)

    def landmarks(self, image: RGBImage, rect: dlib.rectangle) -> np.ndarray:
        shape = self._shape_predictor(image, rect)
        return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float32)

    def detect(self, image: RGBImage, mode: ScanMode) -> list[DetectedFace]:
        image = np.ascontiguousarray(image)
        small = image.shape[1] < KIOSK_UPSAMPLE_BELOW_WIDTH
        upsample = 1 if mode == "photo" or (mode == "kiosk" and small) else 0
        return self.hog(image, upsample)

    def hog(self, image: RGBImage, upsample: int) -> list[DetectedFace]:
        """HOG faces (the image upsampled `upsample` times first), best first."""
        return self.faces(image, *self.hog_scan(np.ascontiguousarray(image), upsample))

    def hog_scan(
        self, pixels: npt.NDArray[np.uint8], upsample: int = 0
    ) -> tuple[list[dlib.rectangle], list[float]]:
        """The HOG detector's raw boxes and scores, in the pixels of `pixels`."""
        with self._detector() as detector:
            rects, scores, _ = detector.run(pixels, upsample, 0.0)
        return list(rects), list(scores)

    def faces(
        self,
        image: RGBImage,
        rects: Sequence[dlib.rectangle],
        scores: Sequence[float],
        scale: float = 1.0,
    ) -> list[DetectedFace]:
        """Boxes found at `scale` times the image's size as faces of the image, with their
        landmarks, best first."""
        height, width = image.shape[:2]
        faces = []
        for found, score in sorted(zip(rects, scores, strict=True), key=lambda rs: -rs[1]):
            rect = dlib.rectangle(
                round(found.left() / scale),
                round(found.top() / scale),
                round(found.right() / scale),
                round(found.bottom() / scale),
            )
            faces.append(
                DetectedFace(
                    left=max(0, rect.left()),
                    top=max(0, rect.top()),
                    right=min(width, rect.right()),
                    bottom=min(height, rect.bottom()),
                    landmarks=self.landmarks(image, rect),
                    score=float(score),
                )
            )
        return faces

    def embed(self, chips: list[RGBImage]) -> Embeddings:
        if not chips:
            return np.zeros((0, self.embedding_dimensions), dtype=np.float32)
        with self._encoder_lock:
            vectors = self._encoder.compute_face_descriptor(
                [np.ascontiguousarray(c) for c in chips]
            )
        return np.asarray([np.asarray(v) for v in vectors], dtype=np.float32)
