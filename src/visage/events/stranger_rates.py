"""Stranger rates: how often a stranger comes within distance d of a person of an event.

FMR_k(d): a selfie against the centroid (mean) of k faces of someone else; FMR_{j,k}(d): a
consensus probe, the mean of j faces of one person (a selfie and j - 1 of their faces),
against the centroid of k faces of someone else. Both are measured on real photos that are
not in this repository and shipped as `stranger_rates_lfw.json`, which
`visage bench people DIR --write-rates FILE` rebuilds (`bench.people_rates` measures them).

In the measured range (FMR 1e-5 to 0.2) log10 FMR(d) is close to a straight line, fitted by
least squares; it is used beyond that range too (events larger than the measurement). The
curve bends down in the tail, so the line over-states the nearest strangers (it errs towards
precision), and the more pairs it is fitted on, the further into the tail it reaches and the
less it over-states: lines of half the people are stricter than those shipped. A normal
tail and a line fitted to the tail alone were tried on held-out halves and not kept
(docs/decisions.md, "held-out stranger rates").
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

SHIPPED_FILE = "stranger_rates_lfw.json"
FORMAT_VERSION = 2
# Faces of a person (and of a probe) measured; more use the line of this many.
MAX_MEMBERS = 4
# Distances at which the curve is read for the fit, and what counts as enough strangers there.
FIT_GRID = np.round(np.arange(0.30, 0.72, 0.02), 2)
MIN_STRANGERS = 20


class StrangerRatesFileError(ValueError):
    pass


@dataclass(frozen=True)
class FmrLine:
    """log10 FMR(d) = intercept + slope * d, fitted on `pairs` stranger distances."""

    intercept: float
    slope: float
    pairs: int

    def fmr(self, distance: float) -> float:
        return float(min(1.0, 10 ** (self.intercept + self.slope * distance)))

    def distance_at(self, fmr: float) -> float:
        """The distance at which FMR reaches `fmr`."""
        return (math.log10(fmr) - self.intercept) / self.slope

    def to_json(self) -> dict[str, Any]:
        return {
            "intercept": round(self.intercept, 4),
            "slope": round(self.slope, 4),
            "pairs": self.pairs,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FmrLine:
        return cls(float(data["intercept"]), float(data["slope"]), int(data["pairs"]))


def fit_fmr_line(stranger_distances: npt.NDArray[np.float64]) -> FmrLine:
    """The line through the measured log10 FMR(d) where at least MIN_STRANGERS are within d
    (fewer are too noisy to fit)."""
    ordered = np.sort(stranger_distances)
    counts = np.searchsorted(ordered, FIT_GRID, side="right").astype(np.float64)
    fmr = counts / len(ordered)
    fitted = counts >= MIN_STRANGERS
    if fitted.sum() < 3:
        raise ValueError("too few strangers near enough to fit a line")
    slope, intercept = np.polyfit(FIT_GRID[fitted], np.log10(fmr[fitted]), 1)
    return FmrLine(float(intercept), float(slope), len(ordered))


@dataclass(frozen=True)
class StrangerRates:
    """FMR_k lines (k = 1..MAX_MEMBERS) and FMR_{j,k} lines (j = 2..MAX_MEMBERS)."""

    faces: dict[int, FmrLine]
    probes: dict[tuple[int, int], FmrLine]
    source: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        members = range(1, MAX_MEMBERS + 1)
        wanted_probes = {(j, k) for j in members if j > 1 for k in members}
        if set(self.faces) != set(members) or set(self.probes) != wanted_probes:
            raise StrangerRatesFileError(f"lines for 1..{MAX_MEMBERS} faces are missing")
        if any(line.slope <= 0 for line in (*self.faces.values(), *self.probes.values())):
            raise StrangerRatesFileError("a stranger rate must grow with the distance")

    def face_line(self, members: int) -> FmrLine:
        """FMR_k: a selfie against a person of `members` faces."""
        return self.faces[min(max(members, 1), MAX_MEMBERS)]

    def probe_line(self, probe_members: int, members: int) -> FmrLine:
        """FMR_{j,k}: a mean of `probe_members` faces against a person of `members` faces."""
        if probe_members <= 1:
            return self.face_line(members)
        return self.probes[(min(probe_members, MAX_MEMBERS), min(max(members, 1), MAX_MEMBERS))]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "source": self.source,
            "faces": {str(k): line.to_json() for k, line in sorted(self.faces.items())},
            "probes": {f"{j},{k}": line.to_json() for (j, k), line in sorted(self.probes.items())},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StrangerRates:
        if data.get("format") != FORMAT_VERSION:
            raise StrangerRatesFileError(f"format {data.get('format')!r}, not {FORMAT_VERSION}")
        try:
            faces = {int(k): FmrLine.from_json(line) for k, line in data["faces"].items()}
            probes = {
                (int(key.split(",")[0]), int(key.split(",")[1])): FmrLine.from_json(line)
                for key, line in data["probes"].items()
            }
        except (KeyError, ValueError, TypeError, IndexError) as error:
            raise StrangerRatesFileError(f"not a stranger-rates file: {error}") from error
        return cls(faces, probes, dict(data.get("source", {})))

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n")


def read_stranger_rates(path: Path) -> StrangerRates:
    return StrangerRates.from_json(json.loads(path.read_text()))


@lru_cache(maxsize=1)
def shipped_stranger_rates() -> StrangerRates:
    text = resources.files("visage.events").joinpath(SHIPPED_FILE).read_text()
    return StrangerRates.from_json(json.loads(text))
