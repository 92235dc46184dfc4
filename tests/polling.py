"""Waiting for what happens outside the test's own thread (a worker's job, a webhook, a server
starting, another thread) by asking again until it holds: the one polling loop of the tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

Result = TypeVar("Result")


def wait_until(
    condition: Callable[[], Result | None],
    *,
    seconds: float = 60,
    step: float = 0.25,
    what: str | Callable[[], str] = "",
) -> Result:
    """Call `condition` every `step` seconds until it returns something truthy, and return
    that; fail the test once `seconds` have passed. `what` names what is awaited in the
    failure, or describes it then (a callable: the state at the time out). A condition that
    can tell it will never hold (a process exited) raises to stop the wait early."""
    deadline = time.monotonic() + seconds
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            awaited = what() if callable(what) else what or condition
            raise AssertionError(f"timed out after {seconds:g} s waiting for {awaited}")
        time.sleep(step)
