"""A tenant's face settings and its operating point: the 1:N acceptance distance, kiosk mode
and expected error rates at its gallery size (see decision.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from functools import lru_cache

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from visage.config import get_settings
from visage.faces import decision
from visage.faces.calibration.model import shipped_score_model
from visage.faces.decision import KIOSK_MODES, KioskMode, OperatingPoint
from visage.faces.models import DEFAULT_RETENTION_DAYS, FaceTemplate, TenantFaceSettings
from visage.identity import audit
from visage.identity.principal import Principal


def face_settings(session: Session, tenant_id: uuid.UUID) -> TenantFaceSettings:
    """The tenant's settings row (defaults when it never changed them; not added)."""
    row = session.get(TenantFaceSettings, tenant_id, populate_existing=True)
    return row or TenantFaceSettings(
        tenant_id=tenant_id,
        recognition_tolerance=None,
        retention_days=DEFAULT_RETENTION_DAYS,
        kiosk_mode=None,
        fpir_target=None,
        enrolled_members=0,
        enrolled_templates=0,
    )


def update_face_settings(
    session: Session,
    actor: Principal,
    *,
    recognition_tolerance: float | None,
    retention_days: int,
    kiosk_mode: KioskMode | None = None,
    fpir_target: float | None = None,
) -> TenantFaceSettings:
    tenant_id = actor.tenant()
    values = {
        "recognition_tolerance": recognition_tolerance,
        "retention_days": retention_days,
        "kiosk_mode": kiosk_mode,
        "fpir_target": fpir_target,
    }
    session.execute(
        insert(TenantFaceSettings)
        .values(tenant_id=tenant_id, **values)
        .on_conflict_do_update(index_elements=[TenantFaceSettings.tenant_id], set_=values)
    )
    audit.record(
        session,
        action="faces.settings_updated",
        actor=actor,
        tenant_id=tenant_id,
        details=values,
    )
    return face_settings(session, tenant_id)


def recount_gallery(session: Session, tenant_ids: Iterable[uuid.UUID]) -> None:
    """Store the tenants' gallery sizes on their settings rows, in the caller's transaction:
    every change to a tenant's templates calls this before it commits.

    The row is locked before the count: a transaction that waited for another's enrollment
    counts after that one committed (each statement of READ COMMITTED reads anew), so the
    last to commit stores the true figure. A recount, not a +1/-1: a count that ever drifted
    is right again after the next change."""
    for tenant_id in sorted(set(tenant_ids)):  # one lock order: no deadlock between jobs
        session.execute(
            insert(TenantFaceSettings)
            .values(tenant_id=tenant_id)
            .on_conflict_do_update(
                index_elements=[TenantFaceSettings.tenant_id],
                set_={"enrolled_members": TenantFaceSettings.enrolled_members},
            )
        )
        members, templates = session.execute(
            select(func.count(func.distinct(FaceTemplate.member_id)), func.count()).where(
                FaceTemplate.tenant_id == tenant_id
            )
        ).one()
        session.execute(
            update(TenantFaceSettings)
            .where(TenantFaceSettings.tenant_id == tenant_id)
            .values(enrolled_members=members, enrolled_templates=templates)
        )


def operating_point(
    session: Session, tenant_id: uuid.UUID, *, size: int | None = None
) -> OperatingPoint:
    """The tenant's acceptance distance and expected error rates at its gallery size (members
    with at least one enrolled face: the N of the 1:N decision)."""
    row = face_settings(session, tenant_id)
    settings = get_settings()
    mode = row.kiosk_mode if row.kiosk_mode in KIOSK_MODES else None
    return _operating_point(
        row.enrolled_members if size is None else size,
        row.fpir_target or settings.face_fpir_target,
        settings.face_recognition_tolerance,
        row.recognition_tolerance,
        mode,
    )


@lru_cache(maxsize=4096)
def _operating_point(
    size: int,
    fpir_target: float,
    candidate_distance: float,
    tolerance_override: float | None,
    mode: KioskMode | None,
) -> OperatingPoint:
    # Reading the curves costs ~0.1 s; a gallery changes size one enrollment at a time.
    return decision.operating_point(
        shipped_score_model(),
        size,
        fpir_target=fpir_target,
        candidate_distance=candidate_distance,
        tolerance_override=tolerance_override,
        mode=mode,
    )


def recognition_threshold(session: Session, tenant_id: uuid.UUID) -> float:
    """The 1:1 distance (verification, PIN candidates): FACE_RECOGNITION_TOLERANCE, or the
    tenant's own tolerance when it chose one."""
    tolerance = face_settings(session, tenant_id).recognition_tolerance
    return tolerance if tolerance is not None else get_settings().face_recognition_tolerance
