"""Alembic environment: runs against the service's own engine (embedded or DATABASE_URL)."""

from __future__ import annotations

from alembic import context

from visage.core.db import get_database
from visage.models_registry import Base

target_metadata = Base.metadata


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Procrastinate owns its tables; autogenerate must leave them alone."""
    return not (name or "").startswith("procrastinate_")


def run_migrations_online() -> None:
    connectable = context.config.attributes.get("connection")
    if connectable is not None:
        context.configure(
            connection=connectable, target_metadata=target_metadata, include_object=include_object
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = get_database().engine
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, include_object=include_object
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
