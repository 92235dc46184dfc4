"""When faces are one person: the rule shared by people clustering and selfie search.

A person is the mean (centroid) of their faces' templates. How often a stranger's face falls
within distance d of a person's centroid, FMR_k(d), depends on how many faces k the person
has (a mean of more faces lies nearer the average face, so strangers come nearer too, and
the person's own faces come nearer still). It is measured on real photos that are not in
this repository and shipped as a line of log10 FMR_k(d) per k (`events.stranger_rates`).

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
  against people of k (`events.stranger_rates`, same faces; `visage bench people` prints them).
  A further person is accepted where at most FALSE_MATCH_RATE wrong people are expected over
  the event's N. That budget was chosen on the calibration's precision/recall figures
  (0.05: precision 0.97, recall 0.86; 0.2: 0.96 and 0.90; the bench prints both): a wrong
  further person costs their one or two photos among the three or four a search returns.
So every accepted distance shrinks as the event grows, and a person seen in more photos is
accepted at the distance their own k (and the probe's j) allows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from visage.events.stranger_rates import StrangerRates, shipped_stranger_rates

FALSE_JOIN_RATE = 0.05
FALSE_MERGE_RATE = 0.05
NEAREST_FALSE_RATE = 0.5
FALSE_MATCH_RATE = 0.2
# Never accept beyond the kiosk's 1:1 distance, whatever the size of the event.
MAX_DISTANCE = 0.6


_rates_in_use: ContextVar[StrangerRates | None] = ContextVar("stranger_rates", default=None)


def rates_in_use() -> StrangerRates:
    """The shipped stranger rates, unless `using_rates` set others."""
    return _rates_in_use.get() or shipped_stranger_rates()


@contextmanager
def using_rates(rates: StrangerRates) -> Iterator[None]:
    """Judge with `rates` (in this thread) instead of the shipped ones: `visage bench people
    --held-out` measures the service's own code with rates from other people's photos."""
    token = _rates_in_use.set(rates)
    try:
        yield
    finally:
        _rates_in_use.reset(token)


def accept_distance(people: int, members: int, false_rate: float) -> float:
    """The largest distance at which `people` strangers give at most `false_rate` wrong
    matches with a person of `members` faces."""
    return accept_probe_distance(people, 1, members, false_rate)


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
    line = rates_in_use().probe_line(probe_members, members)
    return min(MAX_DISTANCE, line.distance_at(false_rate / max(people, 1)))


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
