"""The one tenancy chokepoint.

A `TenantId` is only minted from an authenticated principal (see identity.dependencies), and
every tenant-owned query goes through `TenantScope`, which puts the tenant filter in the same
statement. Objects of other tenants are answered 404, never 403.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, NewType, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from visage.core.errors import NotFound

TenantId = NewType("TenantId", uuid.UUID)


ModelT = TypeVar("ModelT", bound=Any)


@dataclass(frozen=True)
class TenantScope:
    """Queries over one tenant's rows. Build it only from a principal's tenant."""

    session: Session
    tenant_id: TenantId

    def select(self, model: type[ModelT]) -> Select[ModelT]:
        return select(model).where(model.tenant_id == self.tenant_id)

    def get(self, model: type[ModelT], object_id: uuid.UUID, *, what: str | None = None) -> ModelT:
        row: ModelT | None = self.session.scalar(self.select(model).where(model.id == object_id))
        if row is None:
            raise NotFound(f"{what or model.__name__} not found.")
        return row

    def add(self, obj: ModelT) -> ModelT:
        obj.tenant_id = self.tenant_id
        self.session.add(obj)
        return obj

    def page(
        self, statement: Select[ModelT], *, page: int, page_size: int
    ) -> tuple[list[ModelT], int]:
        return paginate(self.session, statement, page=page, page_size=page_size)


def paginate(
    session: Session, statement: Select[ModelT], *, page: int, page_size: int
) -> tuple[list[ModelT], int]:
    """One page of `statement`'s rows and the total count. Tenant data: use TenantScope.page."""
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = session.scalars(statement.limit(page_size).offset((page - 1) * page_size)).all()
    return list(rows), total or 0
