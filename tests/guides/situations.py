"""What a guide's reader runs into, made real: a port another process holds, and the
environment of a `visage` command started from a fresh directory."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import free_port

SOURCE_DIR = Path(__file__).resolve().parents[2] / "src"


@contextmanager
def port_held_by_another_process() -> Iterator[tuple[int, int]]:
    """(port, pid) of a process listening on a free port, for as long as the block runs."""
    port = free_port()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import socket, time\n"
            f"s = socket.socket(); s.bind(('127.0.0.1', {port})); s.listen()\n"
            "print('ready', flush=True); time.sleep(300)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        yield port, holder.pid
    finally:
        holder.kill()
        holder.wait()


def visage_env(data_dir: Path, **env: str) -> dict[str, str]:
    """A bare environment (no .env, no test settings) running this tree's sources."""
    return {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(SOURCE_DIR),
        "VISAGE_DATA_DIR": str(data_dir),
        **env,
    }


def run_visage(data_dir: Path, *arguments: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "visage", *arguments],
        capture_output=True,
        text=True,
        cwd=data_dir,
        env=visage_env(data_dir, **env),
        timeout=180,
        check=False,
    )
