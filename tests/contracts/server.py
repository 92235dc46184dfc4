"""Contract servers run for real: uvicorn on a free local port, in a thread of the test run."""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import uvicorn
from fastapi import FastAPI

from tests.conftest import free_port
from tests.polling import wait_until

START_SECONDS = 20


@contextmanager
def serve(app: FastAPI, port: int | None = None) -> Iterator[str]:
    """`app` listening on 127.0.0.1:`port` (a free one by default); yields its base URL."""
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name=f"contract-{port}", daemon=True)
    thread.start()

    def started() -> bool:
        assert server.started or thread.is_alive(), f"contract server on port {port} exited"
        return server.started

    wait_until(started, seconds=START_SECONDS, step=0.02, what=f"contract server on port {port}")
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
        self._running = ExitStack()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._running.enter_context(serve(self.app, self.port))

    def stop(self) -> None:
        self._running.close()
