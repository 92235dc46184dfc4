"""ONNX Runtime backend: dlib's own networks, converted once, run batched on optimized kernels.

Same weights as the dlib reference (converted by `dlib_convert`, proven equal by the tests):
the ResNet embeds all chips of a photo in one batch; the MMOD CNN detector runs fully
convolutionally over dlib's tiled image pyramid. Landmarks stay with dlib's 5-point shape
predictor (about a millisecond a face).

dlib's HOG detector, the default for kiosk frames and photos, looks for faces no smaller than
the smallest face worth recognizing: a face under MIN_FACE_WIDTH is never matched, so scanning
at 2x for 37 px faces, as dlib's upsampled pass does, would spend half the detection time of a
photo on faces nobody can search for.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import dlib
import numpy as np
import onnxruntime as ort

from visage.faces.inference.base import (
    MIN_FACE_WIDTH,
    DetectedFace,
    Embeddings,
    RGBImage,
    ScanMode,
)
from visage.faces.inference.dlib_backend import KIOSK_UPSAMPLE_BELOW_WIDTH, DlibBackend
from visage.faces.inference.dlib_convert import converted_model
from visage.faces.inference.onnx_mmod import Detection, MmodConfig, decode, tiled_pyramid

KioskDetector = Literal["hog", "mmod"]
PhotoDetector = Literal["hog", "mmod", "both"]

# dlib's HOG face boxes are about this wide at the scale it scans (its 80 px window less the
# padding): scanning an image resized by HOG_BOX / w finds faces from about w px.
HOG_BOX = 74
# Every face worth recognizing: just above MIN_FACE_WIDTH, with room for the boxes'
# quantization.
SMALL_FACE_SCALE = HOG_BOX / (MIN_FACE_WIDTH + 2)
# Someone checking in stands close to the camera: in a kiosk frame their face is at least this
# wide, and a scan for faces that size takes half the time of one at the frame's own size.
KIOSK_FACE_WIDTH = 100
KIOSK_SCALE = HOG_BOX / KIOSK_FACE_WIDTH
# At arm's length from a 640x480 door camera a face is 140 px or wider: a scan for those first
# reads half the pixels of the scan for 100 px faces (the pyramid finds larger faces at the
# same levels either way), so the usual frame costs about half the detection time. The
# landmarks, and so the chip the embedder sees, are always taken on the full-size frame.
KIOSK_CLOSE_FACE_WIDTH = 140
KIOSK_CLOSE_SCALE = HOG_BOX / KIOSK_CLOSE_FACE_WIDTH

# Chips per embedder run: bounds the activations' memory on a photo full of faces.
EMBED_BATCH = 32


def available_cores() -> int:
    return len(os.sched_getaffinity(0))


def threads_per_process(processes: int) -> int:
    """Inference threads each of `processes` processes running at once may take."""
    return max(1, available_cores() // processes)


def _session(path: Path, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # The API and the workers are separate processes on the same cores: idle threads sleep
    # instead of spinning, so one process's wait does not eat the other's CPU.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    providers = [
        provider
        for provider in ("CUDAExecutionProvider", "CPUExecutionProvider")
        if provider in ort.get_available_providers()
    ]
    return ort.InferenceSession(str(path), options, providers=providers)


def enlarged(image: RGBImage, scale: float) -> RGBImage:
    """Bilinear, by dlib (twice as fast as Pillow's resampling filter here)."""
    if scale == 1.0:
        return image
    rows, cols = round(image.shape[0] * scale), round(image.shape[1] * scale)
    return np.asarray(dlib.resize_image(image, rows, cols), dtype=np.uint8)


def _seen(face: DetectedFace, others: list[DetectedFace]) -> bool:
    x, y = (face.left + face.right) / 2, (face.top + face.bottom) / 2
    return any(o.left <= x <= o.right and o.top <= y <= o.bottom for o in others)


class OnnxBackend:
    name = "onnx"
    embedding_dimensions = 128

    def __init__(
        self,
        models_dir: Path,
        *,
        kiosk_detector: KioskDetector = "hog",
        photo_detector: PhotoDetector = "hog",
        threads: int = 0,
    ) -> None:
        threads = threads or available_cores()
        self.kiosk_detector: KioskDetector = kiosk_detector
        self.photo_detector: PhotoDetector = photo_detector
        self._embedder = _session(converted_model(models_dir, "embedder"), threads)
        self._mmod = _session(converted_model(models_dir, "mmod"), threads)
        self._mmod_config = MmodConfig.from_json(
            self._mmod.get_modelmeta().custom_metadata_map["dlib_mmod"]
        )
        # HOG detection and the 5-point landmarks are dlib's own, shared with the reference.
        self._dlib = DlibBackend()

    def mmod(self, image: RGBImage) -> list[Detection]:
        """dlib's CNN face detector (no upsampling): boxes and scores, best first."""
        smallest_window = min(min(window) for window in self._mmod_config.windows)
        if min(image.shape[:2]) < smallest_window:
            return []  # the pyramid only shrinks: no face fits, and the network would underflow
        pyramid, levels = tiled_pyramid(image, self._mmod_config)
        scores = self._mmod.run(None, {"pyramid": pyramid})[0][0]
        return decode(scores, levels, self._mmod_config)

    def _mmod_faces(self, image: RGBImage) -> list[DetectedFace]:
        height, width = image.shape[:2]
        return [
            DetectedFace(
                left=max(0, detection.rect[0]),
                top=max(0, detection.rect[1]),
                right=min(width, detection.rect[2]),
                bottom=min(height, detection.rect[3]),
                landmarks=self._dlib.landmarks(image, dlib.rectangle(*detection.rect)),
                score=detection.score,
            )
            for detection in self.mmod(image)
        ]

    def hog(self, image: RGBImage, scale: float) -> list[DetectedFace]:
        """HOG faces of the image enlarged by `scale`, in image pixels, best first."""
        rects, scores = self._dlib.hog_scan(enlarged(image, scale))
        return self._dlib.faces(image, rects, scores, scale)

    def _hog_faces(self, image: RGBImage, mode: ScanMode) -> list[DetectedFace]:
        if mode == "photo":
            return self.hog(image, SMALL_FACE_SCALE)
        for scale in (KIOSK_CLOSE_SCALE, KIOSK_SCALE):
            faces = self.hog(image, scale)
            if faces:
                return faces
        if mode == "kiosk_close":
            return []
        # Nobody close: every face worth recognizing (a large frame at its own size).
        wide = image.shape[1] >= KIOSK_UPSAMPLE_BELOW_WIDTH
        return self.hog(image, 1.0 if wide else SMALL_FACE_SCALE)

    def detect(self, image: RGBImage, mode: ScanMode) -> list[DetectedFace]:
        image = np.ascontiguousarray(image)
        detector = self.photo_detector if mode == "photo" else self.kiosk_detector
        if detector == "hog":
            return self._hog_faces(image, mode)
        found = self._mmod_faces(image)
        if detector == "both":
            # HOG adds the small frontal faces MMOD's 80 px window misses; a HOG box centred
            # inside an MMOD box is the same face.
            found += [face for face in self._hog_faces(image, mode) if not _seen(face, found)]
        return found

    def embed(self, chips: list[RGBImage]) -> Embeddings:
        if not chips:
            return np.zeros((0, self.embedding_dimensions), dtype=np.float32)
        batch = np.ascontiguousarray(np.stack(chips), dtype=np.uint8)
        parts = [
            self._embedder.run(None, {"chips": batch[start : start + EMBED_BATCH]})[0]
            for start in range(0, len(batch), EMBED_BATCH)
        ]
        return np.concatenate(parts).astype(np.float32, copy=False)
