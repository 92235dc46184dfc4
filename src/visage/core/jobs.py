"""Procrastinate on the service's PostgreSQL.

Tasks are registered on `jobs` (a blueprint-like App); the worker and the API open it with a
connector to the configured database. `enqueue` defers a job on the caller's SQLAlchemy
connection, so the job commits or rolls back with the data it acts on.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

import procrastinate
from sqlalchemy.orm import Session

from visage.config import Settings

logger = logging.getLogger(__name__)

# Import paths of every module that declares tasks, so a worker knows them all.
TASK_MODULES: list[str] = ["visage.identity.email"]

jobs = procrastinate.App(connector=procrastinate.SyncPsycopgConnector(), import_paths=TASK_MODULES)


def connected_app(settings: Settings) -> procrastinate.App:
    from visage.core.db import libpq_url

    for module in TASK_MODULES:  # tasks register on `jobs` when their module is imported
        importlib.import_module(module)
    return jobs.with_connector(procrastinate.PsycopgConnector(conninfo=libpq_url(settings)))


def enqueue(session: Session, task: procrastinate.tasks.Task[Any, Any, Any], **kwargs: Any) -> int:
    """Defer `task` inside the session's transaction; returns the job id."""
    connection = session.connection().connection.driver_connection
    job_id: int = task.configure(connection=connection).defer(**kwargs)
    return job_id


def queue_depth_by_status(session: Session) -> dict[str, int]:
    from sqlalchemy import text

    rows = session.execute(
        text("SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY status")
    ).all()
    return {status: count for status, count in rows}
