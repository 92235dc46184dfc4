"""Accuracy on labeled pairs: `visage eval PAIRS.csv --images DIR`.

The CSV has columns `file_x,file_y,Decision` (`Yes`: same person, `No`: different people),
file names relative to DIR. Distances are between the largest faces of the two images.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from visage.core.errors import AppError
from visage.core.images import ImageLimits, decode_image
from visage.faces.pipeline import analyze_largest

REQUIRED_COLUMNS = ("file_x", "file_y", "Decision")


class PairsFileError(ValueError):
    pass


@dataclass(frozen=True)
class Pair:
    file_x: str
    file_y: str
    same: bool


@dataclass(frozen=True)
class Rates:
    threshold: float
    accuracy: float
    false_accept_rate: float  # different people within the threshold / different-people pairs
    false_reject_rate: float  # same person beyond the threshold / same-person pairs


@dataclass(frozen=True)
class EvaluationReport:
    pairs: int
    evaluated: int
    at_threshold: Rates
    best: Rates
    no_face: list[str]
    unreadable: list[str]


def read_pairs(path: Path) -> list[Pair]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise PairsFileError(f"{path}: missing column(s) {', '.join(missing)}")
        pairs = []
        for line, row in enumerate(reader, start=2):
            decision = (row["Decision"] or "").strip().lower()
            if decision not in {"yes", "no"}:
                raise PairsFileError(f"{path}:{line}: Decision must be Yes or No")
            pairs.append(Pair(row["file_x"].strip(), row["file_y"].strip(), decision == "yes"))
    return pairs


Distances = npt.NDArray[np.float64]
Labels = npt.NDArray[np.bool_]  # True: same person


def rates(distances: Distances, same: Labels, threshold: float) -> Rates:
    accepted = distances <= threshold
    positives, negatives = int(same.sum()), int((~same).sum())
    return Rates(
        threshold=threshold,
        accuracy=float((accepted == same).mean()),
        false_accept_rate=float((accepted & ~same).sum() / negatives) if negatives else 0.0,
        false_reject_rate=float((~accepted & same).sum() / positives) if positives else 0.0,
    )


def best_threshold(distances: Distances, same: Labels, configured: float) -> Rates:
    """The threshold of highest accuracy (midpoints between observed distances); among equals,
    the one nearest the configured threshold."""
    ordered = np.unique(distances)
    candidates = np.concatenate([[0.0], (ordered[:-1] + ordered[1:]) / 2, [ordered[-1] + 1e-6]])
    scored = [rates(distances, same, float(t)) for t in candidates]
    return max(scored, key=lambda r: (r.accuracy, -abs(r.threshold - configured)))


def evaluate(
    pairs: Iterable[Pair], images_dir: Path, threshold: float, limits: ImageLimits
) -> EvaluationReport:
    pairs = list(pairs)
    embeddings: dict[str, npt.NDArray[np.float32] | None] = {}
    unreadable: list[str] = []
    no_face: list[str] = []
    for name in dict.fromkeys(name for pair in pairs for name in (pair.file_x, pair.file_y)):
        try:
            image = decode_image((images_dir / name).read_bytes(), limits)
        except (OSError, AppError):
            unreadable.append(name)
            embeddings[name] = None
            continue
        face = analyze_largest(image.rgb, "kiosk")
        embeddings[name] = face.embedding if face else None
        if face is None:
            no_face.append(name)
    scored = [
        (float(np.linalg.norm(x - y)), pair.same)
        for pair in pairs
        if (x := embeddings[pair.file_x]) is not None and (y := embeddings[pair.file_y]) is not None
    ]
    if not scored:
        raise PairsFileError("No pair could be evaluated: no face found in enough images.")
    distances = np.array([d for d, _ in scored])
    same = np.array([s for _, s in scored])
    return EvaluationReport(
        pairs=len(pairs),
        evaluated=len(scored),
        at_threshold=rates(distances, same, threshold),
        best=best_threshold(distances, same, threshold),
        no_face=no_face,
        unreadable=unreadable,
    )
