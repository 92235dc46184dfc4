"""The emails the app queued (identity's send-email jobs), read from the job table: what a
test checks instead of a mail server."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from visage.core.db import Database


def queued_emails(database: Database, address: str) -> list[dict[str, Any]]:
    """The emails queued to `address`: each send job's arguments and when it is due."""
    with database.session() as session:
        rows = session.execute(
            text(
                "SELECT args, scheduled_at FROM procrastinate_jobs "
                "WHERE task_name = 'identity.send_email' AND args->>'to' = :to"
            ),
            {"to": address},
        ).all()
    return [{**args, "scheduled_at": scheduled} for args, scheduled in rows]
