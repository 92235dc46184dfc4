"""Kiosk PINs: members set a 4-6 digit PIN (argon2id); at the door it decides among the few
members the face narrowed the gallery to, in the tenant's kiosk mode (faces/decision.py).

Wrong PINs are recorded per candidate and per kiosk; past PIN_MAX_FAILURES_PER_MEMBER (for
a candidate) or PIN_MAX_FAILURES_PER_KIOSK (for the device) within PIN_FAILURE_WINDOW_MINUTES
the kiosk gets 429 with Retry-After. Every wrong PIN is audited; the PIN itself never is.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from visage.access.models import MemberPin, PinFailure
from visage.config import Settings
from visage.core.db import utcnow
from visage.core.errors import RateLimited
from visage.core.security import hash_password, verify_password
from visage.faces.service import Identification
from visage.identity import audit
from visage.identity.principal import ClientInfo, Principal
from visage.members.audit import record_member_event
from visage.members.models import Member

KioskOutcome = Literal["MATCH", "UNKNOWN_FACE", "LOW_CONFIDENCE", "PIN_REQUIRED", "WRONG_PIN"]


def set_pin(
    session: Session, actor: Principal, member_id: uuid.UUID, pin: str, client: ClientInfo
) -> None:
    member = actor.scope(session).get(Member, member_id, what="Member")
    values = {"pin_hash": hash_password(pin), "updated_at": utcnow()}
    session.execute(
        insert(MemberPin)
        .values(member_id=member.id, tenant_id=member.tenant_id, **values)
        .on_conflict_do_update(index_elements=[MemberPin.member_id], set_=values)
    )
    record_member_event(session, actor, "member.pin_set", member, client, {})


def has_pin(session: Session, tenant_id: uuid.UUID, member_id: uuid.UUID) -> bool:
    return bool(pin_hashes(session, tenant_id, (member_id,)))


def pin_hashes(
    session: Session, tenant_id: uuid.UUID, member_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The PIN hashes of those of `member_ids` who set one, in `member_ids`' order."""
    if not member_ids:
        return {}
    statement = select(MemberPin.member_id, MemberPin.pin_hash).where(
        MemberPin.tenant_id == tenant_id, MemberPin.member_id.in_(member_ids)
    )
    rows = {member_id: pin_hash for member_id, pin_hash in session.execute(statement).tuples()}
    return {member_id: rows[member_id] for member_id in member_ids if member_id in rows}


def _locked_until(
    session: Session, condition: ColumnElement[bool], limit: int, since: datetime, window: timedelta
) -> datetime | None:
    """When the `limit`-th most recent failure in the window leaves it, if there are `limit`."""
    recent = session.scalars(
        select(func.max(PinFailure.created_at))
        .where(condition, PinFailure.created_at > since)
        .group_by(PinFailure.attempt_id)
        .order_by(func.max(PinFailure.created_at).desc())
        .limit(limit)
    ).all()
    return recent[-1] + window if len(recent) >= limit else None


def _refuse_when_locked(
    session: Session, settings: Settings, kiosk: Principal, candidates: Sequence[uuid.UUID]
) -> None:
    now = utcnow()
    window = timedelta(minutes=settings.pin_failure_window_minutes)
    since = now - window
    locks = [
        _locked_until(
            session,
            PinFailure.member_id == member_id,
            settings.pin_max_failures_per_member,
            since,
            window,
        )
        for member_id in candidates
    ]
    locks.append(
        _locked_until(
            session,
            PinFailure.device_id == kiosk.id,
            settings.pin_max_failures_per_kiosk,
            since,
            window,
        )
    )
    locked = [until for until in locks if until is not None and until > now]
    if locked:
        retry_after = math.ceil((max(locked) - now).total_seconds())
        raise RateLimited(
            "Too many wrong PINs: please see the front desk.",
            details={"retry_after": retry_after},
            headers={"Retry-After": str(retry_after)},
        )


def check_pin(
    session: Session,
    settings: Settings,
    kiosk: Principal,
    hashes: dict[uuid.UUID, str],
    pin: str,
) -> uuid.UUID | None:
    """The candidate whose PIN this is, nearest first; a miss is recorded and audited."""
    tenant_id = kiosk.tenant()
    _refuse_when_locked(session, settings, kiosk, list(hashes))
    for member_id, pin_hash in hashes.items():
        if verify_password(pin_hash, pin):
            return member_id
    attempt_id = uuid.uuid4()
    device_id = kiosk.id if kiosk.kind == "device" else None
    session.add_all(
        PinFailure(
            tenant_id=tenant_id, attempt_id=attempt_id, device_id=device_id, member_id=member_id
        )
        for member_id in hashes
    )
    audit.record(
        session,
        action="checkin.wrong_pin",
        actor=kiosk,
        tenant_id=tenant_id,
        details={"candidates": [str(member_id) for member_id in hashes]},
    )
    session.flush()
    return None


def resolve(
    session: Session,
    settings: Settings,
    kiosk: Principal,
    identification: Identification,
    pin: str | None,
) -> tuple[KioskOutcome, uuid.UUID | None]:
    """The kiosk's answer in the tenant's mode: face alone, or the PIN among the candidates.

    face_then_pin: a member the face clearly recognizes walks in; otherwise the PIN decides
    among the candidates who set one (none set: face alone's answer). face_and_pin: always
    the PIN; a face with no PIN holder among its candidates is not let in.
    """
    point = identification.point
    mode = point.mode if point is not None else "face"
    if mode == "face" or (mode == "face_then_pin" and identification.outcome == "MATCH"):
        return identification.outcome, identification.member_id
    hashes = pin_hashes(session, kiosk.tenant(), identification.pin_candidates)
    if not hashes:
        if mode == "face_and_pin":
            unknown = identification.outcome == "UNKNOWN_FACE"
            return ("UNKNOWN_FACE" if unknown else "LOW_CONFIDENCE"), None
        return identification.outcome, identification.member_id
    if pin is None:
        return "PIN_REQUIRED", None
    matched = check_pin(session, settings, kiosk, hashes, pin)
    return ("MATCH", matched) if matched is not None else ("WRONG_PIN", None)
