"""Billing jobs: apply one received Stripe event; reconcile every tenant with Stripe."""

from __future__ import annotations

import logging

import procrastinate

from visage.billing import sync
from visage.billing.gateway import StripeGateway
from visage.config import get_settings
from visage.core.db import get_database
from visage.core.jobs import jobs

logger = logging.getLogger(__name__)

BILLING_QUEUE = "billing"


@jobs.task(
    name="billing.process_event",
    queue=BILLING_QUEUE,
    retry=procrastinate.RetryStrategy(max_attempts=8, exponential_wait=2),
)
def process_event(event_id: str) -> None:
    """Idempotent: a processed event is skipped, and applying Stripe's state twice is a no-op."""
    settings = get_settings()
    with get_database().session() as session:
        sync.process_event(session, settings, StripeGateway(settings), event_id)


# Every 15 minutes: a webhook that never arrived (LocalStripe never retries) is repaired
# well within the hour, and past_due members leave their grace period on time.
@jobs.periodic(cron="*/15 * * * *", periodic_id="billing.reconcile")
@jobs.task(
    name="billing.reconcile",
    queue=BILLING_QUEUE,
    retry=procrastinate.RetryStrategy(max_attempts=3, exponential_wait=10),
)
def reconcile(timestamp: int) -> None:
    settings = get_settings()
    if not settings.stripe_secret_key:
        return
    with get_database().session() as session:
        report = sync.reconcile(session, settings, StripeGateway(settings), None)
    logger.info("Billing reconciliation at %s: %s", timestamp, report)
