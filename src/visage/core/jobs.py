"""Procrastinate on the service's PostgreSQL.

Tasks are registered on `jobs` (a blueprint-like App); the worker and the API open it with a
connector to the configured database. `enqueue` defers a job on the caller's SQLAlchemy
connection, so the job commits or rolls back with the data it acts on.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from datetime import datetime
from typing import Any

import procrastinate
from procrastinate.app import WorkerOptions
from procrastinate.jobs import JobDeferrer
from procrastinate.manager import JobManager
from sqlalchemy.orm import Session

from visage.config import Settings

logger = logging.getLogger(__name__)

# Import paths of every module that declares tasks, so a worker knows them all.
TASK_MODULES: list[str] = [
    "visage.identity.email",
    "visage.identity.tasks",
    "visage.events.tasks",
    "visage.faces.tasks",
    "visage.messaging.tasks",
    "visage.notifications.tasks",
    "visage.publishing.tasks",
    "visage.billing.tasks",
]

jobs = procrastinate.App(connector=procrastinate.SyncPsycopgConnector(), import_paths=TASK_MODULES)

# `enqueue` writes on the caller's own synchronous connection through a job manager of its
# own, so it works the same in the API and inside a worker's jobs, whatever `jobs` is
# connected with.
_enqueue_manager = JobManager(procrastinate.SyncPsycopgConnector())


def connected_app(settings: Settings) -> procrastinate.App:
    """`jobs`, connected asynchronously to the configured database (for workers).

    `jobs` itself gets the connector (not a copy made by `with_connector`): periodic tasks
    are deferred through the app their task is bound to, and a copy left that app on its
    synchronous connector, which fails in the worker's event loop.
    """
    from visage.core.db import libpq_url

    for module in TASK_MODULES:  # tasks register on `jobs` when their module is imported
        importlib.import_module(module)
    connector = procrastinate.PsycopgConnector(conninfo=libpq_url(settings))
    jobs.connector = connector
    jobs.job_manager.connector = connector
    return jobs


def enqueue(
    session: Session,
    task: procrastinate.tasks.Task[Any, Any, Any],
    *,
    schedule_at: datetime | None = None,
    **kwargs: Any,
) -> int:
    """Defer `task` inside the session's transaction (to run at `schedule_at`, if given);
    returns the job id."""
    connection = session.connection().connection.driver_connection
    job = task.configure(schedule_at=schedule_at).job
    deferrer = JobDeferrer(_enqueue_manager, job, connection=connection)
    return deferrer.defer(**kwargs)


def enqueue_named(session: Session, task_name: str, *, queue: str, **kwargs: Any) -> int:
    """`enqueue` for a task known by name: lets a service queue a job whose task module
    imports that service (no import cycle)."""
    connection = session.connection().connection.driver_connection
    job = jobs.configure_task(task_name, queue=queue).job
    return JobDeferrer(_enqueue_manager, job, connection=connection).defer(**kwargs)


def queue_depth_by_status(session: Session) -> dict[str, int]:
    from sqlalchemy import text

    rows = session.execute(
        text("SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY status")
    ).all()
    return {status: count for status, count in rows}


async def retry_stalled_jobs(app: procrastinate.App, *, stalled_seconds: float) -> int:
    """Jobs left `doing` by a worker that stopped sending heartbeats (killed, machine lost)
    go back to `todo`, so another worker runs them again; returns how many."""
    stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_seconds)
    count = 0
    for job in stalled:
        await app.job_manager.retry_job(job)
        logger.warning("Retrying job %s (%s) of a stalled worker", job.id, job.task_name)
        count += 1
    return count


async def run_worker(
    app: procrastinate.App,
    settings: Settings,
    *,
    concurrency: int = 1,
    queues: list[str] | None = None,
    install_signal_handlers: bool = True,
) -> None:
    """A worker that also recovers stalled jobs, at startup and then periodically."""

    async def recover_forever() -> None:
        while True:
            await retry_stalled_jobs(app, stalled_seconds=settings.worker_stalled_seconds)
            await asyncio.sleep(settings.worker_stalled_seconds / 2)

    recovery = asyncio.create_task(recover_forever(), name="stalled job recovery")
    try:
        options: WorkerOptions = {
            "concurrency": concurrency,
            "install_signal_handlers": install_signal_handlers,
            "update_heartbeat_interval": settings.worker_heartbeat_seconds,
            "stalled_worker_timeout": settings.worker_stalled_seconds,
        }
        # No `queues` means every queue; an empty list would match none (`= ANY('{}')`).
        if queues:
            options["queues"] = queues
        await app.run_worker_async(**options)
    finally:
        recovery.cancel()
