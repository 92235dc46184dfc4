"""Retention: a worker erases the templates of members inactive longer than their tenant's
period (3 years unless the tenant chose less), and keeps everyone else's."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import timedelta

import numpy as np
from sqlalchemy import select

from visage.core.db import Database, utcnow
from visage.core.jobs import enqueue
from visage.faces.models import FaceTemplate, TenantFaceSettings
from visage.faces.tasks import erase_expired_templates
from visage.identity.models import AuditEvent, Tenant
from visage.members.models import Member


def member_with_template(database: Database, tenant: Tenant, *, inactive_days: int) -> uuid.UUID:
    seen = utcnow() - timedelta(days=inactive_days)
    with database.session() as session:
        member = Member(tenant_id=tenant.id, full_name=f"Seen {inactive_days} days ago")
        member.last_seen_at = seen
        session.add(member)
        session.flush()
        vector = np.random.default_rng().normal(size=128).astype(np.float32) * 0.1
        session.add(
            FaceTemplate(
                tenant_id=tenant.id,
                member_id=member.id,
                embedding=vector,
                sharpness=100.0,
                face_width=120,
                detection_score=1.0,
            )
        )
        return member.id


def templates_of(database: Database, member_id: uuid.UUID) -> int:
    with database.session() as session:
        statement = select(FaceTemplate.id).where(FaceTemplate.member_id == member_id)
        return len(session.scalars(statement).all())


def test_worker_erases_templates_past_retention(
    database: Database, make_tenant: Callable[..., Tenant], run_jobs: Callable[..., None]
) -> None:
    default_gym, short_gym = make_tenant(), make_tenant()
    with database.session() as session:
        session.add(TenantFaceSettings(tenant_id=short_gym.id, retention_days=30))
    expired = member_with_template(database, default_gym, inactive_days=4 * 365)
    recent = member_with_template(database, default_gym, inactive_days=2 * 365)
    expired_short = member_with_template(database, short_gym, inactive_days=60)
    recent_short = member_with_template(database, short_gym, inactive_days=10)

    with database.session() as session:
        enqueue(session, erase_expired_templates, timestamp=int(time.time()))
    run_jobs(["maintenance"])

    assert templates_of(database, expired) == 0
    assert templates_of(database, expired_short) == 0
    assert templates_of(database, recent) == 1
    assert templates_of(database, recent_short) == 1
    with database.session() as session:
        audited = session.scalars(
            select(AuditEvent.details).where(
                AuditEvent.action == "faces.retention_erased",
                AuditEvent.tenant_id == default_gym.id,
            )
        ).all()
    assert audited == [{"members": [str(expired)]}]
