"""Plans: what the gym sells (unlimited, visit packs, fixed terms); a sold plan is retired,
never deleted.

No FastAPI here. Every query goes through the caller's tenant scope; nothing commits.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func
from sqlalchemy.orm import Session

from visage.access.models import Membership, Plan
from visage.access.schemas import PlanCreate, PlanUpdate
from visage.core.db import flush_or_raise
from visage.core.errors import Conflict
from visage.identity.principal import Principal


def _flush_plan(session: Session, name: str) -> None:
    # The unique index on (tenant, lower(name)) decides, so concurrent requests cannot both win.
    flush_or_raise(
        session, Conflict(f"A plan named '{name}' already exists.", details={"field": "name"})
    )


def create_plan(session: Session, principal: Principal, data: PlanCreate) -> Plan:
    scope = principal.scope(session)
    plan = scope.add(
        Plan(
            name=data.name,
            kind=data.kind,
            visits=data.visits,
            duration_days=data.duration_days,
            is_active=True,
        )
    )
    _flush_plan(session, data.name)
    return plan


def list_plans(session: Session, principal: Principal, *, include_retired: bool) -> list[Plan]:
    statement = principal.scope(session).select(Plan).order_by(func.lower(Plan.name))
    if not include_retired:
        statement = statement.where(Plan.is_active)
    return list(session.scalars(statement))


def get_plan(session: Session, principal: Principal, plan_id: uuid.UUID) -> Plan:
    return principal.scope(session).get(Plan, plan_id, what="Plan")


def update_plan(
    session: Session, principal: Principal, plan_id: uuid.UUID, data: PlanUpdate
) -> Plan:
    scope = principal.scope(session)
    plan = scope.get(Plan, plan_id, what="Plan")
    if data.name is not None:
        plan.name = data.name
    if data.is_active is not None:
        plan.is_active = data.is_active
    _flush_plan(session, plan.name)
    return plan


def delete_plan(session: Session, principal: Principal, plan_id: uuid.UUID) -> None:
    scope = principal.scope(session)
    plan = scope.get(Plan, plan_id, what="Plan")
    sold = scope.select(Membership).where(Membership.plan_id == plan.id).limit(1)
    if session.scalar(sold) is not None:
        raise Conflict(
            'This plan has been sold: retire it with PATCH {"is_active": false} instead.'
        )
    session.delete(plan)
