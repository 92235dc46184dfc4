"""`visage billing sync`: reconcile our subscriptions with Stripe now."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import select

from visage.billing import sync
from visage.billing.gateway import StripeGateway
from visage.config import ConfigError, get_settings
from visage.core.errors import AppError
from visage.core.migrations import migrated_database
from visage.identity.models import Tenant

billing_app = typer.Typer(help="Stripe billing.", no_args_is_help=True)
console = Console(soft_wrap=True)


@billing_app.command("sync")
def sync_command(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant (slug)")] = None,
) -> None:
    """List the subscriptions in Stripe and correct any drift (doors follow Stripe)."""
    try:
        settings = get_settings()
        gateway = StripeGateway(settings)
        with migrated_database().session() as session:
            tenant_id = None
            if tenant is not None:
                tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == tenant))
                if tenant_id is None:
                    console.print(f"[red]No tenant with slug {tenant!r}[/red]")
                    raise typer.Exit(2)
            report = sync.reconcile(session, settings, gateway, tenant_id)
    except (ConfigError, AppError) as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    console.print(
        f"Checked {report.checked} subscription(s): corrected {report.corrected}, "
        f"adopted {report.adopted}"
    )
