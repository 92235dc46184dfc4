"""The N-aware rules of events.matching: the consensus probe, further people, merges."""

from __future__ import annotations

import numpy as np
import pytest

from visage.events import matching
from visage.events.matching import Candidate


def test_the_consensus_probe_is_the_mean_of_the_selfie_and_the_persons_faces() -> None:
    rng = np.random.default_rng(3)
    faces = rng.normal(size=(3, 128))
    selfie = rng.normal(size=128)
    probe, members = matching.consensus_probe(selfie.tolist(), faces.mean(axis=0).tolist(), 3)
    assert members == 4
    assert np.allclose(probe, np.vstack([selfie[None, :], faces]).mean(axis=0))


def test_accepted_distances_shrink_as_the_event_grows() -> None:
    for probe_members, members in ((1, 1), (2, 1), (4, 4)):
        sizes = [10, 1_000, 100_000]
        limits = [
            matching.accept_probe_distance(size, probe_members, members, 0.2) for size in sizes
        ]
        assert limits[0] > limits[1] > limits[2]
        assert all(limit <= matching.MAX_DISTANCE for limit in limits)


def test_the_probe_lines_give_the_budget_they_were_solved_for() -> None:
    limit = matching.accept_probe_distance(5_000, 3, 2, matching.FALSE_MATCH_RATE)
    line = matching.rates_in_use().probe_line(3, 2)
    assert 5_000 * line.fmr(limit) == pytest.approx(matching.FALSE_MATCH_RATE, rel=1e-9)


def test_further_people_are_kept_only_within_their_limit_nearest_first() -> None:
    people = 2_000
    limit = matching.accept_probe_distance(people, 2, 1, matching.FALSE_MATCH_RATE)
    found = matching.further_matches(
        [
            Candidate(0, limit + 0.01, 1),
            Candidate(1, limit - 0.01, 1),
            Candidate(2, limit - 0.05, 1),
        ],
        people,
        probe_members=2,
    )
    assert [candidate.index for candidate in found] == [2, 1]


def test_a_person_absorbs_only_a_near_enough_other() -> None:
    people = 800
    limit = matching.accept_probe_distance(people, 3, 2, matching.FALSE_MERGE_RATE)
    near, far = Candidate(0, limit - 0.005, 2), Candidate(1, limit + 0.005, 2)
    assert matching.people_to_merge([far, near], people, members=3) == 0
    assert matching.people_to_merge([far], people, members=3) is None
    assert matching.people_to_merge([], people, members=3) is None
    # In a larger event the same distance is no longer evidence enough.
    assert matching.people_to_merge([near], people * 100, members=3) is None
