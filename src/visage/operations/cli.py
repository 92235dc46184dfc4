"""`visage backup`, `visage restore`, `visage security lockdown|unlock` and `visage bench load`:
the operator's commands of the reliability domain."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from visage.config import get_settings
from visage.core.errors import AppError
from visage.core.migrations import migrated_database
from visage.operations import backup as backups
from visage.operations import lockdown as lockdowns

if TYPE_CHECKING:
    from visage.operations.loadbench import PhotoFigures

console = Console(soft_wrap=True)
security_app = typer.Typer(
    help="Emergency procedures: sign everyone out, lock a tenant.", no_args_is_help=True
)


def _summarized(done: str, step: Callable[[], backups.BackupSummary]) -> backups.BackupSummary:
    try:
        summary = step()
    except (backups.BackupError, subprocess.CalledProcessError) as error:
        console.print(f"[red]{done} failed: {getattr(error, 'stderr', None) or error}[/red]")
        raise typer.Exit(1) from error
    counts = ", ".join(f"{table} {count}" for table, count in summary.counts.items())
    console.print(
        f"{done}: {summary.path}, schema {summary.revision}, {summary.files} files, {counts}"
    )
    return summary


def backup(path: Annotated[Path, typer.Argument(help="A new (or empty) folder")]) -> None:
    """A consistent backup: database dump, stored photos, schema revision, manifest."""
    settings = get_settings()
    summary = _summarized("Backup", lambda: backups.backup(settings, migrated_database(), path))
    if summary.missing_files:
        console.print(f"[yellow]{len(summary.missing_files)} files were already missing[/yellow]")
    console.print(
        "[yellow]It holds personal and biometric data (and, in development, the "
        "secrets): keep it as safe as the database.[/yellow]"
    )


def restore(path: Annotated[Path, typer.Argument(help="A folder made by `visage backup`")]) -> None:
    """Restore a backup into an empty database (a fresh VISAGE_DATA_DIR, or an empty
    DATABASE_URL) and its storage."""
    settings = get_settings()
    _summarized("Restore", lambda: backups.restore(settings, path))


@security_app.command("lockdown")
def lockdown(
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log)")],
    tenant: Annotated[str | None, typer.Option(help="Only this tenant (slug)")] = None,
    deactivate_users: Annotated[
        bool, typer.Option(help="Also deactivate the tenant's users until `unlock`")
    ] = False,
) -> None:
    """Revoke every session and refresh token (of one tenant, or everyone's)."""
    get_settings()
    try:
        with migrated_database().session() as session:
            result = lockdowns.lockdown(
                session, tenant_slug=tenant, deactivate_users=deactivate_users, reason=reason
            )
    except (AppError, ValueError) as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    console.print(
        f"Lockdown: {result.users_signed_out} users signed out, "
        f"{result.sessions_revoked} sessions revoked, {len(result.deactivated)} deactivated"
    )


@security_app.command("unlock")
def unlock(tenant: Annotated[str, typer.Option(help="The tenant (slug)")]) -> None:
    """Reactivate the users a lockdown deactivated; they sign in again."""
    get_settings()
    try:
        with migrated_database().session() as session:
            reactivated = lockdowns.unlock(session, tenant_slug=tenant)
    except AppError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    console.print(f"Unlocked {tenant}: {len(reactivated)} users reactivated")


def _photos_line(photos: PhotoFigures) -> str:
    line = f"photos uploaded {photos.uploaded}, indexed {photos.indexed}, failed {photos.failed}"
    if photos.indexing_p50_s is not None and photos.indexing_p95_s is not None:
        line += (
            f"; upload to searchable p50 {photos.indexing_p50_s:.1f} s, "
            f"p95 {photos.indexing_p95_s:.1f} s"
        )
    return line


def bench_load(
    seconds: Annotated[
        float, typer.Option("--seconds", "--duration", help="How long the load runs, in seconds")
    ] = 60,
    kiosks: Annotated[int, typer.Option(help="Kiosks, one frame every 1.5 s each")] = 20,
    staff: Annotated[int, typer.Option(help="Staff browsing, a page a second each")] = 20,
    attendees: Annotated[int, typer.Option(help="Attendees, a selfie search every 3 s")] = 2,
    uploaders: Annotated[int, typer.Option(help="Photographers, a photo every 2 s")] = 1,
    workers: Annotated[int, typer.Option(help="Workers beside the API")] = 1,
    nobody_share: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Share of kiosk frames with nobody in front (a web kiosk keeps sending "
            "frames while idle; the answer is FACE_001)",
        ),
    ] = 0.0,
    images: Annotated[Path, typer.Option(help="The labeled face images")] = Path(
        "tests/data/faces"
    ),
) -> None:
    """Kiosks, staff, selfie searches and an uploader at once against one `visage serve`:
    per-route percentiles, errors, throughput, CPU. Exits 1 on any 5xx or lost check-in."""
    from rich.table import Table

    from visage.operations.loadbench import KIOSK_PERIOD, run_load

    settings = get_settings()
    report = run_load(
        settings,
        migrated_database(),
        images,
        seconds=seconds,
        kiosks=kiosks,
        staff=staff,
        attendees=attendees,
        uploaders=uploaders,
        workers=workers,
        nobody_share=nobody_share,
    )
    table = Table(
        title=f"{kiosks} kiosks, {staff} staff, {attendees} attendees, {uploaders} uploaders, "
        f"{nobody_share:.0%} of kiosk frames with nobody there, {report.seconds:.0f} s"
    )
    for column in ("route", "requests", "p50 ms", "p95 ms", "p99 ms", "errors"):
        table.add_column(column)
    for row in report.routes:
        errors = ", ".join(f"{status}: {n}" for status, n in sorted(row.errors.items()))
        table.add_row(
            row.route,
            str(row.requests),
            f"{row.p50_ms:.0f}",
            f"{row.p95_ms:.0f}",
            f"{row.p99_ms:.0f}",
            errors or "-",
        )
    console.print(table)
    database_cpu = report.database_cpu_percent
    console.print(
        f"throughput {report.throughput:.1f} req/s; kiosk frames "
        f"{report.kiosk_frames_per_second:.1f}/s of {kiosks / KIOSK_PERIOD:.1f}/s offered\n"
        f"CPU in % of one core: API + workers {report.server_cpu_percent:.0f}%, database "
        + (f"{database_cpu:.0f}%" if database_cpu is not None else "external")
        + f", this load generator {report.load_cpu_percent:.0f}%; machine "
        f"{report.machine_cpu_percent:.0f}% of {os.cpu_count()} cores\n"
        f"{_photos_line(report.photos)}\n"
        f"5xx {report.server_errors}; check-ins answered {report.checkins_answered}, "
        f"lost {report.checkins_lost}; transport errors {report.transport_errors or 0}"
    )
    if report.server_errors or report.checkins_lost:
        raise typer.Exit(1)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)
    app.add_typer(security_app, name="security")
    bench_app.command("load")(bench_load)
