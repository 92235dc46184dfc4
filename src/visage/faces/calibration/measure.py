"""`visage calibrate DIR`: the score model and the enrollment gate measured on a folder of
labelled photos (one sub-folder per person, as LFW is laid out).

Every photo goes through the product's own pipeline ("photo" detection, alignment, quality,
embedding); the largest face is the person's. Genuine pairs are all pairs of one person's
photos, impostor pairs all pairs of different people's.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt

from visage.core.errors import AppError
from visage.core.images import ImageLimits, decode_image
from visage.faces.calibration.face_space import face_space_of
from visage.faces.calibration.model import ImpostorTail, ScoreModel
from visage.faces.calibration.strategies import strategy_rates
from visage.faces.pipeline import assess, embed, enrollment_refusal, largest

BIN_WIDTH = 0.005
MAX_DISTANCE = 1.6
# The counted FMR curve is trusted down to this many impostor pairs; below, the fitted tail.
TAIL_MIN_PAIRS = 25
TAIL_FIT_MAX_FMR = 1e-2
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}

Embeddings = npt.NDArray[np.float64]


@dataclass(frozen=True)
class PhotoMeasure:
    person: str
    # What the enrollment gate answers for this photo: None (accepted), FACE_001..003.
    refusal: str | None
    embedding: npt.NDArray[np.float32] | None  # the largest face, when there is one


def labelled_photos(directory: Path) -> Iterator[tuple[str, Path]]:
    for person in sorted(p for p in directory.iterdir() if p.is_dir()):
        for photo in sorted(person.iterdir()):
            if photo.suffix.lower() in PHOTO_SUFFIXES:
                yield person.name, photo


def measure_photo(person: str, photo: Path, limits: ImageLimits) -> PhotoMeasure:
    try:
        image = decode_image(photo.read_bytes(), limits)
    except (OSError, AppError):
        return PhotoMeasure(person, "IMAGE", None)
    faces = assess(image.rgb, "photo")
    if not faces:
        return PhotoMeasure(person, "FACE_001", None)
    refusal = enrollment_refusal(faces)
    (main,) = embed([largest(faces)])
    return PhotoMeasure(person, refusal.code if refusal else None, main.embedding)


def measure_folder(
    directory: Path, limits: ImageLimits, progress: Callable[[int], None] | None = None
) -> list[PhotoMeasure]:
    measures = []
    for count, (person, photo) in enumerate(labelled_photos(directory), start=1):
        measures.append(measure_photo(person, photo, limits))
        if progress is not None:
            progress(count)
    return measures


def pair_distances(
    embeddings: Embeddings, labels: npt.NDArray[np.str_]
) -> tuple[Embeddings, Embeddings]:
    """Genuine and impostor distances over all pairs."""
    gram = embeddings @ embeddings.T
    squared = np.diag(gram)
    distances = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2 * gram, 0.0))
    upper = np.triu_indices(len(embeddings), 1)
    same = (labels[:, None] == labels[None, :])[upper]
    flat = distances[upper]
    return flat[same], flat[~same]


def fit_tail(edges: Embeddings, impostor_counts: Embeddings) -> ImpostorTail:
    """A normal CDF fitted (probit least squares) to the counted low end of the FMR curve."""
    cumulative = np.cumsum(impostor_counts)
    fmr = cumulative / cumulative[-1]
    upper_edges = edges[1:]
    fitted = (cumulative >= TAIL_MIN_PAIRS) & (fmr <= TAIL_FIT_MAX_FMR)
    if fitted.sum() < 3:
        raise ValueError("too few impostor pairs near the genuine ones to fit the FMR tail")
    probits = np.array([NormalDist().inv_cdf(float(value)) for value in fmr[fitted]])
    slope, intercept = np.polyfit(upper_edges[fitted], probits, 1)
    below = float(upper_edges[fitted][0])
    return ImpostorTail(mean=float(-intercept / slope), sd=float(1 / slope), below=below)


def genuine_gap_median(embeddings: Embeddings, labels: npt.NDArray[np.str_]) -> float:
    """Median |d(p, a) - d(p, b)| over a probe p and two other photos a, b of its person."""
    gaps: list[float] = []
    for person in np.unique(labels):
        photos = embeddings[labels == person]
        for index, probe in enumerate(photos):
            others = np.linalg.norm(np.delete(photos, index, axis=0) - probe, axis=1)
            gaps.extend(abs(a - b) for a, b in itertools.combinations(others, 2))
    if not gaps:
        raise ValueError("the margin needs people with at least three photos")
    return float(np.median(gaps))


def score_model(
    embeddings: Embeddings, labels: npt.NDArray[np.str_], source: dict[str, Any]
) -> ScoreModel:
    genuine, impostor = pair_distances(embeddings, labels)
    if genuine.size == 0 or impostor.size == 0:
        raise ValueError("calibration needs at least two people with two photos each")
    edges = np.arange(0.0, MAX_DISTANCE + BIN_WIDTH / 2, BIN_WIDTH)
    genuine_counts = np.histogram(np.clip(genuine, 0, MAX_DISTANCE), edges)[0].astype(np.float64)
    impostor_counts = np.histogram(np.clip(impostor, 0, MAX_DISTANCE), edges)[0].astype(np.float64)
    return ScoreModel(
        edges=edges,
        genuine=genuine_counts,
        impostor=impostor_counts,
        tail=fit_tail(edges, impostor_counts),
        margin=genuine_gap_median(embeddings, labels),
        source={
            **source,
            "genuine_pairs": int(genuine.size),
            "impostor_pairs": int(impostor.size),
            "genuine_mean": round(float(genuine.mean()), 4),
            "impostor_mean": round(float(impostor.mean()), 4),
        },
    )


def calibration_document(measures: list[PhotoMeasure], source: dict[str, Any]) -> dict[str, Any]:
    """The score model, the gate's refusals and the strategies' figures, as one JSON file."""
    embedded = [m for m in measures if m.embedding is not None]
    embeddings = np.stack([m.embedding for m in embedded if m.embedding is not None]).astype(
        np.float64
    )
    labels = np.array([m.person for m in embedded])
    refusals: dict[str, int] = {}
    for measure in measures:
        if measure.refusal is not None:
            refusals[measure.refusal] = refusals.get(measure.refusal, 0) + 1
    model = score_model(
        embeddings,
        labels,
        {
            **source,
            "people": len({m.person for m in measures}),
            "photos": len(measures),
            "embedded": len(embedded),
        },
    )
    document = model.to_json()
    document["face_space"] = face_space_of(embeddings, labels)[0].to_json()
    checkpoints = [model.acceptance_distance(size, 0.001) for size in (1, 1_000)] + [0.6]
    document["measurements"] = {
        "enrollment_gate": {
            "photos": len(measures),
            "refused": refusals,
            "refused_share": round(sum(refusals.values()) / len(measures), 4),
        },
        "strategies": strategy_rates(embeddings, labels, checkpoints),
    }
    return document
