"""Worker processes a fault test can kill: real `visage worker` subprocesses with a short
heartbeat, so a worker killed with -9 is declared dead (and its job retried) within seconds.

Any domain's "kill -9 mid-job, finished exactly once" test is three calls: `start_worker(queue)`,
`kill_when(worker, <the job has started its side effect>)`, then `start_worker(queue)` again
and wait for `job_status(...) == "succeeded"`; the test then counts the side effect
(tests/events/test_indexing_failures.py: faces of a photo; billing, messaging and publishing:
applied webhooks, sent messages, published posts).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable

from sqlalchemy import text

from tests.polling import wait_until
from visage.core.db import Database

HEARTBEAT_ENV = {"WORKER_HEARTBEAT_SECONDS": "0.5", "WORKER_STALLED_SECONDS": "2"}


def start_worker(
    *queues: str, env: dict[str, str] | None = None, quick_failover: bool = True
) -> subprocess.Popen[bytes]:
    """quick_failover: a 2 s stall declares a worker dead (kill tests); off, the service's
    defaults, under which a busy machine's slow heartbeat never looks like a death."""
    queue_options = [option for queue in queues for option in ("--queue", queue)]
    return subprocess.Popen(
        [sys.executable, "-m", "visage", "worker", *queue_options],
        env={**os.environ, **(HEARTBEAT_ENV if quick_failover else {}), **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def kill_when(
    worker: subprocess.Popen[bytes], started: Callable[[], bool], seconds: float = 60
) -> None:
    """SIGKILL the worker as soon as `started()` holds: no chance to clean up, as with a lost
    machine."""
    try:
        wait_until(started, seconds=seconds, step=0.02, what="the job to start")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def job_statuses(database: Database, task_name: str, argument: str, value: str) -> list[str]:
    """The Procrastinate statuses of every job of `task_name` whose `argument` is `value`."""
    with database.session() as session:
        return list(
            session.scalars(
                text(
                    "SELECT status::text FROM procrastinate_jobs "
                    "WHERE task_name = :task AND args->>:argument = :value ORDER BY id"
                ),
                {"task": task_name, "argument": argument, "value": value},
            )
        )


def job_status(database: Database, task_name: str, argument: str, value: str) -> str | None:
    """The status of the one job of `task_name` whose `argument` is `value`."""
    statuses = job_statuses(database, task_name, argument, value)
    assert len(statuses) <= 1, f"{len(statuses)} jobs of {task_name} for {value}"
    return statuses[0] if statuses else None
