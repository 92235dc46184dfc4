"""The process's face engine: one backend, loaded once under a lock, run off the event loop."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from visage.config import Settings
from visage.core.errors import ServiceUnavailable
from visage.faces.inference.base import FaceBackend

_backend: FaceBackend | None = None
_lock = threading.Lock()


class EngineConfigError(Exception):
    pass


def _build(settings: Settings) -> FaceBackend:
    """FACE_BACKEND: `onnx` (dlib's networks on ONNX Runtime) or `dlib` (the reference)."""
    if settings.face_backend == "onnx":
        from visage.faces.inference.onnx_backend import OnnxBackend

        return OnnxBackend(
            settings.models_dir,
            kiosk_detector=settings.face_kiosk_detector,
            photo_detector=settings.face_photo_detector,
            threads=settings.face_threads,
        )
    from visage.faces.inference.dlib_backend import DlibBackend

    return DlibBackend()


def load_backend(settings: Settings) -> FaceBackend:
    """Load (once) the configured backend; the dimension must match EMBEDDING_DIMENSIONS."""
    global _backend
    with _lock:
        if _backend is None:
            backend = _build(settings)
            if backend.embedding_dimensions != settings.embedding_dimensions:
                raise EngineConfigError(
                    f"EMBEDDING_DIMENSIONS={settings.embedding_dimensions} but the "
                    f"'{backend.name}' face backend produces {backend.embedding_dimensions}-d "
                    f"embeddings: set EMBEDDING_DIMENSIONS={backend.embedding_dimensions}."
                )
            _backend = backend
        return _backend


def get_backend() -> FaceBackend:
    if _backend is None:
        from visage.config import get_settings

        try:
            return load_backend(get_settings())
        except Exception as error:
            raise ServiceUnavailable(
                "The face model could not be loaded.", details=str(error)
            ) from error
    return _backend


@dataclass(frozen=True)
class EngineStatus:
    loaded: bool
    backend: str | None
    embedding_dimensions: int | None


def engine_status() -> EngineStatus:
    backend = _backend
    if backend is None:
        return EngineStatus(False, None, None)
    return EngineStatus(True, backend.name, backend.embedding_dimensions)
