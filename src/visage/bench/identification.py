"""FPIR and FNIR of the kiosk decision at gallery sizes no test gym has, per kiosk mode.

`simulate`: the decision code itself (faces/decision.py `judge`) run on nearest-member
distances drawn from the calibrated curves: a stranger's distances to N members are N draws
from the impostor distribution (its k + 1 smallest, drawn as order statistics, so N = 100,000
costs nothing), a member's are one genuine draw and N - 1 impostor draws. Draws are
independent: lookalike families and twins, which make real galleries worse, are not modelled.

`evaluate_probes`: real probe embeddings (a folder per person) against a gallery of real
enrolled people filled up to N with synthetic members of the calibrated face space.

A stranger at a PIN mode is let in only by guessing a candidate's PIN: each PIN typed is
counted as a 1-in-10,000 chance per candidate (4 digits, the shortest allowed).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from visage.faces.calibration.face_space import face_space_of
from visage.faces.calibration.model import ScoreModel
from visage.faces.decision import (
    KIOSK_MODES,
    MAX_PIN_CANDIDATES,
    PIN_MIN_DIGITS,
    FaceVerdict,
    KioskMode,
    Nearest,
    OperatingPoint,
    judge,
    operating_point,
)

Vectors = npt.NDArray[np.float64]
PIN_GUESS = 1 / float(10**PIN_MIN_DIGITS)
SEED = 20261201
PROBE_CHUNK = 256


@dataclass(frozen=True)
class ModeRates:
    mode: KioskMode
    gallery_size: int
    fpir: float  # strangers let in (PIN modes: per PIN a stranger types)
    fnir: float  # members not let in (or let in as someone else)
    pin_asked: float  # members asked for their PIN
    strangers: int
    members: int
    expected_fpir: float  # the closed form the settings page shows
    expected_fnir: float


@dataclass
class _Tally:
    strangers_in: float = 0.0
    members_out: int = 0
    members_asked: int = 0


def _stranger_entry(mode: KioskMode, verdict: FaceVerdict) -> float:
    """The chance a stranger with this verdict gets in."""
    guessed = len(verdict.pin_candidates) * PIN_GUESS
    if mode == "face":
        return float(verdict.outcome == "MATCH")
    if mode == "face_then_pin":
        return 1.0 if verdict.outcome == "MATCH" else guessed
    return guessed


def _member_entry(mode: KioskMode, verdict: FaceVerdict, member: uuid.UUID) -> tuple[bool, bool]:
    """(let in as themselves, asked for the PIN) for a member who knows their PIN."""
    if mode == "face" or (mode == "face_then_pin" and verdict.outcome == "MATCH"):
        return verdict.member_id == member, False
    return member in verdict.pin_candidates, True


class _Run:
    """Each mode judged at its own operating point (face_then_pin's face alone is stricter)."""

    def __init__(self, points: dict[KioskMode, OperatingPoint]) -> None:
        self.points = points
        self.tallies = {mode: _Tally() for mode in points}
        self.strangers = 0
        self.members = 0

    def stranger(self, nearest: Sequence[Nearest]) -> None:
        self.strangers += 1
        for mode, tally in self.tallies.items():
            tally.strangers_in += _stranger_entry(mode, judge(nearest, self.points[mode]))

    def member(self, nearest: Sequence[Nearest], member: uuid.UUID) -> None:
        self.members += 1
        for mode, tally in self.tallies.items():
            entered, asked = _member_entry(mode, judge(nearest, self.points[mode]), member)
            tally.members_out += not entered
            tally.members_asked += asked

    def rates(self) -> list[ModeRates]:
        return [
            ModeRates(
                mode=mode,
                gallery_size=self.points[mode].gallery_size,
                fpir=tally.strangers_in / max(self.strangers, 1),
                fnir=tally.members_out / max(self.members, 1),
                pin_asked=tally.members_asked / max(self.members, 1),
                strangers=self.strangers,
                members=self.members,
                expected_fpir=self.points[mode].expected.fpir,
                expected_fnir=self.points[mode].expected.fnir,
            )
            for mode, tally in self.tallies.items()
        ]


def _points(
    model: ScoreModel, size: int, fpir_target: float, candidate_distance: float
) -> dict[KioskMode, OperatingPoint]:
    return {
        mode: operating_point(
            model, size, fpir_target=fpir_target, candidate_distance=candidate_distance, mode=mode
        )
        for mode in KIOSK_MODES
    }


def smallest_uniforms(rng: np.random.Generator, count: int, size: int, keep: int) -> Vectors:
    """The `keep` smallest of `size` uniform draws, `count` times (sorted order statistics)."""
    keep = min(keep, size)
    draws = np.empty((count, keep))
    below = np.zeros(count)
    for index in range(keep):
        remaining = size - index
        below = 1 - (1 - below) * rng.random(count) ** (1 / remaining)
        draws[:, index] = below
    return draws


def simulate(
    model: ScoreModel,
    sizes: Iterable[int],
    *,
    fpir_target: float,
    candidate_distance: float,
    trials: int = 20_000,
    seed: int = SEED,
) -> list[ModeRates]:
    """Every kiosk mode at every gallery size, on distances drawn from the curves."""
    rng = np.random.default_rng(seed)
    keep = MAX_PIN_CANDIDATES + 1
    ids = [uuid.UUID(int=index) for index in range(keep + 1)]
    results: list[ModeRates] = []
    for size in sizes:
        run = _Run(_points(model, size, fpir_target, candidate_distance))
        strangers = model.impostor_distances(smallest_uniforms(rng, trials, size, keep))
        for row in strangers:
            run.stranger([Nearest(i, float(d)) for i, d in zip(ids, row, strict=False)])
        others = model.impostor_distances(smallest_uniforms(rng, trials, max(size - 1, 1), keep))
        genuine = model.genuine_distances(rng.random(trials))
        member = ids[-1]
        for own, row in zip(genuine, others, strict=True):
            nearest = [Nearest(i, float(d)) for i, d in zip(ids, row, strict=False)]
            if size > 1:
                nearest.append(Nearest(member, float(own)))
            else:
                nearest = [Nearest(member, float(own))]
            run.member(sorted(nearest, key=lambda n: n.distance)[:keep], member)
        results.extend(run.rates())
    return results


def _nearest_rows(
    probes: Vectors, gallery: Vectors, owners: Sequence[uuid.UUID], keep: int
) -> list[list[Nearest]]:
    """The `keep` nearest gallery rows of each probe (one row per member)."""
    rows: list[list[Nearest]] = []
    squared = np.einsum("ij,ij->i", gallery, gallery)
    for start in range(0, len(probes), PROBE_CHUNK):
        chunk = probes[start : start + PROBE_CHUNK]
        distances = np.sqrt(
            np.maximum(
                squared[None, :]
                - 2 * chunk @ gallery.T
                + np.einsum("ij,ij->i", chunk, chunk)[:, None],
                0.0,
            )
        )
        nearest = np.argpartition(distances, min(keep, distances.shape[1] - 1), axis=1)[:, :keep]
        for row, columns in zip(distances, nearest, strict=True):
            ordered = sorted(columns, key=lambda column: row[column])
            rows.append([Nearest(owners[c], float(row[c])) for c in ordered])
    return rows


def evaluate_probes(
    model: ScoreModel,
    embeddings: Vectors,
    labels: npt.NDArray[np.str_],
    sizes: Iterable[int],
    *,
    fpir_target: float,
    candidate_distance: float,
    seed: int = SEED,
) -> list[ModeRates]:
    """Half the people (2+ photos) enrolled with their first photo, their other photos as
    members at the door; the other half's photos as strangers; synthetic members, drawn from
    the face space of these very embeddings, fill the gallery up to each size."""
    rng = np.random.default_rng(seed)
    people = [p for p in np.unique(labels) if np.sum(labels == p) >= 2]
    rng.shuffle(people)
    enrolled, strangers = people[: len(people) // 2], people[len(people) // 2 :]
    owners = [uuid.uuid4() for _ in enrolled]
    gallery = np.stack([embeddings[labels == p][0] for p in enrolled])
    member_probes = [
        (owners[i], e) for i, p in enumerate(enrolled) for e in embeddings[labels == p][1:]
    ]
    stranger_probes = np.concatenate([embeddings[labels == p] for p in strangers])
    center = embeddings.mean(axis=0)
    space, basis = face_space_of(embeddings, labels)
    results: list[ModeRates] = []
    keep = MAX_PIN_CANDIDATES + 1
    for size in sizes:
        fill = max(size - len(gallery), 0)
        synthetic = center + space.members(rng, fill) @ basis.T
        full = np.concatenate([gallery, synthetic])
        full_owners = [*owners, *(uuid.uuid4() for _ in range(fill))]
        run = _Run(_points(model, len(full), fpir_target, candidate_distance))
        for nearest in _nearest_rows(stranger_probes, full, full_owners, keep):
            run.stranger(nearest)
        member_rows = _nearest_rows(
            np.stack([e for _, e in member_probes]), full, full_owners, keep
        )
        for (owner, _), nearest in zip(member_probes, member_rows, strict=True):
            run.member(nearest, owner)
        results.extend(run.rates())
    return results
