"""Posts: validated per target before they are accepted, stored in UTC with their IANA zone,
dispatched when due (each (post, account) delivery queued at most once at a time)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from visage.config import Settings
from visage.core.db import utcnow
from visage.core.jobs import enqueue_named
from visage.events.models import Photo
from visage.identity.principal import Principal
from visage.publishing import platforms
from visage.publishing.errors import (
    ContentInvalid,
    ContentViolatesRules,
    PlatformUnreachable,
    PostNotEditable,
)
from visage.publishing.models import (
    AccountStatus,
    Delivery,
    DeliveryStatus,
    Platform,
    Post,
    PostStatus,
    SocialAccount,
)
from visage.publishing.providers import gateway_for

DISPATCH_BATCH = 200
# A delivery queued this long ago whose job never finished (a worker lost between the
# request and the record, a job that crashed) is queued again: its run checks first.
STALE_QUEUE = timedelta(minutes=30)
PUBLISHING_QUEUE = "publishing"
DELIVER_TASK = "publishing.deliver"


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ContentInvalid(
            f"Unknown time zone {name!r}: use an IANA name such as Europe/Paris.",
            details={"field": "timezone"},
        ) from error


def to_utc(moment: datetime, zone_name: str) -> datetime:
    """A local wall time in `zone_name` (or an aware time) as UTC. A wall time that does not
    exist (skipped by a DST change) is refused rather than silently shifted."""
    tz = zone(zone_name)
    try:
        if moment.tzinfo is not None:
            return moment.astimezone(UTC)
        utc = moment.replace(tzinfo=tz).astimezone(UTC)
        round_trip = utc.astimezone(tz).replace(tzinfo=None)
    except OverflowError as error:
        raise ContentInvalid(
            "scheduled_for is out of range.", details={"field": "scheduled_for"}
        ) from error
    if round_trip != moment:
        raise ContentInvalid(
            f"{moment.isoformat()} does not exist in {zone_name} (daylight saving change).",
            details={"field": "scheduled_for"},
        )
    return utc


@dataclass(frozen=True)
class PostDraft:
    account_ids: list[uuid.UUID]
    text: str
    photo_ids: list[uuid.UUID]
    scheduled_for: datetime | None
    timezone: str


def _accounts(session: Session, principal: Principal, ids: list[uuid.UUID]) -> list[SocialAccount]:
    scope = principal.scope(session)
    accounts = [scope.get(SocialAccount, account_id, what="Social account") for account_id in ids]
    expired = [a.username for a in accounts if a.status is not AccountStatus.ACTIVE]
    if expired:
        raise ContentInvalid(
            f"Reconnect these accounts first: {', '.join(expired)} (EXPIRED).",
            details={"accounts": expired},
        )
    return accounts


def check_rules(text: str, targets: list[Platform], image_count: int) -> None:
    found = [v for p in targets for v in platforms.violations(text, p, image_count)]
    if found:
        first = found[0]
        raise ContentViolatesRules(
            f"Content violates platform rules: {first.message} (rule: {first.rule})",
            details={"violations": [v.as_dict() for v in found]},
        )


def create_post(session: Session, principal: Principal, draft: PostDraft) -> Post:
    scope = principal.scope(session)
    accounts = _accounts(session, principal, list(dict.fromkeys(draft.account_ids)))
    photo_ids = list(dict.fromkeys(draft.photo_ids))
    for photo_id in photo_ids:
        scope.get(Photo, photo_id, what="Photo")
    check_rules(draft.text, [a.platform for a in accounts], len(photo_ids))
    zone(draft.timezone)
    scheduled = to_utc(draft.scheduled_for, draft.timezone) if draft.scheduled_for else None
    post = scope.add(
        Post(
            text=draft.text,
            photo_ids=photo_ids,
            scheduled_for=scheduled,
            timezone=draft.timezone,
            status=PostStatus.SCHEDULED if scheduled else PostStatus.DRAFT,
            created_by=principal.id,
        )
    )
    session.flush()
    for account in accounts:
        scope.add(
            Delivery(post_id=post.id, account_id=account.id, idempotency_key=uuid.uuid4().hex)
        )
    session.flush()
    return post


def get_post(session: Session, principal: Principal, post_id: uuid.UUID) -> Post:
    return principal.scope(session).get(Post, post_id, what="Post")


def deliveries_of(session: Session, post: Post) -> list[tuple[Delivery, SocialAccount]]:
    rows = session.execute(
        select(Delivery, SocialAccount)
        .join(SocialAccount, SocialAccount.id == Delivery.account_id)
        .where(Delivery.post_id == post.id)
        .order_by(SocialAccount.platform)
    ).all()
    return [(delivery, account) for delivery, account in rows]


def list_posts(
    session: Session, principal: Principal, *, status: PostStatus | None, page: int, page_size: int
) -> tuple[list[Post], int]:
    scope = principal.scope(session)
    statement = scope.select(Post).order_by(Post.scheduled_for.desc().nulls_first(), Post.id)
    if status is not None:
        statement = statement.where(Post.status == status)
    return scope.page(statement, page=page, page_size=page_size)


def publish_now(
    session: Session, settings: Settings, principal: Principal, post_id: uuid.UUID
) -> Post:
    """Send the post now. A platform that cannot be reached is said at once (503 SOCIAL_006,
    the post unchanged) rather than found out by the worker; a scheduled post instead waits
    for it (the delivery retries every SOCIAL_RETRY_SECONDS)."""
    post = get_post(session, principal, post_id)
    if post.status in (PostStatus.PUBLISHING, PostStatus.PUBLISHED, PostStatus.UNKNOWN):
        raise PostNotEditable(f"The post is {post.status.value}: it is not sent again.")
    waiting = {DeliveryStatus.PENDING, DeliveryStatus.FAILED}
    for platform in sorted(
        {a.platform for d, a in deliveries_of(session, post) if d.status in waiting}
    ):
        reason = gateway_for(platform, settings).unreachable_reason()
        if reason is not None:
            raise PlatformUnreachable(platform.value, reason)
    now = utcnow()
    post.scheduled_for, post.status = now, PostStatus.SCHEDULED
    for delivery, _ in deliveries_of(session, post):
        if delivery.status is DeliveryStatus.FAILED:
            delivery.status, delivery.next_attempt_at = DeliveryStatus.PENDING, None
    session.flush()
    dispatch_due(session, now, post_id=post.id)
    return post


def delete_post(session: Session, principal: Principal, post_id: uuid.UUID) -> None:
    post = get_post(session, principal, post_id)
    if post.status not in (PostStatus.DRAFT, PostStatus.SCHEDULED, PostStatus.FAILED):
        raise PostNotEditable(f"The post is {post.status.value}: it cannot be deleted now.")
    session.delete(post)


def dispatch_due(session: Session, now: datetime, *, post_id: uuid.UUID | None = None) -> int:
    """Queue one delivery job for every due delivery not already queued: pending ones whose
    post time (and rate-limit reset) has come, unknown ones (to be checked first), and those
    whose job was lost (queued long ago, never finished: checked first too)."""
    statement = (
        select(Delivery)
        .join(Post, Post.id == Delivery.post_id)
        .where(
            Post.status != PostStatus.DRAFT,
            Post.scheduled_for <= now,
            Delivery.status.in_(
                [DeliveryStatus.PENDING, DeliveryStatus.UNKNOWN, DeliveryStatus.PUBLISHING]
            ),
            Delivery.queued_at.is_(None) | (Delivery.queued_at < now - STALE_QUEUE),
            (Delivery.next_attempt_at.is_(None)) | (Delivery.next_attempt_at <= now),
        )
        .order_by(Post.scheduled_for)
        .limit(DISPATCH_BATCH)
        .with_for_update(of=Delivery, skip_locked=True)
    )
    if post_id is not None:
        statement = statement.where(Delivery.post_id == post_id)
    due = session.scalars(statement).all()
    for delivery in due:
        delivery.queued_at = now
        enqueue_named(session, DELIVER_TASK, queue=PUBLISHING_QUEUE, delivery_id=str(delivery.id))
    return len(due)


def settle_post_status(session: Session, post_id: uuid.UUID) -> None:
    """The post's status from its deliveries'."""
    post = session.get_one(Post, post_id)
    statuses = set(session.scalars(select(Delivery.status).where(Delivery.post_id == post_id)))
    if statuses == {DeliveryStatus.PUBLISHED}:
        post.status = PostStatus.PUBLISHED
    elif DeliveryStatus.UNKNOWN in statuses:
        post.status = PostStatus.UNKNOWN
    elif DeliveryStatus.PUBLISHING in statuses:
        post.status = PostStatus.PUBLISHING
    elif DeliveryStatus.PENDING in statuses:
        post.status = PostStatus.SCHEDULED if post.status is not PostStatus.DRAFT else post.status
    elif DeliveryStatus.FAILED in statuses:
        post.status = PostStatus.FAILED


@dataclass(frozen=True)
class QueueStatus:
    due: int
    scheduled: int
    publishing: int
    failed: int
    unknown: int
    published: int
    rate_limited: int


def queue_status(session: Session, principal: Principal, now: datetime) -> QueueStatus:
    tenant_id = principal.tenant()
    is_due = (
        (Post.scheduled_for <= now)
        & (Delivery.next_attempt_at.is_(None) | (Delivery.next_attempt_at <= now))
    ).label("is_due")
    limited = (Delivery.last_error_code == "SOCIAL_003").label("limited")
    rows = session.execute(
        select(Delivery.status, is_due, limited, func.count())
        .join(Post, Post.id == Delivery.post_id)
        .where(Delivery.tenant_id == tenant_id, Post.status != PostStatus.DRAFT)
        .group_by(Delivery.status, is_due, limited)
    ).all()
    counts = {"due": 0, "scheduled": 0, "rate_limited": 0}
    by_status: dict[DeliveryStatus, int] = {}
    for status, due, rate_limited, count in rows:
        by_status[status] = by_status.get(status, 0) + count
        if status is DeliveryStatus.PENDING:
            counts["due" if due else "scheduled"] += count
            if rate_limited:
                counts["rate_limited"] += count
    return QueueStatus(
        due=counts["due"],
        scheduled=counts["scheduled"],
        publishing=by_status.get(DeliveryStatus.PUBLISHING, 0),
        failed=by_status.get(DeliveryStatus.FAILED, 0),
        unknown=by_status.get(DeliveryStatus.UNKNOWN, 0),
        published=by_status.get(DeliveryStatus.PUBLISHED, 0),
        rate_limited=counts["rate_limited"],
    )
