"""Publishing one (post, account) delivery, at most once.

1. Under the delivery's row lock: a delivery already published or failed is left alone; one
   whose previous request went unanswered (`unknown`, or `publishing` after a crash) is first
   looked up on the platform (or re-sent with its idempotency key where the API has one).
2. The attempt is recorded (`publishing`, `publish_attempts`) and committed *before* the request,
   so a crash leaves evidence that the next run checks.
3. The outcome: `published` with the platform's id and URL; a rate limit waits for its reset
   (SOCIAL_003); a timeout is `unknown`; a refusal is `failed` with `last_error`.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from visage.config import Settings
from visage.core.db import Database, utcnow
from visage.core.security import create_access_token, decode_access_token
from visage.core.storage import get_storage
from visage.events.models import Photo
from visage.publishing import accounts, platforms
from visage.publishing.models import (
    AccountStatus,
    Delivery,
    DeliveryStatus,
    Platform,
    Post,
    SocialAccount,
)
from visage.publishing.posts import settle_post_status
from visage.publishing.providers import gateway_for
from visage.publishing.providers.base import (
    Credentials,
    GatewayError,
    OutcomeUnknown,
    Outgoing,
    PlatformRejected,
    Published,
    RateLimitedByPlatform,
    TokenRejected,
    TransientFailure,
)
from visage.publishing.safe_images import consent_safe_copy, original_key

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
UNKNOWN_CHECK_DELAY = timedelta(seconds=30)
EXPIRED_ACCOUNT_WAIT = timedelta(minutes=15)
MEDIA_TOKEN_TYPE = "social_media"
MEDIA_LINK_MINUTES = 24 * 60


def copy_key(delivery: Delivery, index: int) -> str:
    return f"publishing/{delivery.tenant_id}/{delivery.post_id}/{delivery.id}/{index}.jpg"


def media_url(settings: Settings, delivery: Delivery, key: str) -> str:
    token = create_access_token(
        settings.secret_key,
        subject=delivery.id,
        expires_minutes=MEDIA_LINK_MINUTES,
        claims={"type": MEDIA_TOKEN_TYPE, "key": key},
    )
    return f"{settings.public_base_url.rstrip('/')}/api/v1/social/media/{token}"


def media_key_from_token(settings: Settings, token: str) -> str:
    return str(decode_access_token(settings.secret_key, token, token_type=MEDIA_TOKEN_TYPE)["key"])


def prepare_outgoing(
    session: Session, settings: Settings, post: Post, delivery: Delivery, account: SocialAccount
) -> Outgoing:
    """The post as this platform gets it: consent-safe, cropped copies of its photos."""
    rules = platforms.RULES[account.platform]
    storage = get_storage()
    images, urls = [], []
    for index, photo_id in enumerate(post.photo_ids):
        photo = session.get_one(Photo, photo_id)
        safe = consent_safe_copy(
            session,
            settings,
            tenant_id=post.tenant_id,
            event_id=photo.event_id,
            original=storage.get(original_key(photo)),
            aspect_range=rules.aspect_range,
            max_bytes=rules.max_image_bytes,
        )
        key = copy_key(delivery, index)
        storage.put(key, safe.data, "image/jpeg")
        images.append(safe.data)
        urls.append(media_url(settings, delivery, key))
    return Outgoing(
        text=post.text,
        images=images,
        image_urls=urls,
        idempotency_key=delivery.idempotency_key,
        since=delivery.attempt_started_at or utcnow(),
    )


def _published(delivery: Delivery, result: Published) -> None:
    delivery.status = DeliveryStatus.PUBLISHED
    delivery.platform_post_id, delivery.platform_url = result.post_id, result.url
    delivery.published_at = utcnow()
    delivery.last_error = delivery.last_error_code = None
    delivery.next_attempt_at = None


def _wait(delivery: Delivery, until: datetime, error: str, code: str) -> None:
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at, delivery.last_error, delivery.last_error_code = until, error, code


@dataclass(frozen=True)
class Attempt:
    delivery_id: uuid.UUID
    platform: Platform
    account: Credentials
    outgoing: Outgoing


def _begin(session: Session, settings: Settings, delivery_id: uuid.UUID) -> Attempt | None:
    """Phase 1, under the row lock. None: nothing to send (done, waiting or resolved)."""
    delivery = session.get(Delivery, delivery_id, with_for_update=True)
    if delivery is None:
        return None
    if delivery.status in (DeliveryStatus.PUBLISHED, DeliveryStatus.FAILED):
        delivery.queued_at = None
        return None
    post = session.get_one(Post, delivery.post_id)
    account = session.get_one(SocialAccount, delivery.account_id)
    if account.status is not AccountStatus.ACTIVE:
        _wait(
            delivery,
            utcnow() + EXPIRED_ACCOUNT_WAIT,
            f"{account.platform.value} account {account.username} is EXPIRED: reconnect it.",
            "SOCIAL_004",
        )
        delivery.queued_at = None
        settle_post_status(session, post.id)
        return None
    # Kept from the first attempt: checks look for posts made since, record keys derive from it.
    delivery.attempt_started_at = delivery.attempt_started_at or utcnow()
    try:
        outgoing = prepare_outgoing(session, settings, post, delivery, account)
    except Exception as error:  # a photo that cannot be read or made safe is never sent
        logger.warning("Delivery %s: photos not publishable: %r", delivery_id, error)
        delivery.status, delivery.queued_at = DeliveryStatus.FAILED, None
        delivery.last_error = f"Photo refused: {error}"[:1000]
        delivery.last_error_code = "CONTENT_004"
        settle_post_status(session, post.id)
        return None
    gateway = gateway_for(account.platform, settings)
    credentials = accounts.credentials(account)
    if delivery.status in (DeliveryStatus.UNKNOWN, DeliveryStatus.PUBLISHING):
        try:
            found = gateway.find_published(credentials, outgoing)
        except GatewayError as error:
            delivery.status, delivery.queued_at = DeliveryStatus.UNKNOWN, None
            delivery.next_attempt_at = utcnow() + UNKNOWN_CHECK_DELAY
            delivery.last_error = f"Check failed, checked again later: {error}"[:1000]
            settle_post_status(session, post.id)
            return None
        if found is not None:
            _published(delivery, found)
            delivery.queued_at = None
            settle_post_status(session, post.id)
            return None
    delivery.status = DeliveryStatus.PUBLISHING
    delivery.publish_attempts += 1
    settle_post_status(session, post.id)
    return Attempt(delivery.id, account.platform, credentials, outgoing)


def _record(
    session: Session, settings: Settings, delivery_id: uuid.UUID, outcome: Published | GatewayError
) -> None:
    """Phase 3: the answer (or its absence) on the delivery."""
    delivery = session.get_one(Delivery, delivery_id, with_for_update=True)
    delivery.queued_at = None
    if isinstance(outcome, Published):
        _published(delivery, outcome)
    elif isinstance(outcome, RateLimitedByPlatform):
        _wait(delivery, outcome.reset_at, f"Rate limit exceeded: {outcome}", "SOCIAL_003")
    elif isinstance(outcome, OutcomeUnknown):
        delivery.status = DeliveryStatus.UNKNOWN
        delivery.next_attempt_at = utcnow() + UNKNOWN_CHECK_DELAY
        delivery.last_error, delivery.last_error_code = str(outcome), "SOCIAL_005"
    elif isinstance(outcome, TransientFailure):
        # Nothing reached the platform: not an attempt. The post waits for it, however long.
        delivery.publish_attempts = max(delivery.publish_attempts - 1, 0)
        retry_at = utcnow() + timedelta(seconds=settings.social_retry_seconds)
        _wait(delivery, retry_at, str(outcome), "SOCIAL_006")
    elif isinstance(outcome, TokenRejected):
        account = session.get_one(SocialAccount, delivery.account_id)
        accounts.refresh(session, account, settings)
        backoff = timedelta(seconds=30 * 2 ** min(delivery.publish_attempts, 8))
        _wait(delivery, utcnow() + backoff, str(outcome), "SOCIAL_002")
    else:
        code = "CONTENT_003" if isinstance(outcome, PlatformRejected) else "SOCIAL_002"
        delivery.status = DeliveryStatus.FAILED
        delivery.last_error, delivery.last_error_code = str(outcome)[:1000], code
    if delivery.status is DeliveryStatus.PENDING and delivery.publish_attempts >= MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
    settle_post_status(session, delivery.post_id)


def deliver(database: Database, settings: Settings, delivery_id: uuid.UUID) -> None:
    with database.session() as session:
        attempt = _begin(session, settings, delivery_id)
    if attempt is None:
        return
    outcome: Published | GatewayError
    try:
        outcome = gateway_for(attempt.platform, settings).publish(attempt.account, attempt.outgoing)
    except GatewayError as error:
        outcome = error
    except Exception as error:  # the request may have gone through: check, never resend blind
        logger.exception("Delivery %s: unexpected failure after sending", delivery_id)
        outcome = OutcomeUnknown(f"{type(error).__name__}: {error}")
    with database.session() as session:
        _record(session, settings, delivery_id, outcome)
