"""Stranger rates measured on a composed event, and the halves a held-out measurement uses:
on an event of synthetic people from the shipped face space (no calibration photos needed)."""

from __future__ import annotations

import numpy as np

from visage.bench.lfw_events import ComposedEvent
from visage.bench.people_rates import identity_halves, measured_rates, stranger_distances
from visage.faces.calibration.face_space import FaceSpace
from visage.faces.calibration.model import shipped_calibration

PEOPLE = 300


def _event() -> ComposedEvent:
    space = FaceSpace.from_json(shipped_calibration()["face_space"])
    rng = np.random.default_rng(8)
    members = space.members(rng, PEOPLE)
    owners = np.repeat(np.arange(PEOPLE, dtype=np.int32), 2 + np.arange(PEOPLE) % 4)  # 2-5 each
    faces = space.photos(rng, members[owners])
    details = np.tile([0, 0, 100, 100, 1.0, 50.0, 1.0, 100], (len(faces), 1))
    details[np.flatnonzero(np.diff(owners, prepend=-1) == 0)[::5], 6] = 0.0  # too small to use
    return ComposedEvent(
        faces.astype(np.float32),
        owners,
        np.arange(len(faces), dtype=np.int32),
        details.astype(np.float64),
        space.photos(rng, members).astype(np.float32),
        np.arange(PEOPLE, dtype=np.int32),
        [f"person {index}" for index in range(PEOPLE)],
        len(faces),
    )


def test_the_halves_split_the_people_the_same_way_every_time() -> None:
    event = _event()
    first, second = identity_halves(event)
    assert not set(first.tolist()) & set(second.tolist())
    assert sorted([*first.tolist(), *second.tolist()]) == list(range(PEOPLE))
    assert abs(len(first) - len(second)) <= 1
    again = identity_halves(event)
    assert np.array_equal(first, again[0])
    assert np.array_equal(second, again[1])


def test_a_restricted_event_has_only_the_faces_and_selfies_asked_for() -> None:
    event = _event()
    half, other = identity_halves(event)
    restricted = event.restricted(np.arange(PEOPLE, dtype=np.int32), half)
    assert len(restricted.face_people) == len(event.face_people)
    assert set(restricted.selfie_people.tolist()) == set(half.tolist())
    alone = event.restricted(other, other)
    assert set(alone.face_people.tolist()) == set(other.tolist())
    assert restricted.photo_count == alone.photo_count == event.photo_count


def test_measured_rates_follow_the_strangers_they_were_measured_on() -> None:
    event = _event()
    rates = measured_rates(event, {"dataset": "synthetic"})
    usable = event.face_details[:, 6] > 0
    assert rates.source == {
        "dataset": "synthetic",
        "people": PEOPLE,
        "usable_faces": int(usable.sum()),
        "selfies": PEOPLE,
    }
    singles = stranger_distances(event)[1]
    # Nobody is a stranger to themselves: a selfie meets every other person once per k.
    assert len(singles) == PEOPLE * (PEOPLE - 1)
    measured = float(np.mean(singles <= 0.65))
    assert measured / 2 <= rates.face_line(1).fmr(0.65) <= measured * 2
