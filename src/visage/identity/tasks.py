"""Identity housekeeping: a daily job deletes credentials that can no longer be used and
login attempts past their retention (they hold addresses and user agents)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import procrastinate

from visage.core.db import get_database
from visage.core.jobs import jobs
from visage.identity import auth

logger = logging.getLogger(__name__)


@jobs.periodic(cron="41 3 * * *", periodic_id="identity.purge_expired_credentials")
@jobs.task(
    name="identity.purge_expired_credentials",
    queue="maintenance",
    retry=procrastinate.RetryStrategy(max_attempts=5, exponential_wait=2),
)
def purge_expired_credentials(timestamp: int) -> None:
    """Idempotent: a second run finds nothing left to delete."""
    now = datetime.fromtimestamp(timestamp, UTC)
    with get_database().session() as session:
        purged = auth.purge_expired_credentials(session, now)
    logger.info("Purged expired credentials: %s", purged)
