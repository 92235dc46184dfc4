"""Messaging jobs: deliver one message (once), apply one webhook event."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import procrastinate
from sqlalchemy.orm import Session

from visage.config import get_settings
from visage.core.db import get_database
from visage.core.jobs import enqueue, jobs
from visage.core.tenancy import TenantScope
from visage.messaging import inbound, service
from visage.messaging.gateway import provider
from visage.messaging.models import Message

logger = logging.getLogger(__name__)

MESSAGING_QUEUE = "messaging"


@jobs.task(name="messaging.send_message", queue=MESSAGING_QUEUE)
def send_message(message_id: str) -> None:
    """No retry strategy on purpose: a retry must never repeat a send. A message that cannot
    go yet (WAHA down, session not working, pacing, quiet hours) is deferred again."""
    settings, database = get_settings(), get_database()
    gateway = provider(settings)
    identifier = uuid.UUID(message_id)
    with database.session() as session:
        ready = service.prepare(session, gateway, settings, identifier)
        if isinstance(ready, service.Wait):
            logger.info("Message %s waits until %s: %s", message_id, ready.until, ready.reason)
            enqueue(session, send_message, schedule_at=ready.until, message_id=message_id)
    if not isinstance(ready, service.Attempt):
        return
    outcome = service.send(gateway, ready)
    with database.session() as session:
        if service.record_outcome(session, identifier, outcome):
            later = service.retry_time(settings)
            enqueue(session, send_message, schedule_at=later, message_id=message_id)


def queue_sending(session: Session, message_ids: list[uuid.UUID]) -> None:
    for message_id in message_ids:
        enqueue(session, send_message, message_id=str(message_id))


def submit(
    scope: TenantScope, outgoing: service.Outgoing, *, session_id: uuid.UUID | None = None
) -> Message:
    """Queue the message and its send job (once: a repeated idempotency key queues nothing)."""
    message, created = service.queue_message(scope, outgoing, session_id=session_id)
    if created:
        queue_sending(scope.session, [message.id])
    return message


@jobs.task(
    name="messaging.process_webhook",
    queue=MESSAGING_QUEUE,
    retry=procrastinate.RetryStrategy(max_attempts=8, wait=5),
)
def process_webhook(event_id: str) -> None:
    settings = get_settings()
    with get_database().session() as session:
        to_send = inbound.process(session, provider(settings), settings, uuid.UUID(event_id))
        queue_sending(session, to_send)


# A message waits at least this long without a job before the sweep re-queues it.
STRANDED_AFTER = timedelta(minutes=2)


@jobs.periodic(cron="* * * * *", periodic_id="messaging.requeue_stranded")
@jobs.task(name="messaging.requeue_stranded", queue=MESSAGING_QUEUE)
def requeue_stranded(timestamp: int) -> None:
    del timestamp  # the schedule tick; the sweep looks at the clock itself
    with get_database().session() as session:
        found = service.stranded(session, older_than=STRANDED_AFTER)
        queue_sending(session, found)
    if found:
        logger.warning("Re-queued %d messages whose send job was lost", len(found))
