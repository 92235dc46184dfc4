"""FPIR/FNIR per kiosk mode at gallery sizes no test gym has: the decision code on distances
drawn from the calibrated curves, and on labelled probes in galleries filled with synthetic
members of their own face space."""

from __future__ import annotations

import numpy as np
import pytest

from visage.bench.identification import evaluate_probes, simulate
from visage.faces.calibration.face_space import FaceSpace
from visage.faces.calibration.model import shipped_calibration, shipped_score_model

TARGET = 0.001


def test_strangers_get_in_at_no_more_than_the_target_on_a_realistic_gallery() -> None:
    trials = 20_000
    tolerance = 3 * (TARGET / trials) ** 0.5  # three binomial standard deviations
    rates = simulate(
        shipped_score_model(), [1_000], fpir_target=TARGET, candidate_distance=0.6, trials=trials
    )
    by_mode = {rate.mode: rate for rate in rates}
    assert by_mode["face"].fpir <= TARGET + tolerance
    assert by_mode["face_then_pin"].fpir <= TARGET + tolerance
    assert by_mode["face_and_pin"].fpir < by_mode["face"].fpir
    # The PIN modes let in far more members than face alone can at this size.
    assert by_mode["face_then_pin"].fnir < 0.1 < 0.5 < by_mode["face"].fnir
    for rate in rates:  # the closed form on the settings page agrees with the simulation
        assert rate.fnir == pytest.approx(rate.expected_fnir, abs=0.02)


def test_eval_identify_runs_the_decision_on_labelled_probes_in_a_filled_gallery() -> None:
    space = FaceSpace.from_json(shipped_calibration()["face_space"])
    rng = np.random.default_rng(11)
    people = space.members(rng, 80)
    photos = np.concatenate([space.photos(rng, people) for _ in range(3)])
    labels = np.array([f"person{index}" for index in range(80)] * 3)
    rates = evaluate_probes(
        shipped_score_model(), photos, labels, [500], fpir_target=TARGET, candidate_distance=0.6
    )
    by_mode = {rate.mode: rate for rate in rates}
    assert set(by_mode) == {"face", "face_then_pin", "face_and_pin"}
    face = by_mode["face"]
    assert face.gallery_size == 500
    assert (face.strangers, face.members) == (120, 80)  # 40 strangers x 3, 40 members x 2
    assert by_mode["face_then_pin"].fnir <= face.fnir
