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
- after each photo, a person it touched absorbs their nearest other person (never one in a
  photo with them, never one the organizer merged or split) when at most FALSE_MERGE_RATE
  wrong people would be as near, measured between means of j and k faces (the same
  FMR_{j,k} lines as below): faces of one person that arrived before any of them was near
  enough to join are one person again once the evidence of their faces adds up;
- a selfie finds its nearest person if at most NEAREST_FALSE_RATE strangers are expected
  that near: it is asked by someone at the event, so the nearest person is theirs unless a
  stranger is more likely than not to be as near (e^-0.5: 61 % chance of none);
- and further people (the same person split in two, until an organizer merges them) by
  consensus: the selfie and the faces of the nearest person it found are one probe, their
  mean, with j = 1 + k faces (`consensus_probe`). It is nearer the person's true face than
  the selfie alone, so a fragment of them that the selfie alone is too far from comes within
  reach, while strangers come nearer too, as measured: FMR_{j,k}(d), probes of j faces
  against people of k (`PROBE_FMR_LINES`, same faces, `visage bench people` prints them).
  A further person is accepted where at most FALSE_MATCH_RATE wrong people are expected over
  the event's N. That budget was chosen on the calibration's precision/recall figures
  (0.05: precision 0.97, recall 0.86; 0.2: 0.96 and 0.90; the bench prints both): a wrong
  further person costs their one or two photos among the three or four a search returns.
So every accepted distance shrinks as the event grows, and a person seen in more photos is
accepted at the distance their own k (and the probe's j) allows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
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
# (j, k) -> (a, b): log10 FMR_{j,k}(d) = a + b * d for a consensus probe of j faces (a selfie
# and j - 1 faces of its person) against the centroid of k faces of a stranger; measured with
# `bench.people.probe_stranger_rates` on the composed LFW event (1,606 usable faces, 584
# selfies: 3.4e5 pairs for (2, 1), 3.1e4 for (4, 4)); j, k >= 4 use the 4 lines.
PROBE_FMR_LINES: dict[tuple[int, int], tuple[float, float]] = {
    (2, 1): (-10.063, 13.533),
    (2, 2): (-8.839, 12.269),
    (2, 3): (-8.177, 11.359),
    (2, 4): (-7.891, 10.971),
    (3, 1): (-9.405, 12.723),
    (3, 2): (-7.934, 11.004),
    (3, 3): (-7.731, 10.851),
    (3, 4): (-7.404, 10.375),
    (4, 1): (-9.188, 12.457),
    (4, 2): (-7.936, 11.083),
    (4, 3): (-7.441, 10.462),
    (4, 4): (-6.985, 9.775),
}
MAX_PROBE_MEMBERS = 4
FALSE_JOIN_RATE = 0.05
FALSE_MERGE_RATE = 0.05
NEAREST_FALSE_RATE = 0.5
FALSE_MATCH_RATE = 0.2
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


def nearest_match(
    candidates: list[Candidate], people: int, *, false_rate: float = NEAREST_FALSE_RATE
) -> Candidate | None:
    """The person a selfie finds first: its nearest, if near enough for the event's size."""
    if not candidates:
        return None
    nearest = min(candidates, key=lambda candidate: candidate.distance)
    if nearest.distance <= accept_distance(people, nearest.members, false_rate):
        return nearest
    return None


def consensus_probe(
    template: Sequence[float], centroid: Sequence[float], members: int
) -> tuple[npt.NDArray[np.float64], int]:
    """(mean of the selfie and the person's `members` faces, how many faces it is the mean of):
    the centroid is the mean of the faces, so no face has to be read."""
    selfie = np.asarray(template, dtype=np.float64)
    person = np.asarray(centroid, dtype=np.float64)
    return (selfie + members * person) / (members + 1), members + 1


def accept_probe_distance(
    people: int, probe_members: int, members: int, false_rate: float
) -> float:
    """The largest distance at which `people` strangers give at most `false_rate` wrong
    matches between a probe of `probe_members` faces and a person of `members` faces."""
    if probe_members <= 1:
        return accept_distance(people, members, false_rate)
    key = (
        min(probe_members, MAX_PROBE_MEMBERS),
        min(max(members, 1), MAX_PROBE_MEMBERS),
    )
    a, b = PROBE_FMR_LINES[key]
    distance = (math.log10(false_rate / max(people, 1)) - a) / b
    return min(MAX_DISTANCE, distance)


def people_to_merge(
    candidates: list[Candidate], people: int, members: int, *, false_rate: float = FALSE_MERGE_RATE
) -> int | None:
    """The index of the person a person of `members` faces absorbs (the nearest other, if near
    enough), else None; `candidates`: distances between the centroids."""
    if not candidates:
        return None
    nearest = min(candidates, key=lambda candidate: candidate.distance)
    limit = accept_probe_distance(people, members, nearest.members, false_rate)
    return nearest.index if nearest.distance <= limit else None


def further_matches(
    candidates: list[Candidate],
    people: int,
    probe_members: int,
    *,
    false_rate: float = FALSE_MATCH_RATE,
) -> list[Candidate]:
    """The people near enough a consensus probe of `probe_members` faces, nearest first;
    `candidates` (their distances to the probe) exclude the person the probe was made of."""
    ordered = sorted(candidates, key=lambda candidate: candidate.distance)
    return [
        candidate
        for candidate in ordered
        if candidate.distance
        <= accept_probe_distance(people, probe_members, candidate.members, false_rate)
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
