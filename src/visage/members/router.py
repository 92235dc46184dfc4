"""/api/v1/members: the people of a tenant and their consent (thin: parse, authorize, call)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from visage.core.deps import DbSession
from visage.core.paging import Page, Paging, page_of
from visage.identity.dependencies import Client, require
from visage.identity.permissions import Permission
from visage.identity.principal import Principal
from visage.members import service
from visage.members.schemas import (
    ConsentCreate,
    ConsentOut,
    ConsentWithdrawn,
    MemberCreate,
    MemberOut,
    MemberUpdate,
)

router = APIRouter(prefix="/members", tags=["members"])

Reader = Annotated[Principal, Depends(require(Permission.MEMBERS_READ))]
Manager = Annotated[Principal, Depends(require(Permission.MEMBERS_MANAGE))]
BiometricsManager = Annotated[Principal, Depends(require(Permission.BIOMETRICS_MANAGE))]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_member(
    body: MemberCreate, session: DbSession, principal: Manager, client: Client
) -> MemberOut:
    member = service.create_member(session, principal, body.model_dump(), client)
    return MemberOut.of(service.view(session, member))


@router.get("")
def list_members(
    session: DbSession,
    principal: Reader,
    paging: Paging,
    q: Annotated[
        str | None, Query(max_length=200, description="Part of name, email, phone or ref")
    ] = None,
    active: bool | None = None,
) -> Page[MemberOut]:
    views, total = service.list_members(
        session,
        principal,
        query=q,
        active=active,
        page=paging.page,
        page_size=paging.page_size,
    )
    items = [MemberOut.of(v) for v in views]
    return page_of(items, total, paging)


@router.get("/{member_id}")
def get_member(member_id: uuid.UUID, session: DbSession, principal: Reader) -> MemberOut:
    return MemberOut.of(service.view(session, service.get_member(session, principal, member_id)))


@router.patch("/{member_id}")
def update_member(
    member_id: uuid.UUID, body: MemberUpdate, session: DbSession, principal: Manager, client: Client
) -> MemberOut:
    changes = body.model_dump(exclude_unset=True)
    member = service.update_member(session, principal, member_id, changes, client)
    return MemberOut.of(service.view(session, member))


@router.delete("/{member_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_member(
    member_id: uuid.UUID, session: DbSession, principal: Manager, client: Client
) -> None:
    service.delete_member(session, principal, member_id, client)


@router.post("/{member_id}/consent", status_code=status.HTTP_201_CREATED)
def give_consent(
    member_id: uuid.UUID,
    body: ConsentCreate,
    session: DbSession,
    principal: BiometricsManager,
    client: Client,
) -> ConsentOut:
    consent = service.give_consent(
        session,
        principal,
        member_id,
        text_version=body.text_version,
        method=body.method,
        client=client,
    )
    return ConsentOut.model_validate(consent)


@router.delete("/{member_id}/consent")
def withdraw_consent(
    member_id: uuid.UUID, session: DbSession, principal: BiometricsManager, client: Client
) -> ConsentWithdrawn:
    """Withdraw consent: the member's face templates are erased at once."""
    erased = service.withdraw_consent(session, principal, member_id, client)
    return ConsentWithdrawn(templates_erased=erased)
