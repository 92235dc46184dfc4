"""Members of a tenant and their consent to biometric processing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from visage.core.db import flush_or_raise, utcnow
from visage.core.errors import Conflict, NotFound
from visage.core.tenancy import TenantScope
from visage.faces import service as faces_service
from visage.faces.models import FaceTemplate
from visage.identity.models import User
from visage.identity.principal import ClientInfo, Principal
from visage.members.audit import record_member_event
from visage.members.models import Consent, Member


@dataclass(frozen=True)
class MemberView:
    """A member with what the API shows beside it: consent and enrolled faces."""

    member: Member
    consent: Consent | None
    face_count: int


def _check_user(scope: TenantScope, user_id: uuid.UUID | None) -> None:
    if user_id is not None:
        scope.get(User, user_id, what="User")


def _flush_unique(session: Session) -> None:
    flush_or_raise(
        session,
        Conflict(
            "Another member already has this external reference.",
            details={"field": "external_ref"},
        ),
    )


def views(session: Session, members: list[Member]) -> list[MemberView]:
    """Attach active consent and face counts to members, in two queries."""
    ids = [member.id for member in members]
    if not ids:
        return []
    consents = {
        consent.member_id: consent
        for consent in session.scalars(
            select(Consent).where(Consent.member_id.in_(ids), Consent.withdrawn_at.is_(None))
        )
    }
    counted = session.execute(
        select(FaceTemplate.member_id, func.count())
        .where(FaceTemplate.member_id.in_(ids))
        .group_by(FaceTemplate.member_id)
    )
    faces = {member_id: count for member_id, count in counted}
    return [MemberView(m, consents.get(m.id), faces.get(m.id, 0)) for m in members]


def view(session: Session, member: Member) -> MemberView:
    return views(session, [member])[0]


def create_member(
    session: Session, actor: Principal, fields: dict[str, Any], client: ClientInfo | None = None
) -> Member:
    scope = actor.scope(session)
    _check_user(scope, fields.get("user_id"))
    member = scope.add(Member(**fields))
    _flush_unique(session)
    record_member_event(session, actor, "member.created", member, client)
    return member


def _search(scope: TenantScope, query: str | None, active: bool | None) -> Select[Any]:
    statement: Select[Any] = scope.select(Member)
    if query:
        pattern = f"%{query.lower()}%"
        statement = statement.where(
            or_(
                func.lower(Member.full_name).like(pattern),
                func.lower(Member.email).like(pattern),
                Member.phone.like(pattern),
                func.lower(Member.external_ref).like(pattern),
            )
        )
    if active is not None:
        statement = statement.where(Member.is_active.is_(active))
    return statement.order_by(func.lower(Member.full_name), Member.id)


def list_members(
    session: Session,
    actor: Principal,
    *,
    query: str | None,
    active: bool | None,
    page: int,
    page_size: int,
) -> tuple[list[MemberView], int]:
    scope = actor.scope(session)
    members, total = scope.page(_search(scope, query, active), page=page, page_size=page_size)
    return views(session, members), total


def get_member(session: Session, actor: Principal, member_id: uuid.UUID) -> Member:
    return actor.scope(session).get(Member, member_id, what="Member")


def update_member(
    session: Session,
    actor: Principal,
    member_id: uuid.UUID,
    changes: dict[str, Any],
    client: ClientInfo | None = None,
) -> Member:
    scope = actor.scope(session)
    member = scope.get(Member, member_id, what="Member")
    _check_user(scope, changes.get("user_id"))
    for name, value in changes.items():
        setattr(member, name, value)
    _flush_unique(session)
    details = {"fields": sorted(changes)}
    record_member_event(session, actor, "member.updated", member, client, details)
    return member


def delete_member(
    session: Session, actor: Principal, member_id: uuid.UUID, client: ClientInfo | None = None
) -> None:
    """Delete the member; templates and consents go with it (cascade), audited."""
    member = get_member(session, actor, member_id)
    faces_service.erase_member_templates(
        session, member, actor=actor, reason="member deleted", client=client
    )
    record_member_event(session, actor, "member.deleted", member, client)
    session.delete(member)


def give_consent(
    session: Session,
    actor: Principal,
    member_id: uuid.UUID,
    *,
    text_version: str,
    method: str,
    client: ClientInfo | None = None,
) -> Consent:
    """Record the member's consent to a version of the consent text.

    Consenting again to another text version closes the previous consent: one is active.
    """
    scope = actor.scope(session)
    member = scope.get(Member, member_id, what="Member")
    now = utcnow()
    previous = faces_service.active_consent(session, member)
    if previous is not None:
        previous.withdrawn_at = now
        previous.withdrawn_by = actor.id if actor.kind == "user" else None
    consent = scope.add(
        Consent(
            member_id=member.id,
            text_version=text_version,
            method=method,
            recorded_by=actor.id if actor.kind == "user" else None,
            given_at=now,
        )
    )
    session.flush()
    record_member_event(
        session,
        actor,
        "consent.given",
        member,
        client,
        {"consent_id": str(consent.id), "text_version": text_version, "method": method},
    )
    return consent


def withdraw_consent(
    session: Session, actor: Principal, member_id: uuid.UUID, client: ClientInfo | None = None
) -> int:
    """Withdraw consent and erase the member's biometric data; returns templates erased."""
    member = get_member(session, actor, member_id)
    consent = faces_service.active_consent(session, member)
    if consent is None:
        raise NotFound("This member has no active consent.")
    consent.withdrawn_at = utcnow()
    consent.withdrawn_by = actor.id if actor.kind == "user" else None
    erased = faces_service.erase_member_templates(
        session, member, actor=actor, reason="consent withdrawn", client=client
    )
    record_member_event(
        session, actor, "consent.withdrawn", member, client, {"consent_id": str(consent.id)}
    )
    return erased
