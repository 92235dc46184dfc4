"""FindMe background jobs: index one photo, announce a new photo of a subscriber, delete an
event's or a photo's stored files, purge expired selfie templates."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta

import procrastinate

from visage.config import get_settings
from visage.core.db import get_database
from visage.core.images import ImageTooLarge, ImageUnsupported
from visage.core.jobs import enqueue, jobs
from visage.core.storage import get_storage
from visage.events import indexing, notifications
from visage.events.detection import decode_photo, find_faces_in
from visage.notifications.service import NotificationKind, notify

logger = logging.getLogger(__name__)

PHOTO_QUEUE = "photos"
# The log line `bench photos --end-to-end` reads the stages of each photo's job from.
STAGES_LOG_PREFIX = "Indexed photo"
# Retries after the first run, waiting 2, 4, 8, 16, 32 s: a storage or database hiccup passes.
INDEX_RETRIES = 5
# New photos arrive in bursts (an upload of hundreds): one notice per attendee in this time, its
# link shows them all.
NEW_PHOTOS_COOLDOWN = timedelta(hours=1)


class StageClock:
    """Seconds spent in each stage of a job, for the log (where the indexing time goes)."""

    def __init__(self) -> None:
        self._last = time.perf_counter()
        self.seconds: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = now - self._last
        self._last = now

    def __str__(self) -> str:
        return " ".join(f"{stage}={seconds:.3f}" for stage, seconds in self.seconds.items())


@jobs.task(
    name="events.index_photo",
    queue=PHOTO_QUEUE,
    pass_context=True,
    retry=procrastinate.RetryStrategy(max_attempts=INDEX_RETRIES, exponential_wait=2),
)
def index_photo(context: procrastinate.JobContext, photo_id: str) -> None:
    """The photo decoded once for its renditions and (face search on) its faces. Idempotent:
    the faces are replaced in one transaction, so a retry or a second run (a worker killed
    mid-job) never duplicates them; renditions already made are kept."""
    database, settings = get_database(), get_settings()
    with database.session() as session:
        target = indexing.start_indexing(session, uuid.UUID(photo_id))
    if target is None:
        return
    started = time.monotonic()
    stages = StageClock()
    try:
        storage = get_storage()
        data = storage.get(target.original_key)
        stages.lap("fetch")
        decoded = decode_photo(data, settings)
        stages.lap("decode")
        indexing.store_renditions(storage, target, decoded.rgb, settings)
        stages.lap("renditions")
        if not target.find_faces:
            return
        faces = find_faces_in(data, decoded, settings)
        stages.lap("faces")
        with database.session() as session:
            notifications = indexing.store_faces(
                session,
                target,
                faces,
                started=started,
            )
            for notification_id in notifications:
                enqueue(session, notify_new_photo, notification_id=str(notification_id))
        stages.lap("store")
        logger.info("%s %s: %s", STAGES_LOG_PREFIX, photo_id, stages)
    except (ImageUnsupported, ImageTooLarge) as error:
        # The stored file itself cannot be read: another attempt cannot help.
        with database.session() as session:
            indexing.record_index_failure(session, target.photo_id, error.message, final=True)
    except Exception as error:
        final = context.job.attempts >= INDEX_RETRIES
        logger.warning("Indexing photo %s failed (final=%s): %r", photo_id, final, error)
        with database.session() as session:
            indexing.record_index_failure(
                session, target.photo_id, f"{type(error).__name__}: {error}", final=final
            )
        raise


@jobs.task(
    name="events.notify_new_photo",
    queue=PHOTO_QUEUE,
    retry=procrastinate.RetryStrategy(max_attempts=5, exponential_wait=2),
)
def notify_new_photo(notification_id: str) -> None:
    """Through the one notification hook: the attendee's channel, consent, STOP, pacing and
    quiet hours apply; a retried job tells them once, and a burst of new photos once."""
    settings = get_settings()
    with get_database().session() as session:
        notice = notifications.new_photo_notice(session, uuid.UUID(notification_id), settings)
        if notice is None:
            return
        notified = notify(
            session,
            tenant_id=notice.tenant_id,
            attendee_id=notice.attendee_id,
            kind=NotificationKind.NEW_PHOTOS,
            variables=notice.variables,
            dedupe_key=f"photo-notification:{notification_id}",
            cooldown=NEW_PHOTOS_COOLDOWN,
        )
        if notified.skipped:
            logger.info("Attendee %s not told: %s", notice.attendee_id, notified.skipped)


@jobs.task(
    name="events.delete_stored_files",
    queue=PHOTO_QUEUE,
    retry=procrastinate.RetryStrategy(max_attempts=5, exponential_wait=2),
)
def delete_stored_files(prefix: str) -> None:
    deleted = get_storage().delete_prefix(prefix)
    logger.info("Deleted %d stored files under %s", deleted, prefix)


@jobs.periodic(cron="17 * * * *", periodic_id="events.purge_expired_templates")
@jobs.task(name="events.purge_expired_templates", queue=PHOTO_QUEUE)
def purge_expired_templates(timestamp: int) -> None:
    del timestamp  # the schedule tick; the purge looks at the clock itself
    with get_database().session() as session:
        purged = notifications.purge_expired_templates(session)
    logger.info("Purged %d expired selfie templates", purged)
