"""Alembic driven from code: `visage migrate`, the head check and the schema revision."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from visage.config import Settings, get_settings
from visage.core.db import Database, get_database, is_embedded

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
logger = logging.getLogger(__name__)
NOT_UP_TO_DATE = "Target database is not up to date — run `visage migrate`"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option(
        "file_template",
        "%%(year)d-%%(month).2d-%%(day).2d-%%(hour).2d%%(minute).2d_%%(slug)s",
    )
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_at_head(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()


def upgrade_to_head(engine: Engine) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class SchemaNotAtHead(RuntimeError):
    pass


def bring_to_head(settings: Settings, database: Database) -> None:
    """The embedded database migrates itself; an external one must already be at head."""
    if is_at_head(database.engine):
        return
    if not is_embedded(settings):
        raise SchemaNotAtHead(NOT_UP_TO_DATE)
    logger.info("Embedded database: applying migrations")
    upgrade_to_head(database.engine)


def migrated_database() -> Database:
    """The process's database brought to head as the app does at start, for the commands that
    use it: on a data dir that `visage serve` never started (a fresh clone) they find their
    tables. `visage` prints a SchemaNotAtHead as the guides' message and exits 2."""
    database = get_database()
    bring_to_head(get_settings(), database)
    return database
