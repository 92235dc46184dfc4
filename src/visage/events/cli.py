"""`visage events ...`: operator commands of the FindMe domain."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from visage.config import get_settings
from visage.core.errors import AppError
from visage.core.migrations import migrated_database
from visage.core.tenancy import TenantId, TenantScope
from visage.events import people, progress, service, uploads
from visage.events.models import PhotoStatus

events_app = typer.Typer(
    help="Event photos (FindMe): indexing and maintenance.", no_args_is_help=True
)
console = Console(width=120)

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif"}
POLL_SECONDS = 1.0


@events_app.command("group-people")
def group_people(
    event: Annotated[str, typer.Argument(help="Event id or access code")],
) -> None:
    """Group into people the faces indexed before people existed (no photo is re-read)."""
    with migrated_database().session() as session:
        try:
            found = service.find_event_for_operator(session, event)
        except AppError as error:
            console.print(f"[red]{error.message}[/red]")
            raise typer.Exit(1) from error
        photos = people.group_ungrouped(session, found.id)
    console.print(f"Grouped the faces of {photos} photo(s) of [bold]{found.name}[/bold].")


@events_app.command("reindex")
def reindex(
    event: Annotated[str, typer.Argument(help="Event id or access code")],
    failed_only: Annotated[bool, typer.Option(help="Only photos whose indexing failed")] = False,
    wait: Annotated[bool, typer.Option(help="Show progress until every photo is done")] = True,
) -> None:
    """Index an event's photos again (faces are replaced, never duplicated)."""
    settings = get_settings()
    database = migrated_database()
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
