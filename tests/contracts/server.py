"""Contract servers run for real: uvicorn on a free local port, in a thread of the test run."""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import uvicorn
from fastapi import FastAPI

from tests.conftest import free_port

START_SECONDS = 20


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """`app` listening on 127.0.0.1:<free port>; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name=f"contract-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("contract server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


_shared: dict[str, str] = {}
_shared_servers = ExitStack()
atexit.register(_shared_servers.close)


def shared(name: str, app: Callable[[], FastAPI]) -> str:
    """One server per test process for `name`, however many test folders ask for it (their
    fixtures would otherwise start one each and point the settings at the last)."""
    if name not in _shared:
        _shared[name] = _shared_servers.enter_context(serve(app()))
    return _shared[name]


class Restartable:
    """A contract server a fault test stops (connections refused, as with a service that is
    down) and starts again on the same port, so the settings pointing at it stay right."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.port = free_port()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
            )
        )
        self._thread = threading.Thread(
            target=self._server.run, name=f"contract-{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("contract server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._server = self._thread = None
