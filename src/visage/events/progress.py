"""Indexing progress of an event: photos by status, faces found, an ETA."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, text
from sqlalchemy.orm import Session

from visage.config import Settings
from visage.core.tenancy import TenantScope
from visage.events.models import (
    Event,
    Photo,
    PhotoStatus,
)
from visage.events.service import get_event
from visage.identity.principal import Principal


@dataclass(frozen=True)
class ProgressCounts:
    event_id: uuid.UUID
    by_status: dict[PhotoStatus, int]
    faces_found: int
    eta_seconds: float | None
    live_workers: int

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def percent_done(self) -> float:
        done = self.by_status[PhotoStatus.INDEXED] + self.by_status[PhotoStatus.FAILED]
        return round(100.0 * done / self.total, 1) if self.total else 100.0


def live_worker_count(session: Session, settings: Settings) -> int:
    return (
        session.scalar(
            text(
                "SELECT count(*) FROM procrastinate_workers "
                "WHERE last_heartbeat > now() - make_interval(secs => :stalled)"
            ),
            {"stalled": settings.worker_stalled_seconds},
        )
        or 0
    )


def event_progress(
    session: Session, scope: TenantScope, event: Event, settings: Settings
) -> ProgressCounts:
    rows = session.execute(
        scope.select(Photo)
        .with_only_columns(
            Photo.status,
            func.count(),
            func.coalesce(func.sum(Photo.face_count), 0),
            func.avg(Photo.index_seconds),
        )
        .where(Photo.event_id == event.id)
        .group_by(Photo.status)
    ).all()
    by_status = dict.fromkeys(PhotoStatus, 0)
    faces = 0
    mean_seconds: float | None = None
    for status, count, face_total, average in rows:
        by_status[status] = count
        faces += int(face_total)
        if status == PhotoStatus.INDEXED and average is not None:
            mean_seconds = float(average)
    workers = live_worker_count(session, settings)
    remaining = by_status[PhotoStatus.PENDING] + by_status[PhotoStatus.INDEXING]
    eta = None
    if remaining == 0:
        eta = 0.0
    elif mean_seconds is not None:
        eta = round(remaining * mean_seconds / max(1, workers), 1)
    return ProgressCounts(event.id, by_status, faces, eta, workers)


def progress_for_viewer(
    session: Session, principal: Principal, event_id: uuid.UUID, settings: Settings
) -> ProgressCounts:
    event = get_event(session, principal, event_id)
    return event_progress(session, principal.scope(session), event, settings)
