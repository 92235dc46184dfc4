"""When faces are one person: the rule shared by people clustering and selfie search.

A person is the mean (centroid) of their faces' templates. How often a stranger's face falls
within distance d of a person's centroid, FMR_k(d), depends on how many faces k the person
has (a mean of more faces lies nearer the average face, so strangers come nearer too, and
the person's own faces come nearer still). It was measured on real photos that are not in
this repository (`visage bench people`, LFW): 1,606 usable faces of 569 people found by the
event detector in 418 composed group photos, against the held-back selfies of 534 of them;
3.1e5 stranger pairs for k = 1, 7.6e4 for k = 4. In the measured range (FMR 1e-5 to 0.2)
log10 FMR_k(d) is close to a straight line, fitted below by least squares; it is used
beyond that range too (events larger than the measurement).

An event with N people offers N strangers to each face: the expected number of wrong people
within d is N x FMR_k(d). A distance is accepted when that expectation stays under a budget:
- a new face joins its nearest person when at most FALSE_JOIN_RATE wrong people would be
  that near (otherwise it starts a new person: a split costs less than a wrong merge);
- a selfie finds its nearest person if at most NEAREST_FALSE_RATE strangers are expected
  that near: it is asked by someone at the event, so the nearest person is theirs unless a
  stranger is more likely than not to be as near (e^-0.5: 61 % chance of none);
- and further people (the same person split in two, until an organizer merges them) where at
  most FALSE_MATCH_RATE wrong people are expected: each adds photos to a right answer, so
  they are held to the precision asked of the search, about 1 - FALSE_MATCH_RATE.
So the accepted distance shrinks as the event grows, and a person seen in more photos is
accepted at the distance their own k allows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# k -> (a, b) with log10 FMR_k(d) = a + b * d; k >= 4 uses the k = 4 line.
IMPOSTOR_FMR_LINES: dict[int, tuple[float, float]] = {
    1: (-10.250, 13.197),
    2: (-9.694, 12.972),
    3: (-9.467, 12.760),
    4: (-9.219, 12.457),
}
MAX_MEMBERS_MEASURED = max(IMPOSTOR_FMR_LINES)
FALSE_JOIN_RATE = 0.05
NEAREST_FALSE_RATE = 0.5
FALSE_MATCH_RATE = 0.05
# Never accept beyond the kiosk's 1:1 distance, whatever the size of the event.
MAX_DISTANCE = 0.6


def impostor_fmr(distance: float, members: int) -> float:
    """Measured rate of strangers within `distance` of a person with `members` faces."""
    a, b = IMPOSTOR_FMR_LINES[min(max(members, 1), MAX_MEMBERS_MEASURED)]
    return float(min(1.0, 10 ** (a + b * distance)))


def accept_distance(people: int, members: int, false_rate: float) -> float:
    """The largest distance at which `people` strangers give at most `false_rate` wrong
    matches with a person of `members` faces."""
    a, b = IMPOSTOR_FMR_LINES[min(max(members, 1), MAX_MEMBERS_MEASURED)]
    distance = (math.log10(false_rate / max(people, 1)) - a) / b
    return min(MAX_DISTANCE, distance)


@dataclass(frozen=True)
class Candidate:
    """A person near a face: their distance from it and how many faces they have."""

    index: int
    distance: float
    members: int


def nearest_person_to_join(
    candidates: list[Candidate], people: int, *, false_rate: float = FALSE_JOIN_RATE
) -> int | None:
    """The index of the person a new face joins (the nearest, if near enough), else None.

    `candidates` exclude people already in the face's photo: nobody is twice in one photo.
    """
    if not candidates:
        return None
    nearest = min(candidates, key=lambda candidate: candidate.distance)
    if nearest.distance <= accept_distance(people, nearest.members, false_rate):
        return nearest.index
    return None


def matching_people(
    candidates: list[Candidate],
    people: int,
    *,
    nearest_false_rate: float = NEAREST_FALSE_RATE,
    false_rate: float = FALSE_MATCH_RATE,
) -> list[Candidate]:
    """The people a selfie matches, nearest first (one person split in two is found twice)."""
    ordered = sorted(candidates, key=lambda candidate: candidate.distance)
    return [
        candidate
        for rank, candidate in enumerate(ordered)
        if candidate.distance
        <= accept_distance(
            people, candidate.members, nearest_false_rate if rank == 0 else false_rate
        )
    ]


def fit_fmr_line(
    impostor_distances: npt.NDArray[np.float64], grid: npt.NDArray[np.float64]
) -> tuple[float, float]:
    """(a, b) of log10 FMR(d) = a + b d over the grid points with at least 20 strangers
    within d (fewer are too noisy to fit)."""
    ordered = np.sort(impostor_distances)
    counts = np.searchsorted(ordered, grid, side="right")
    reliable = counts >= 20
    slope, intercept = np.polyfit(grid[reliable], np.log10(counts[reliable] / len(ordered)), 1)
    return float(intercept), float(slope)
