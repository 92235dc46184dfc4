"""ONNX Runtime backend: dlib's own networks, converted once, run batched on optimized kernels.

Same weights as the dlib reference (converted by `dlib_convert`, proven equal by the tests):
the ResNet embeds all chips of a photo in one batch; the MMOD CNN detector runs fully
convolutionally over dlib's tiled image pyramid. Landmarks stay with dlib's 5-point shape
predictor (about a millisecond a face), and kiosk frames may keep dlib's HOG detector.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import dlib
import numpy as np
import onnxruntime as ort

from visage.faces.inference.base import DetectedFace, DetectionMode, Embeddings, RGBImage
from visage.faces.inference.dlib_backend import DlibBackend
from visage.faces.inference.dlib_convert import converted_model
from visage.faces.inference.onnx_mmod import Detection, MmodConfig, decode, tiled_pyramid

KioskDetector = Literal["hog", "mmod"]

# Chips per embedder run: bounds the activations' memory on a photo full of faces.
EMBED_BATCH = 32


def available_cores() -> int:
    return len(os.sched_getaffinity(0))


def _session(path: Path, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    providers = [
        provider
        for provider in ("CUDAExecutionProvider", "CPUExecutionProvider")
        if provider in ort.get_available_providers()
    ]
    return ort.InferenceSession(str(path), options, providers=providers)


class OnnxBackend:
    name = "onnx"
    embedding_dimensions = 128

    def __init__(
        self, models_dir: Path, *, kiosk_detector: KioskDetector = "hog", threads: int = 0
    ) -> None:
        threads = threads or available_cores()
        self.kiosk_detector = kiosk_detector
        self._embedder = _session(converted_model(models_dir, "embedder"), threads)
        self._mmod = _session(converted_model(models_dir, "mmod"), threads)
        self._mmod_config = MmodConfig.from_json(
            self._mmod.get_modelmeta().custom_metadata_map["dlib_mmod"]
        )
        # HOG detection and the 5-point landmarks are dlib's own, shared with the reference.
        self._dlib = DlibBackend()

    def mmod(self, image: RGBImage) -> list[Detection]:
        """dlib's CNN face detector (no upsampling): boxes and scores, best first."""
        pyramid, levels = tiled_pyramid(image, self._mmod_config)
        scores = self._mmod.run(None, {"pyramid": pyramid})[0][0]
        return decode(scores, levels, self._mmod_config)

    def detect(self, image: RGBImage, mode: DetectionMode) -> list[DetectedFace]:
        image = np.ascontiguousarray(image)
        if mode == "kiosk" and self.kiosk_detector == "hog":
            return self._dlib.detect(image, mode)
        height, width = image.shape[:2]
        faces = []
        for detection in self.mmod(image):
            left, top, right, bottom = detection.rect
            faces.append(
                DetectedFace(
                    left=max(0, left),
                    top=max(0, top),
                    right=min(width, right),
                    bottom=min(height, bottom),
                    landmarks=self._dlib.landmarks(image, dlib.rectangle(*detection.rect)),
                    score=detection.score,
                )
            )
        return faces

    def embed(self, chips: list[RGBImage]) -> Embeddings:
        if not chips:
            return np.zeros((0, self.embedding_dimensions), dtype=np.float32)
        batch = np.ascontiguousarray(np.stack(chips), dtype=np.uint8)
        parts = [
            self._embedder.run(None, {"chips": batch[start : start + EMBED_BATCH]})[0]
            for start in range(0, len(batch), EMBED_BATCH)
        ]
        return np.concatenate(parts).astype(np.float32, copy=False)
