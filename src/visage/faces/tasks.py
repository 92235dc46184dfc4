"""Biometric retention: a daily job erases templates of members inactive too long."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import procrastinate

from visage.core.db import get_database
from visage.core.jobs import jobs
from visage.faces import service

logger = logging.getLogger(__name__)


@jobs.periodic(cron="23 3 * * *", periodic_id="faces.erase_expired_templates")
@jobs.task(
    name="faces.erase_expired_templates",
    queue="maintenance",
    retry=procrastinate.RetryStrategy(max_attempts=5, exponential_wait=2),
)
def erase_expired_templates(timestamp: int) -> None:
    """Idempotent: a second run finds nothing left to erase."""
    now = datetime.fromtimestamp(timestamp, UTC)
    with get_database().session() as session:
        erased = service.erase_expired_templates(session, now)
    logger.info(
        "Retention erased the templates of %d members in %d tenants",
        sum(erased.values()),
        len(erased),
    )
