"""`visage events ...` and `visage bench photos`: operator commands of the FindMe domain."""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from visage.config import get_settings
from visage.core.db import get_database
from visage.core.errors import AppError
from visage.core.tenancy import TenantId, TenantScope
from visage.events import progress, service, uploads
from visage.events.models import PhotoStatus
from visage.faces.bench import FaceCount
from visage.faces.inference.base import MIN_FACE_WIDTH

events_app = typer.Typer(
    help="Event photos (FindMe): indexing and maintenance.", no_args_is_help=True
)
console = Console(width=120)

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif"}
POLL_SECONDS = 1.0


@events_app.command("reindex")
def reindex(
    event: Annotated[str, typer.Argument(help="Event id or access code")],
    failed_only: Annotated[bool, typer.Option(help="Only photos whose indexing failed")] = False,
    wait: Annotated[bool, typer.Option(help="Show progress until every photo is done")] = True,
) -> None:
    """Index an event's photos again (faces are replaced, never duplicated)."""
    settings = get_settings()
    database = get_database()
    try:
        with database.session() as session:
            found = service.find_event_for_operator(session, event)
            found, queued = uploads.reindex_event(session, found.id, failed_only=failed_only)
    except AppError as error:
        console.print(f"[red]{error.message}[/red]")
        raise typer.Exit(1) from error
    console.print(f"Queued {queued} photo(s) of [bold]{found.name}[/bold] for indexing.")
    if not wait or queued == 0:
        return
    warned = False
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TextColumn("{task.fields[faces]} faces, ETA {task.fields[eta]}"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("Indexing", total=queued, faces=0, eta="?")
        while True:
            with database.session() as session:
                scope = TenantScope(session, TenantId(found.tenant_id))
                counts = progress.event_progress(session, scope, found, settings)
            done = counts.by_status[PhotoStatus.INDEXED] + counts.by_status[PhotoStatus.FAILED]
            eta = "?" if counts.eta_seconds is None else f"{counts.eta_seconds:.0f}s"
            bar.update(task, total=counts.total, completed=done, faces=counts.faces_found, eta=eta)
            if done >= counts.total:
                break
            if counts.live_workers == 0 and not warned:
                bar.console.print("[yellow]No worker is running: start one with `visage worker`.")
                warned = True
            time.sleep(POLL_SECONDS)
    failed = counts.by_status[PhotoStatus.FAILED]
    console.print(
        f"Indexed {counts.by_status[PhotoStatus.INDEXED]}, failed {failed}, "
        f"{counts.faces_found} faces found."
    )


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


def _face_recognition_loop(files: list[Path]) -> tuple[float, FaceCount] | None:
    """The same folder through a plain face_recognition loop: (seconds, faces)."""
    try:
        import face_recognition
    except ImportError:
        return None
    started = time.perf_counter()
    faces = FaceCount()
    for path in files:
        image = face_recognition.load_image_file(str(path))
        locations = face_recognition.face_locations(image, number_of_times_to_upsample=1)
        face_recognition.face_encodings(image, locations)
        faces += FaceCount.of_widths([right - left for _, right, _, left in locations])
    return time.perf_counter() - started, faces


def bench_photos(
    directory: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Photo folder")],
    workers: Annotated[int, typer.Option(min=1, help="Indexing processes")] = 2,
) -> None:
    """Index a folder as the workers do and print photos/min and faces/min, beside a plain
    face_recognition loop over the same folder."""
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

    row(f"visage ({workers} workers)", ours_seconds, ours_faces)
    baseline = _face_recognition_loop(files)
    if baseline is not None:
        row("face_recognition loop (1 process)", *baseline)
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
        console.print(f"Speed-up: {baseline[0] / ours_seconds:.2f}x photos/min")
