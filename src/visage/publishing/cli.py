"""`visage social ...`: operator commands of the publishing domain (the AllIN guide's
`npm run refresh-tokens` and queue checks)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import select

from visage.config import get_settings
from visage.core.db import utcnow
from visage.core.migrations import migrated_database
from visage.identity.models import Tenant
from visage.publishing import accounts, credits, posts

social_app = typer.Typer(help="Social publishing: tokens and the queue.", no_args_is_help=True)
console = Console(width=120)


@social_app.command("refresh-tokens")
def refresh_tokens() -> None:
    """Refresh every token expiring within SOCIAL_REFRESH_AHEAD_MINUTES now; accounts whose
    refresh is refused become EXPIRED and their owners are told."""
    with migrated_database().session() as session:
        run = accounts.refresh_expiring(session, get_settings(), utcnow())
    console.print(f"Refreshed {run.refreshed} account(s); {run.expired} marked EXPIRED.")


@social_app.command("dispatch")
def dispatch() -> None:
    """Queue every due delivery now (the workers publish them)."""
    with migrated_database().session() as session:
        queued = posts.dispatch_due(session, utcnow())
    console.print(f"Queued {queued} delivery job(s).")


@social_app.command("credits")
def monthly_credits(
    tenant: Annotated[str, typer.Option(help="The tenant's short name (slug)")],
    monthly: Annotated[int, typer.Option(min=0, help="AI credits per month")],
) -> None:
    """Give a tenant its own monthly AI allowance (instead of AI_MONTHLY_CREDITS)."""
    settings = get_settings()
    with migrated_database().session() as session:
        found = session.scalar(select(Tenant).where(Tenant.slug == tenant))
        if found is None:
            console.print(f"[red]No tenant {tenant!r}.[/red]")
            raise typer.Exit(1)
        credits.set_monthly_credits(session, found.id, monthly, settings, utcnow())
    console.print(f"{tenant}: {monthly} AI credits a month, from this month.")
