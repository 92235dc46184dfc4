"""FMR(d) and FNMR(d) of the embedder, and what they mean for a gallery of N members.

The curves come from histograms of genuine (same person) and impostor (different people)
distances, shipped as `dlib_lfw.json` (`visage calibrate DIR` recomputes them). Below the
distance where impostor pairs get too few to count, FMR follows a normal tail fitted to the
counted part: a gallery of 100,000 members needs FMR near 10^-8, far below what a few
million measured pairs can show.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt

SHIPPED_FILE = "dlib_lfw.json"
FORMAT_VERSION = 1
_STANDARD_NORMAL = NormalDist()


class CalibrationFileError(ValueError):
    pass


@dataclass(frozen=True)
class ImpostorTail:
    """FMR(d) = Phi((d - mean) / sd) below `below`, scaled to meet the counted curve there."""

    mean: float
    sd: float
    below: float

    def fmr(self, distance: float) -> float:
        return _STANDARD_NORMAL.cdf((distance - self.mean) / self.sd)


@dataclass(frozen=True)
class ScoreModel:
    """Distance histograms on a shared grid: bin i holds distances in (edges[i], edges[i+1]]."""

    edges: npt.NDArray[np.float64]
    genuine: npt.NDArray[np.float64]  # counts per bin
    impostor: npt.NDArray[np.float64]
    tail: ImpostorTail
    # Two members closer to a probe than this are not told apart: the median difference
    # between two genuine distances of one person.
    margin: float
    source: dict[str, Any]

    def __post_init__(self) -> None:
        sizes = {len(self.edges) - 1, len(self.genuine), len(self.impostor)}
        if len(sizes) != 1 or len(self.edges) < 2 or np.any(np.diff(self.edges) <= 0):
            raise CalibrationFileError("histograms and edges do not fit together")
        if self.genuine.sum() <= 0 or self.impostor.sum() <= 0 or self.tail.sd <= 0:
            raise CalibrationFileError("a calibration needs genuine and impostor pairs")

    def _cumulative(self, counts: npt.NDArray[np.float64], distance: float) -> float:
        """Share of the pairs at or below `distance` (linear within a bin)."""
        cumulative = np.concatenate([[0.0], np.cumsum(counts)]) / counts.sum()
        return float(np.interp(distance, self.edges, cumulative))

    def fmr(self, distance: float) -> float:
        """False match rate: share of impostor pairs within `distance`."""
        counted = self._cumulative(self.impostor, distance)
        if distance >= self.tail.below:
            return counted
        at_join = self._cumulative(self.impostor, self.tail.below)
        return self.tail.fmr(distance) * at_join / self.tail.fmr(self.tail.below)

    def fnmr(self, distance: float) -> float:
        """False non-match rate: share of genuine pairs beyond `distance`."""
        return 1.0 - self._cumulative(self.genuine, distance)

    def impostor_distances(self, fmr_values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The distances at which FMR reaches `fmr_values` (inverse CDF, tail included)."""
        grid = np.linspace(0.0, float(self.edges[-1]), 16_001)
        curve = np.array([self.fmr(float(d)) for d in grid])
        usable = np.concatenate([[True], np.diff(curve) > 0]) & (curve > 0)
        log_curve = np.log(curve[usable])
        wanted = np.log(np.clip(fmr_values, curve[usable][0], 1.0))
        return np.interp(wanted, log_curve, grid[usable])

    def genuine_distances(self, uniform: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Genuine distances for uniform draws in [0, 1) (inverse CDF of the histogram)."""
        cumulative = np.concatenate([[0.0], np.cumsum(self.genuine)]) / self.genuine.sum()
        keep = np.concatenate([[True], np.diff(cumulative) > 0])
        return np.asarray(np.interp(uniform, cumulative[keep], self.edges[keep]), np.float64)

    def fpir(self, distance: float, gallery_size: int) -> float:
        """A stranger is within `distance` of at least one of `gallery_size` members."""
        return -math.expm1(gallery_size * math.log1p(-min(self.fmr(distance), 1 - 1e-15)))

    def acceptance_distance(self, gallery_size: int, fpir_target: float) -> float:
        """The largest distance that keeps FPIR at `gallery_size` within the target."""
        low, high = 0.0, float(self.edges[-1])
        if self.fpir(high, max(gallery_size, 1)) <= fpir_target:
            return high
        for _ in range(60):  # FMR is monotone: bisection to well under the bin width
            middle = (low + high) / 2
            if self.fpir(middle, max(gallery_size, 1)) <= fpir_target:
                low = middle
            else:
                high = middle
        return low

    def _genuine_share(self, within: float, weight: Callable[[float], float]) -> float:
        """The share of genuine pairs within `within`, each bin weighted by weight(centre)."""
        total = 0.0
        for low, high, count in zip(self.edges[:-1], self.edges[1:], self.genuine, strict=True):
            if high <= within and count:
                total += count * weight((low + high) / 2)
        return float(total / self.genuine.sum())

    def margin_failure(self, acceptance: float, gallery_size: int) -> float:
        """Share of members within `acceptance` refused because another member is within
        `margin` of their distance too."""
        others = max(gallery_size - 1, 0)
        return self._genuine_share(acceptance, lambda d: self.fpir(d + self.margin, others))

    def candidate_failure(self, candidate_distance: float, gallery_size: int, k: int) -> float:
        """Share of members not among the `k` nearest candidates within the distance: too far
        from their templates, or crowded out by `k` others nearer (Poisson count of others)."""
        others = max(gallery_size - 1, 0)

        def fewer_than_k_nearer(distance: float) -> float:
            expected = others * self.fmr(distance)
            return sum(math.exp(-expected) * expected**j / math.factorial(j) for j in range(k))

        return 1.0 - self._genuine_share(candidate_distance, fewer_than_k_nearer)

    def best_candidate_distance(
        self, gallery_size: int, k: int, *, low: float, high: float
    ) -> float:
        """The candidate distance in [low, high] that loses the fewest members (a wider one
        lets more strangers crowd them out of the k nearest)."""
        grid = np.arange(low, high + 1e-9, float(self.edges[1] - self.edges[0]))
        if grid.size == 0:
            return high
        failures = [self.candidate_failure(float(d), gallery_size, k) for d in grid]
        return float(grid[int(np.argmin(failures))])

    def fnir(self, acceptance: float, gallery_size: int) -> float:
        """A member is refused: too far from their own templates, or not clearly nearest."""
        return self.fnmr(acceptance) + self.margin_failure(acceptance, gallery_size)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "source": self.source,
            "edges": [round(float(edge), 6) for edge in self.edges],
            "genuine_counts": [int(count) for count in self.genuine],
            "impostor_counts": [int(count) for count in self.impostor],
            "impostor_tail": {
                "mean": self.tail.mean,
                "sd": self.tail.sd,
                "below": self.tail.below,
            },
            "margin": self.margin,
            "curves": self.curves(),
        }

    def curves(self) -> dict[str, list[float]]:
        """FMR(d) and FNMR(d) every 0.05, for people reading the file (not read back)."""
        grid = [round(float(d), 2) for d in np.arange(0.3, 0.851, 0.05)]
        return {
            "distance": grid,
            "fmr": [float(f"{self.fmr(d):.3g}") for d in grid],
            "fnmr": [float(f"{self.fnmr(d):.3g}") for d in grid],
        }


def score_model_from_json(data: dict[str, Any]) -> ScoreModel:
    try:
        if data["format"] != FORMAT_VERSION:
            raise CalibrationFileError(f"unknown calibration format {data['format']!r}")
        tail = data["impostor_tail"]
        return ScoreModel(
            edges=np.asarray(data["edges"], dtype=np.float64),
            genuine=np.asarray(data["genuine_counts"], dtype=np.float64),
            impostor=np.asarray(data["impostor_counts"], dtype=np.float64),
            tail=ImpostorTail(float(tail["mean"]), float(tail["sd"]), float(tail["below"])),
            margin=float(data["margin"]),
            source=dict(data["source"]),
        )
    except (KeyError, TypeError) as error:
        raise CalibrationFileError(f"not a calibration file: {error}") from error


def read_score_model(path: Path) -> ScoreModel:
    return score_model_from_json(json.loads(path.read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def shipped_calibration() -> dict[str, Any]:
    """The calibration measured on LFW with the engine the product runs (read once)."""
    text = resources.files(__package__).joinpath(SHIPPED_FILE).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@lru_cache(maxsize=1)
def shipped_score_model() -> ScoreModel:
    return score_model_from_json(shipped_calibration())
