"""Throw-away databases on the test run's embedded PostgreSQL, and a private PostgreSQL cluster
that checks passwords (the machine's own trusts every local connection)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

from tests.conftest import free_port
from visage.config import Settings
from visage.core.db import embedded_server
from visage.core.migrations import alembic_config

DEBIAN_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
DEBIAN_BIN = Path("/usr/lib/postgresql/15/bin")


@contextmanager
def scratch_database(settings: Settings, *, revision: str | None) -> Iterator[str]:
    """A new database with pgvector, migrated up to `revision` (None: left empty); its URL."""
    server = embedded_server(settings.visage_data_dir)
    name = f"scratch_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server.get_uri(driver="psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = str(server.get_uri(database=name))
    engine = create_engine(server.get_uri(database=name, driver="psycopg"))
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
            if revision is not None:
                config = alembic_config()
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
        yield url
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def can_run_password_cluster() -> bool:
    return (DEBIAN_BIN / "initdb").exists() and (os.geteuid() != 0 or shutil.which("runuser"))


@contextmanager
def password_cluster(password: str) -> Iterator[str]:
    """A PostgreSQL 15 cluster with scram-sha-256 authentication; the URL of user `visage`."""
    root = Path(tempfile.mkdtemp(prefix="visage-pw-"))
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_postgres:
        shutil.chown(root, user="postgres")
    password_file = root / "password"
    password_file.write_text(password)
    if as_postgres:
        shutil.chown(password_file, user="postgres")
    port = free_port()
    data = root / "data"

    def run(*arguments: str) -> None:
        subprocess.run([*as_postgres, *arguments], check=True, capture_output=True, timeout=120)

    run(
        str(DEBIAN_BIN / "initdb"),
        "-D",
        str(data),
        "-A",
        "scram-sha-256",
        "-U",
        "visage",
        f"--pwfile={password_file}",
    )
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    log = root / "server.log"
    if as_postgres:
        log.touch()
        shutil.chown(log, user="postgres")
    try:
        # -l: the server's output goes to a file, not to the pipe `run` waits on.
        run(
            str(DEBIAN_BIN / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(log),
            "-w",
            "start",
        )
        yield f"postgresql://visage:{password}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_postgres, str(DEBIAN_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)
