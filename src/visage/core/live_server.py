"""A real server on a free loopback port that benchmarks, browser and fault tests talk to over
real HTTP: an app under uvicorn in a thread of this process (`serve_in_thread`), or the whole
`visage serve` (API and workers) in a subprocess (`serve_subprocess`)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from starlette.types import ASGIApp

# Generous: CI starts it on 2 shared cores, with the face model loaded first.
SERVER_START_SECONDS = 180
STOP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve_in_thread(app: ASGIApp, *, lifespan: bool = True) -> Iterator[str]:
    """Run `app` until the block ends; yields its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=free_port(),
            log_config=None,
            access_log=False,
            lifespan="on" if lifespan else "off",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("The server did not start.")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join()


@dataclass(frozen=True)
class ServedVisage:
    base_url: str
    process: subprocess.Popen[bytes]


@contextmanager
def serve_subprocess(
    *,
    workers: int = 1,
    env: Mapping[str, str] | None = None,
    ready_path: str = "/health",
    log_path: Path | None = None,
    start_seconds: float = SERVER_START_SECONDS,
) -> Iterator[ServedVisage]:
    """`visage serve` with `workers` workers on a free loopback port, `env` added to its
    environment (its own URL is PUBLIC_BASE_URL: OAuth callbacks and mailed links come back to
    it), output to `log_path` or nowhere; yields once `ready_path` answers 200. It runs in a
    process group of its own, so the workers it started stop with it."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "visage", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with contextlib.ExitStack() as stack:
        log = stack.enter_context(log_path.open("wb")) if log_path else subprocess.DEVNULL
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and CLI
            [*command, "--workers", str(workers)],
            env={**os.environ, "PUBLIC_BASE_URL": base_url, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        stack.callback(_stop_group, process)
        _wait_until_ready(process, f"{base_url}{ready_path}", start_seconds, log_path)
        yield ServedVisage(base_url, process)


def _wait_until_ready(
    process: subprocess.Popen[bytes], url: str, seconds: float, log_path: Path | None
) -> None:
    see = f"; see {log_path}" if log_path else ""
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"`visage serve` exited during start-up{see}")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"`visage serve` did not become ready{see}")
        time.sleep(0.5)


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
