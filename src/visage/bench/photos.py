"""`visage bench photos DIR`: event photos indexed per minute, as the workers index them (the
in-process pipeline), beside a plain `face_recognition` loop over the same folder; with
`--end-to-end`, also as users see it: from the upload's first byte to 100 % on the progress
endpoint of a running `visage serve` (bench.end_to_end).
"""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from visage.config import get_settings
from visage.faces.bench import FaceCount
from visage.faces.inference.base import MIN_FACE_WIDTH

console = Console(width=120)

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif"}


def _load_engine(workers: int) -> None:
    from visage.faces.inference.engine import load_backend
    from visage.faces.inference.onnx_backend import threads_per_process

    settings = get_settings()
    if settings.face_threads == 0:
        # The workers run at the same time: they share the cores, as under `visage serve`.
        settings = settings.model_copy(update={"face_threads": threads_per_process(workers)})
    load_backend(settings)


def _faces_in(path: Path) -> FaceCount:
    from visage.events.detection import find_faces

    return FaceCount.of_widths(
        [face.width for face in find_faces(path.read_bytes(), get_settings())]
    )


def _face_recognition_loop(files: list[Path]) -> tuple[float, FaceCount, float] | None:
    """The same folder through a plain face_recognition loop: (seconds, faces, CPU seconds)."""
    try:
        import face_recognition
    except ImportError:
        return None
    started, cpu_started = time.perf_counter(), time.process_time()
    faces = FaceCount()
    for path in files:
        image = face_recognition.load_image_file(str(path))
        locations = face_recognition.face_locations(image, number_of_times_to_upsample=1)
        face_recognition.face_encodings(image, locations)
        faces += FaceCount.of_widths([right - left for _, right, _, left in locations])
    return time.perf_counter() - started, faces, time.process_time() - cpu_started


def bench_photos(
    directory: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Photo folder")],
    workers: Annotated[int, typer.Option(min=1, help="Indexing processes")] = 2,
    end_to_end: Annotated[
        bool,
        typer.Option(
            "--end-to-end",
            help="Also upload the folder to a running `visage serve` and time it to 100 % indexed",
        ),
    ] = False,
) -> None:
    """Index a folder as the workers do and print photos/min and faces/min, beside a plain
    face_recognition loop over the same folder (and, with --end-to-end, as users see it)."""
    files = sorted(p for p in directory.rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES)
    if not files:
        console.print(f"[red]No photos in {directory}[/red]")
        raise typer.Exit(1)
    with ProcessPoolExecutor(workers, initializer=_load_engine, initargs=(workers,)) as pool:
        list(pool.map(_faces_in, files[:workers]))  # every process loaded and warm
        started = time.perf_counter()
        ours_faces = sum(pool.map(_faces_in, files), FaceCount())
        ours_seconds = time.perf_counter() - started
    table = Table(title=f"{len(files)} photos from {directory}")
    for column in (
        "pipeline",
        "seconds",
        "photos/min",
        "faces found",
        f"of them ≥ {MIN_FACE_WIDTH} px",
        "faces/min",
    ):
        table.add_column(column)

    def row(name: str, seconds: float, faces: FaceCount) -> None:
        table.add_row(
            name,
            f"{seconds:.1f}",
            f"{len(files) * 60 / seconds:.1f}",
            str(faces.found),
            str(faces.recognizable),
            f"{faces.found * 60 / seconds:.1f}",
        )

    row(f"visage pipeline ({workers} workers)", ours_seconds, ours_faces)
    user_visible = None
    if end_to_end:
        from visage.bench.end_to_end import end_to_end as measure_end_to_end

        user_visible = measure_end_to_end(files, workers, get_settings())
        table.add_row(
            f"visage end to end ({workers} workers)",
            f"{user_visible.seconds:.1f}",
            f"{len(files) * 60 / user_visible.seconds:.1f}",
            str(user_visible.faces),
            "",
            f"{user_visible.faces * 60 / user_visible.seconds:.1f}",
        )
    baseline = _face_recognition_loop(files)
    if baseline is not None:
        row("face_recognition loop (1 process)", baseline[0], baseline[1])
    console.print(table)
    console.print(
        f"Faces under {MIN_FACE_WIDTH} px are stored but never matched by a selfie search "
        "(too small to recognize); Visage's detector does not look for them."
    )
    if baseline is None:
        console.print(
            "face_recognition is not installed, no baseline: `pip install --no-deps "
            "face_recognition` (the models are already here)."
        )
    else:
        console.print(f"Speed-up, pipeline: {baseline[0] / ours_seconds:.2f}x photos/min")
    if user_visible is not None:
        console.print(
            f"End to end: uploads answered after {user_visible.upload_seconds:.1f} s, "
            f"100 % indexed after {user_visible.seconds:.1f} s (first byte to progress 100 %); "
            f"jobs took {user_visible.job_seconds:.2f} s per photo, "
            f"{len(files) * user_visible.job_seconds / workers:.1f} s over {workers} workers"
            + (
                f"; speed-up {baseline[0] / user_visible.seconds:.2f}x photos/min"
                if baseline is not None
                else ""
            )
        )
        if baseline is not None and user_visible.cpu_seconds > 0:
            # The wall clock of one phase depends on what else the shared cores run then; the
            # CPU each side spent hardly does: what the ratio would be on `workers` idle cores.
            console.print(
                f"CPU: end to end {user_visible.cpu_seconds:.1f} s (API, workers, database), "
                f"face_recognition loop {baseline[2]:.1f} s; on {workers} idle cores "
                f"about {baseline[2] * workers / user_visible.cpu_seconds:.2f}x"
            )
        if user_visible.stages:
            console.print(
                "Job stages, mean per photo: "
                + ", ".join(
                    f"{name} {seconds:.3f} s" for name, seconds in user_visible.stages.items()
                )
            )
