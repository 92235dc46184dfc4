"""The stranger-rate lines: fitted from distances, shipped as a file, swapped for a measurement."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from visage.events import matching
from visage.events.stranger_rates import (
    MAX_MEMBERS,
    FmrLine,
    StrangerRates,
    StrangerRatesFileError,
    fit_fmr_line,
    read_stranger_rates,
    shipped_stranger_rates,
)


def _distances_on_line(line: FmrLine, count: int, seed: int) -> np.ndarray:
    """Distances whose FMR(d) follows `line` wherever it is below 1 (inverse-CDF draws)."""
    fmr = np.random.default_rng(seed).uniform(size=count)
    return (np.log10(fmr) - line.intercept) / line.slope


def _rates(slope: float) -> StrangerRates:
    members = range(1, MAX_MEMBERS + 1)
    return StrangerRates(
        {k: FmrLine(-10.0, slope, 1) for k in members},
        {(j, k): FmrLine(-9.0, slope, 1) for j in members if j > 1 for k in members},
    )


def test_the_fit_finds_the_line_the_strangers_were_drawn_from() -> None:
    truth = FmrLine(-10.0, 13.0, 400_000)
    fitted = fit_fmr_line(_distances_on_line(truth, truth.pairs, seed=4))
    assert fitted.pairs == truth.pairs
    assert fitted.slope == pytest.approx(truth.slope, rel=0.03)
    assert fitted.distance_at(1e-4) == pytest.approx(truth.distance_at(1e-4), abs=0.005)


def test_a_fit_needs_strangers_near_enough() -> None:
    with pytest.raises(ValueError, match="too few strangers"):
        fit_fmr_line(np.full(1_000, 0.9))


def test_the_shipped_rates_load_and_grow_with_the_persons_faces() -> None:
    rates = shipped_stranger_rates()
    assert rates.source["people"] == 585
    # A mean of more faces lies nearer the average face: strangers come nearer.
    assert rates.face_line(1).fmr(0.5) < rates.face_line(4).fmr(0.5)
    assert rates.face_line(9) == rates.face_line(MAX_MEMBERS)
    assert rates.probe_line(1, 2) == rates.face_line(2)


def test_rates_survive_a_file_and_a_wrong_file_is_refused(tmp_path: Path) -> None:
    rates = _rates(12.5)
    path = tmp_path / "rates.json"
    rates.write(path)
    assert read_stranger_rates(path) == rates
    document = json.loads(path.read_text())
    del document["probes"]["4,4"]
    path.write_text(json.dumps(document))
    with pytest.raises(StrangerRatesFileError, match="missing"):
        read_stranger_rates(path)
    path.write_text(json.dumps({**document, "format": 1}))
    with pytest.raises(StrangerRatesFileError, match="format"):
        read_stranger_rates(path)
    with pytest.raises(StrangerRatesFileError, match="grow"):
        _rates(-1.0)


def test_the_rules_judge_with_the_rates_in_use_until_the_block_ends() -> None:
    shipped = matching.accept_distance(500, 2, matching.FALSE_JOIN_RATE)
    steeper = _rates(20.0)
    with matching.using_rates(steeper):
        limit = matching.accept_distance(500, 2, matching.FALSE_JOIN_RATE)
        assert 500 * steeper.face_line(2).fmr(limit) == pytest.approx(matching.FALSE_JOIN_RATE)
    assert matching.accept_distance(500, 2, matching.FALSE_JOIN_RATE) == shipped != limit
