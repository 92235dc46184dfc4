"""`visage eval` on labeled pairs: rates at the threshold, the best threshold, faceless images."""

from __future__ import annotations

import shutil
from pathlib import Path

from PIL import Image
from typer.testing import CliRunner

from tests.images import FACES_DIR
from visage.cli import app
from visage.faces.evaluation import read_pairs

runner = CliRunner()


def test_shipped_pairs_name_existing_images_of_both_kinds() -> None:
    pairs = read_pairs(FACES_DIR / "pairs.csv")
    assert {pair.same for pair in pairs} == {True, False}
    for pair in pairs:
        assert (FACES_DIR / pair.file_x).is_file()
        assert (FACES_DIR / pair.file_y).is_file()


def test_eval_reports_rates_best_threshold_and_faceless_images(tmp_path: Path) -> None:
    for name in ("obama.jpg", "obama2.jpg", "biden.jpg"):
        shutil.copy(FACES_DIR / name, tmp_path / name)
    Image.new("RGB", (320, 240), (90, 120, 160)).save(tmp_path / "wall.jpg")
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(
        "file_x,file_y,Decision\n"
        "obama.jpg,obama2.jpg,Yes\n"
        "obama.jpg,biden.jpg,No\n"
        "obama2.jpg,biden.jpg,no\n"
        "obama2.jpg,obama.jpg,No\n"  # mislabeled on purpose: a false accept at any threshold
        "wall.jpg,obama.jpg,No\n"
        "missing.jpg,obama.jpg,No\n"
    )
    result = runner.invoke(app, ["eval", str(pairs), "--images", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Pairs: 6, evaluated: 4"
    assert lines[1] == (
        "At threshold 0.600: accuracy 75.0%, false accept rate 33.3%, false reject rate 0.0%"
    )
    assert lines[2].startswith("Best ")
    assert lines[2].endswith("accuracy 75.0%, false accept rate 33.3%, false reject rate 0.0%")
    assert lines[3:] == ["No face found: wall.jpg", "Unreadable: missing.jpg"]


def test_eval_refuses_a_file_without_the_columns(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("a,b\nobama.jpg,obama2.jpg\n")
    result = runner.invoke(app, ["eval", str(pairs), "--images", str(FACES_DIR)])
    assert result.exit_code == 1
    assert "missing column(s) file_x, file_y, Decision" in result.output
