"""`visage keys rotate|shred`, `visage eval` and `visage bench faces`."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session

console = Console(soft_wrap=True)
keys_app = typer.Typer(
    help="Tenants' biometric template keys (see docs/biometrics.md).", no_args_is_help=True
)

TenantOption = Annotated[str, typer.Option("--tenant", help="The tenant's slug")]


def _on_tenant_key(
    slug: str, operation: Callable[[Session, uuid.UUID], dict[str, int]], action: str
) -> dict[str, int]:
    """Run a key operation on the tenant named by `slug`, audited, in one transaction."""
    from visage.core.db import get_database
    from visage.identity import audit
    from visage.identity.models import Tenant

    with get_database().session() as session:
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == slug))
        if tenant_id is None:
            console.print(f"[red]No tenant with slug {slug!r}.[/red]")
            raise typer.Exit(1)
        counts = operation(session, tenant_id)
        audit.record(session, action=action, actor=None, tenant_id=tenant_id, details=counts)
    return counts


@keys_app.command("rotate")
def rotate(tenant: TenantOption) -> None:
    """Give the tenant a new template key and re-transform its templates (no images needed)."""
    from visage.faces.protection import rotate_tenant_key

    counts = _on_tenant_key(tenant, rotate_tenant_key, "biometrics.key_rotated")
    for column, rows in counts.items():
        console.print(f"{column}: {rows} re-sealed")
    console.print(f"[green]Template key of {tenant} rotated.[/green]")


@keys_app.command("shred")
def shred(
    tenant: TenantOption,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: this cannot be undone")] = False,
) -> None:
    """Destroy the tenant's template key: its templates and thumbnails become useless."""
    from visage.faces.protection import shred_tenant_key

    if not yes:
        console.print("[red]Crypto-shredding cannot be undone: add --yes to confirm.[/red]")
        raise typer.Exit(2)
    counts = _on_tenant_key(tenant, shred_tenant_key, "biometrics.key_shredded")
    for column, rows in counts.items():
        console.print(f"{column}: {rows} rows disposed of")
    console.print(f"[green]Template key of {tenant} destroyed.[/green]")


def evaluate(
    pairs: Annotated[Path, typer.Argument(help="CSV with columns file_x,file_y,Decision (Yes/No)")],
    images: Annotated[Path, typer.Option("--images", help="Folder the file names are relative to")],
    threshold: Annotated[
        float | None, typer.Option(help="Distance threshold (default FACE_RECOGNITION_TOLERANCE)")
    ] = None,
) -> None:
    """Accuracy, false accept and false reject rates on labeled pairs; the best threshold."""
    from visage.config import get_settings
    from visage.core.images import ImageLimits
    from visage.faces.evaluation import PairsFileError, evaluate, read_pairs

    settings = get_settings()
    configured = threshold if threshold is not None else settings.face_recognition_tolerance
    try:
        report = evaluate(
            read_pairs(pairs), images, configured, ImageLimits.from_settings(settings)
        )
    except (OSError, PairsFileError) as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    console.print(f"Pairs: {report.pairs}, evaluated: {report.evaluated}")
    for label, result in (("At threshold", report.at_threshold), ("Best", report.best)):
        console.print(
            f"{label} {result.threshold:.3f}: accuracy {result.accuracy:.1%}, "
            f"false accept rate {result.false_accept_rate:.1%}, "
            f"false reject rate {result.false_reject_rate:.1%}"
        )
    for name in report.no_face:
        console.print(f"No face found: {name}")
    for name in report.unreadable:
        console.print(f"Unreadable: {name}")
