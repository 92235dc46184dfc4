"""`visage bench engine`: the command only; the benchmark loads the engines when it runs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer


def bench_engine(
    images: Annotated[
        Path, typer.Option(help="Folder of the portraits the scenes are composed of")
    ] = Path("tests/data/faces"),
    repeats: Annotated[int, typer.Option(min=1, help="Timed runs per figure (median)")] = 5,
) -> None:
    """The face engines side by side: ONNX vs dlib vs the face_recognition loop."""
    from visage.config import get_settings
    from visage.faces.inference import onnx_bench

    if not (images / onnx_bench.PORTRAITS[0]).is_file():
        typer.echo(f"No portraits in {images}: pass --images tests/data/faces.", err=True)
        raise typer.Exit(2)
    cores = len(os.sched_getaffinity(0))
    typer.echo(f"{cores} cores, load average {os.getloadavg()[0]:.1f} (other processes count)")
    for row in onnx_bench.run(images, get_settings().models_dir, repeats=repeats):
        typer.echo(row.line())
