"""Publishing jobs: deliver one (post, account), dispatch what is due every minute, refresh
tokens ahead of expiry."""

from __future__ import annotations

import logging
import uuid

from visage.config import get_settings
from visage.core.db import get_database, utcnow
from visage.core.jobs import jobs
from visage.publishing import accounts, delivery, posts

logger = logging.getLogger(__name__)


# No automatic retry: a retry is decided by the delivery itself (after a rate limit's reset,
# after checking an unknown outcome), through the dispatcher.
@jobs.task(name=posts.DELIVER_TASK, queue=posts.PUBLISHING_QUEUE)
def deliver(delivery_id: str) -> None:
    delivery.deliver(get_database(), get_settings(), uuid.UUID(delivery_id))


@jobs.periodic(cron="* * * * *", periodic_id="publishing.dispatch_due")
@jobs.task(name="publishing.dispatch_due", queue=posts.PUBLISHING_QUEUE)
def dispatch_due(timestamp: int) -> None:
    del timestamp  # the schedule tick; what is due is decided by the clock
    with get_database().session() as session:
        queued = posts.dispatch_due(session, utcnow())
    if queued:
        logger.info("[QUEUE] %d deliveries queued", queued)


@jobs.periodic(cron="*/10 * * * *", periodic_id="publishing.refresh_tokens")
@jobs.task(name="publishing.refresh_tokens", queue=posts.PUBLISHING_QUEUE)
def refresh_tokens(timestamp: int) -> None:
    del timestamp
    with get_database().session() as session:
        run = accounts.refresh_expiring(session, get_settings(), utcnow())
    logger.info("[SOCIAL] tokens refreshed: %d, expired: %d", run.refreshed, run.expired)
