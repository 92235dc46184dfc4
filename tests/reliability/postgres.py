"""A PostgreSQL of the test's own, reached over TCP like an external database (DATABASE_URL),
that the test can stop, kill and start again: built from the embedded server's binaries."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.conftest import free_port
from visage.operations.pgtools import run_postgres_program, server_user


class TcpPostgres:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="visage-pg-"))
        self.pgdata = self.root / "pgdata"
        self.port = free_port()
        user = server_user()
        if user:
            shutil.chown(self.root, user)
        run_postgres_program(
            "initdb",
            "--auth=trust",
            "--encoding=utf8",
            "-U",
            "postgres",
            "-D",
            str(self.pgdata),
            as_server_user=True,
        )

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root} -c max_connections=200"
        log = str(self.root / "log")
        run_postgres_program(
            "pg_ctl",
            "-w",
            "-D",
            str(self.pgdata),
            "-o",
            options,
            "-l",
            log,
            "start",
            as_server_user=True,
        )

    def stop(self, mode: str = "fast") -> None:
        run_postgres_program(
            "pg_ctl", "-w", "-D", str(self.pgdata), "-m", mode, "stop", as_server_user=True
        )

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # not running
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
