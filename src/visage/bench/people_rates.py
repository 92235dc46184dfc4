"""The stranger rates of `events.stranger_rates`, measured on a composed event of real faces.

Every held-back selfie (and every consensus probe made from it) is set against the centroid
of k faces of each other person of the event, k faces picked at random; the distances are
the strangers' (`stranger_distances`, `probe_stranger_distances`), and a line per k (and per
j, k) is fitted to their log10 FMR (`measured_rates`). `identity_halves` cuts the people in
two disjoint halves, so that rates measured on one can be judged on the other.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from visage.bench.lfw_events import ComposedEvent
from visage.events.stranger_rates import MAX_MEMBERS, StrangerRates, fit_fmr_line

HALVES_SEED = 7  # the same halves on every run


def _faces_of(event: ComposedEvent) -> dict[int, npt.NDArray[np.int64]]:
    usable = event.face_details[:, 6] > 0
    return {
        int(person): np.flatnonzero(usable & (event.face_people == person))
        for person in np.unique(event.face_people[usable])
    }


def _distances_to_centroids(
    event: ComposedEvent,
    probes: npt.NDArray[np.float64],
    probe_people: npt.NDArray[np.int32],
    members: int,
    rng: np.random.Generator,
) -> npt.NDArray[np.float64]:
    """Distances of the probes to the centroid of `members` faces of every other person."""
    distances = []
    for person, theirs in _faces_of(event).items():
        if len(theirs) < members:
            continue
        centroid = event.face_vectors[rng.choice(theirs, members, replace=False)].mean(axis=0)
        others = probe_people != person
        distances.append(np.linalg.norm(probes[others] - centroid, axis=1))
    return np.concatenate(distances).astype(np.float64)


def stranger_distances(event: ComposedEvent, seed: int = 0) -> dict[int, npt.NDArray[np.float64]]:
    """k -> distances of every selfie to the centroid of k faces of each other person."""
    rng = np.random.default_rng(seed)
    selfies = event.selfie_vectors.astype(np.float64)
    return {
        k: _distances_to_centroids(event, selfies, event.selfie_people, k, rng)
        for k in range(1, MAX_MEMBERS + 1)
    }


def probe_stranger_distances(
    event: ComposedEvent, seed: int = 0
) -> dict[tuple[int, int], npt.NDArray[np.float64]]:
    """(j, k) -> distances of probes of j faces (a selfie and j - 1 faces of its person, as
    a search's consensus probe) to the centroid of k faces of each other person; j >= 2."""
    rng = np.random.default_rng(seed)
    faces_of = _faces_of(event)
    distances = {}
    for j in range(2, MAX_MEMBERS + 1):
        probes, probe_people = [], []
        for person, selfie in zip(event.selfie_people, event.selfie_vectors, strict=True):
            theirs = faces_of.get(int(person), np.zeros(0, dtype=np.int64))
            if len(theirs) < j - 1:
                continue
            picked = event.face_vectors[rng.choice(theirs, j - 1, replace=False)]
            probes.append(np.vstack([selfie[None, :], picked]).mean(axis=0))
            probe_people.append(int(person))
        probe_vectors = np.asarray(probes, dtype=np.float64)
        owners = np.asarray(probe_people, dtype=np.int32)
        for k in range(1, MAX_MEMBERS + 1):
            distances[(j, k)] = _distances_to_centroids(event, probe_vectors, owners, k, rng)
    return distances


def measured_rates(event: ComposedEvent, source: dict[str, Any]) -> StrangerRates:
    """The lines fitted to the event's strangers; `source` says what the event was."""
    usable = event.face_details[:, 6] > 0
    return StrangerRates(
        {k: fit_fmr_line(found) for k, found in stranger_distances(event).items()},
        {key: fit_fmr_line(found) for key, found in probe_stranger_distances(event).items()},
        {
            **source,
            "people": len(np.unique(event.face_people[usable])),
            "usable_faces": int(usable.sum()),
            "selfies": len(event.selfie_people),
        },
    )


def identity_halves(event: ComposedEvent) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """Two disjoint halves of the event's people, drawn at random (the same on every run)."""
    order = np.random.default_rng(HALVES_SEED).permutation(len(event.people)).astype(np.int32)
    middle = len(order) // 2
    return np.sort(order[:middle]), np.sort(order[middle:])
