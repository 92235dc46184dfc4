"""`visage users ...` and `visage tenants ...`: operator commands (the seeds' seed:user and
reset-password). Actions are audited with the actor type "operator"."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from visage.config import get_settings
from visage.core.errors import AppError
from visage.core.migrations import migrated_database
from visage.identity import management
from visage.identity.models import Role
from visage.identity.principal import OPERATOR, ClientInfo

users_app = typer.Typer(help="Create users, reset passwords, (de)activate.", no_args_is_help=True)
tenants_app = typer.Typer(help="Create tenants (organizations).", no_args_is_help=True)
console = Console()

CLI_CLIENT = ClientInfo(ip=None, user_agent="visage-cli")

TenantOption = Annotated[str | None, typer.Option(help="Tenant slug (leave out for a super admin)")]
UsernameOption = Annotated[str, typer.Option(help="Username")]
PasswordOption = Annotated[
    str | None,
    typer.Option(help="Password (leave out to generate one and print it)"),
]


@contextmanager
def _unit_of_work() -> Iterator[Session]:
    """One committed transaction; a refusal is printed and exits with status 1."""
    get_settings()
    database = migrated_database()
    try:
        with database.session() as session:
            yield session
    except AppError as error:
        console.print(f"[red]{error.message}[/red]")
        if error.details:
            console.print(f"[red]{error.details}[/red]")
        raise typer.Exit(1) from error


def _password_or_generated(password: str | None) -> tuple[str, bool]:
    return (password, False) if password else (secrets.token_urlsafe(12), True)


@tenants_app.command("create")
def create_tenant(
    name: Annotated[str, typer.Option(help="Display name")],
    slug: Annotated[str, typer.Option(help="Short unique name used at login")],
) -> None:
    """Create a tenant."""
    with _unit_of_work() as session:
        tenant = management.add_tenant(session, OPERATOR, name=name, slug=slug, client=CLI_CLIENT)
    console.print(f"Tenant [bold]{tenant.slug}[/bold] created: {tenant.id}")


@users_app.command("create")
def create_user(
    username: UsernameOption,
    email: Annotated[str, typer.Option(help="Email address")],
    role: Annotated[Role, typer.Option(help="Role")] = Role.MEMBER,
    tenant: TenantOption = None,
    password: PasswordOption = None,
    full_name: Annotated[str, typer.Option(help="Full name")] = "",
) -> None:
    """Create a user (email already verified: the operator vouches for it)."""
    chosen, generated = _password_or_generated(password)
    with _unit_of_work() as session:
        tenant_id = management.find_tenant(session, tenant).id if tenant else None
        user = management.add_user(
            session,
            get_settings(),
            OPERATOR,
            {
                "username": username,
                "email": email,
                "password": chosen,
                "role": role,
                "full_name": full_name,
                "tenant_id": tenant_id,
                "email_verified": True,
            },
            CLI_CLIENT,
        )
    console.print(f"User [bold]{user.username}[/bold] ({user.role.value}) created: {user.id}")
    if generated:
        console.print(f"Password: [bold]{chosen}[/bold] (shown once)")


@users_app.command("reset-password")
def reset_password(
    username: UsernameOption, tenant: TenantOption = None, password: PasswordOption = None
) -> None:
    """Set a new password; every session of the user ends."""
    chosen, generated = _password_or_generated(password)
    with _unit_of_work() as session:
        user = management.find_user(session, tenant, username)
        management.change_password(session, OPERATOR, user, chosen, CLI_CLIENT)
    console.print(f"Password of [bold]{user.username}[/bold] changed; its sessions ended.")
    if generated:
        console.print(f"Password: [bold]{chosen}[/bold] (shown once)")


def _activation(active: bool) -> Callable[..., None]:
    def command(username: UsernameOption, tenant: TenantOption = None) -> None:
        with _unit_of_work() as session:
            user = management.find_user(session, tenant, username)
            management.set_user_active(session, OPERATOR, user.id, active, CLI_CLIENT)
        console.print(f"User [bold]{username}[/bold] {'activated' if active else 'deactivated'}.")

    command.__doc__ = (
        "Let the user sign in again."
        if active
        else "Stop the user signing in; their sessions end now."
    )
    return command


users_app.command("activate")(_activation(True))
users_app.command("deactivate")(_activation(False))
