"""The shipped score model (LFW, dlib's embedder): it loads, its curves are monotone, the
decision reads it; on galleries whose distances follow it, strangers get in no more often
than the target and a clearly nearest member is kept; `visage calibrate` rebuilds it."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.images import FACES_DIR
from visage.cli import app
from visage.faces.calibration.face_space import FaceSpace
from visage.faces.calibration.measure import PhotoMeasure, calibration_document
from visage.faces.calibration.model import (
    score_model_from_json,
    shipped_calibration,
    shipped_score_model,
)
from visage.faces.decision import Nearest, judge, operating_point

TARGET = 0.001


def test_the_shipped_file_says_how_it_was_made_and_its_curves_are_monotone() -> None:
    model = shipped_score_model()
    assert "visage calibrate" in model.source["how"]
    assert model.source["genuine_pairs"] > 1000
    assert model.source["impostor_pairs"] > 10**6
    grid = np.linspace(0.0, 1.6, 3201)
    fmr = np.array([model.fmr(float(d)) for d in grid])
    fnmr = np.array([model.fnmr(float(d)) for d in grid])
    assert np.all(np.diff(fmr) >= 0)
    assert np.all(np.diff(fnmr) <= 0)
    assert fmr[0] >= 0
    assert fmr[-1] == pytest.approx(1.0)
    assert fnmr[0] == pytest.approx(1.0)
    assert fnmr[-1] == 0
    # dlib's 1:1 rule: under 1 % of genuine pairs beyond 0.6, under 1 % of impostors within.
    assert model.fnmr(0.6) < 0.01
    assert model.fmr(0.6) < 0.01
    assert 0 < model.margin < 0.2


def test_the_acceptance_distance_tightens_as_the_gallery_grows() -> None:
    model = shipped_score_model()
    sizes = [1, 10, 100, 1_000, 10_000, 100_000]
    distances = [model.acceptance_distance(size, TARGET) for size in sizes]
    assert distances == sorted(distances, reverse=True)
    for size, distance in zip(sizes, distances, strict=True):
        assert model.fpir(distance, size) <= TARGET * 1.0001
        assert model.fpir(distance + 0.01, size) > TARGET
    # The old fixed 0.6 at 1,000 members lets almost every stranger in.
    assert model.fpir(0.6, 1_000) > 0.9


def test_the_margin_rule_keeps_a_clearly_nearest_member_and_doubts_a_close_call() -> None:
    point = operating_point(
        shipped_score_model(), 1_000, fpir_target=TARGET, candidate_distance=0.6, mode="face"
    )
    member, other = uuid.uuid4(), uuid.uuid4()
    nearest = point.acceptance - 0.05
    clear = judge([Nearest(member, nearest), Nearest(other, nearest + 0.2)], point)
    assert (clear.outcome, clear.member_id) == ("MATCH", member)
    close = judge([Nearest(member, nearest), Nearest(other, nearest + point.margin / 2)], point)
    assert (close.outcome, close.member_id) == ("LOW_CONFIDENCE", None)
    assert close.pin_candidates == (member, other)
    far = judge([Nearest(member, 0.9)], point)
    assert far.outcome == "UNKNOWN_FACE"


def test_a_calibration_document_reads_back_as_the_model_it_describes() -> None:
    space = FaceSpace.from_json(shipped_calibration()["face_space"])
    rng = np.random.default_rng(7)
    people = space.members(rng, 150)
    measures = [
        PhotoMeasure(f"person{index}", None, photo.astype(np.float32))
        for _ in range(3)
        for index, photo in enumerate(space.photos(rng, people))
    ]
    document = calibration_document(measures, {"dataset": "synthetic", "how": "test"})
    model = score_model_from_json(document)
    assert model.source["people"] == 150
    assert model.source["genuine_pairs"] == 450
    # The face space reproduces the measured distributions closely enough to be useful.
    shipped = shipped_score_model()
    assert model.source["impostor_mean"] == pytest.approx(shipped.source["impostor_mean"], abs=0.05)
    assert document["measurements"]["enrollment_gate"]["refused_share"] == 0


def test_calibrate_says_when_the_folder_is_too_small(tmp_path: Path) -> None:
    for person, photos in {
        "obama": ["obama.jpg", "obama2.jpg", "obama3.jpg"],
        "biden": ["biden.jpg"],
    }.items():
        (tmp_path / person).mkdir()
        for name in photos:
            (tmp_path / person / name).write_bytes((FACES_DIR / name).read_bytes())
    result = CliRunner().invoke(app, ["calibrate", str(tmp_path)])
    assert result.exit_code == 1
    assert "too few impostor pairs" in result.output


def test_the_shipped_gate_refuses_at_most_two_percent_of_the_calibration_set() -> None:
    gate = shipped_calibration()["measurements"]["enrollment_gate"]
    assert gate["photos"] == 2255
    assert gate["refused_share"] <= 0.02
