"""The notification sweeps: refused check-ins every minute, expiring memberships every hour."""

from __future__ import annotations

import logging

from visage.config import get_settings
from visage.core.db import get_database, utcnow
from visage.core.jobs import jobs
from visage.messaging.tasks import MESSAGING_QUEUE
from visage.notifications import triggers

logger = logging.getLogger(__name__)


@jobs.periodic(cron="* * * * *", periodic_id="notifications.checkin_denied")
@jobs.task(name="notifications.checkin_denied", queue=MESSAGING_QUEUE)
def tell_denied_checkins(timestamp: int) -> None:
    del timestamp  # the schedule tick; the sweep looks at the clock itself
    with get_database().session() as session:
        result = triggers.tell_denied(session, get_settings(), utcnow())
    if result.told:
        logger.info("Told %d members their check-in was refused for payment", result.told)


@jobs.periodic(cron="7 * * * *", periodic_id="notifications.membership_expiring")
@jobs.task(name="notifications.membership_expiring", queue=MESSAGING_QUEUE)
def tell_expiring_memberships(timestamp: int) -> None:
    del timestamp
    with get_database().session() as session:
        result = triggers.tell_expiring(session, get_settings(), utcnow().date())
    if result.told:
        logger.info("Told %d members their membership ends soon", result.told)
