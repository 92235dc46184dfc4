"""Enrollment, verification, identification and erasure of members' face templates.

Every stored vector is the tenant's protected form (see protection.py); probes are protected
with the same key before they are compared, so the database never sees a raw embedding.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from PIL import Image
from sqlalchemy import Select, delete, func, select, text
from sqlalchemy.orm import Session

from visage.core.db import utcnow
from visage.core.images import DecodedImage
from visage.core.tenancy import TenantScope
from visage.faces import decision
from visage.faces.decision import OperatingPoint
from visage.faces.errors import (
    ConsentRequired,
    NoFaceDetected,
    NoFaceEnrolled,
    TooManyFaces,
)
from visage.faces.inference.base import DetectionMode
from visage.faces.inference.scheduling import Priority
from visage.faces.models import DEFAULT_RETENTION_DAYS, FaceTemplate, TenantFaceSettings
from visage.faces.pipeline import (
    AssessedFace,
    FaceAnalysis,
    analyze_largest,
    assess,
    embed,
    enrollment_refusal,
    subjects,
)
from visage.faces.protection import TemplateProtector, tenant_protector
from visage.faces.scenes import analyze_kiosk_frame
from visage.faces.tenant_settings import (
    face_settings,
    operating_point,
    recognition_threshold,
    recount_gallery,
)
from visage.identity import audit
from visage.identity.principal import ClientInfo, Principal
from visage.members.audit import record_member_event
from visage.members.models import Consent, Member

MAX_FACES_PER_MEMBER = 5
# Up to this many templates a tenant's gallery is searched exactly (a few ms); above it the
# HNSW index with pgvector's iterative scan is used.
EXACT_SEARCH_MAX_TEMPLATES = 20_000
HNSW_EF_SEARCH = 200
THUMBNAIL_QUALITY = 85
# Retention counts in days; activity finer than this is not worth a write per recognition.
LAST_SEEN_RESOLUTION = timedelta(hours=1)

Outcome = Literal["MATCH", "UNKNOWN_FACE", "LOW_CONFIDENCE"]


@dataclass(frozen=True)
class Candidate:
    member_id: uuid.UUID
    distance: float


@dataclass(frozen=True)
class Identification:
    """Who is in the frame: a member (MATCH), nobody we know, or not sure enough to say."""

    outcome: Outcome
    member_id: uuid.UUID | None
    distance: float | None
    threshold: float  # the acceptance distance at this gallery size
    candidates: tuple[Candidate, ...] = ()
    point: OperatingPoint | None = None
    # Members within the 1:1 distance a PIN may confirm, nearest first.
    pin_candidates: tuple[uuid.UUID, ...] = ()


@dataclass(frozen=True)
class Verification:
    match: bool
    distance: float
    threshold: float


# --- single faces out of an image -------------------------------------------------------


def single_face(
    image: DecodedImage, mode: DetectionMode, *, index: int | None = None
) -> FaceAnalysis:
    """The one usable face of an enrollment ("photo": every face is looked for, so a second
    person is noticed; faces far smaller than the main one are bystanders) or verification
    ("kiosk") photo, or the error saying why not."""
    faces = assess(image.rgb, mode)
    refusal = enrollment_refusal(faces, {"image": index} if index is not None else None)
    if refusal is not None:
        raise refusal
    (face,) = embed(subjects(faces))
    return face


def detect_faces(image: DecodedImage, mode: DetectionMode) -> list[AssessedFace]:
    return assess(image.rgb, mode)


# --- enrollment -------------------------------------------------------------------------


def active_consent(session: Session, member: Member) -> Consent | None:
    """The member's consent to biometric processing, if given and not withdrawn."""
    return session.scalar(
        select(Consent).where(
            Consent.tenant_id == member.tenant_id,
            Consent.member_id == member.id,
            Consent.withdrawn_at.is_(None),
        )
    )


def _thumbnail(protector: TemplateProtector, face: AssessedFace) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(face.chip).save(buffer, format="JPEG", quality=THUMBNAIL_QUALITY)
    return protector.encrypt(buffer.getvalue())


def count_templates(session: Session, member: Member) -> int:
    statement = select(func.count()).where(
        FaceTemplate.tenant_id == member.tenant_id, FaceTemplate.member_id == member.id
    )
    return session.scalar(statement) or 0


def enroll(
    session: Session,
    actor: Principal,
    member_id: uuid.UUID,
    images: list[DecodedImage],
    client: ClientInfo | None = None,
) -> list[FaceTemplate]:
    """Store one protected template per image; all images must pass or none is stored."""
    scope = actor.scope(session)
    member = scope.get(Member, member_id, what="Member")
    if active_consent(session, member) is None:
        raise ConsentRequired()
    existing = count_templates(session, member)
    if existing + len(images) > MAX_FACES_PER_MEMBER:
        raise TooManyFaces(details={"enrolled": existing, "sent": len(images)})
    faces = [single_face(image, "photo", index=index) for index, image in enumerate(images)]
    protector = tenant_protector(session, member.tenant_id)
    templates = [
        scope.add(
            FaceTemplate(
                member_id=member.id,
                embedding=protector.protect(face.embedding),
                sharpness=face.sharpness,
                face_width=face.face.width,
                detection_score=face.face.score,
                thumbnail=_thumbnail(protector, face),
            )
        )
        for face in faces
    ]
    # Enrolling is an interaction: the retention clock starts again.
    member.last_seen_at = utcnow()
    session.flush()
    recount_gallery(session, [member.tenant_id])
    record_member_event(
        session,
        actor,
        "faces.enrolled",
        member,
        client,
        {"templates": [str(template.id) for template in templates]},
    )
    return templates


def list_templates(scope: TenantScope, member_id: uuid.UUID) -> list[FaceTemplate]:
    member = scope.get(Member, member_id, what="Member")
    statement = (
        scope.select(FaceTemplate)
        .where(FaceTemplate.member_id == member.id)
        .order_by(FaceTemplate.created_at)
    )
    return list(scope.session.scalars(statement))


def thumbnail_jpeg(scope: TenantScope, member_id: uuid.UUID, template_id: uuid.UUID) -> bytes:
    template = scope.get(FaceTemplate, template_id, what="Face")
    if template.member_id != member_id or template.thumbnail is None:
        raise NoFaceEnrolled("This face has no thumbnail.")
    protector = tenant_protector(scope.session, scope.tenant_id, for_search=True)
    return protector.decrypt(template.thumbnail)


def erase_member_templates(
    session: Session,
    member: Member,
    *,
    actor: Principal | None,
    reason: str,
    client: ClientInfo | None = None,
) -> int:
    """Delete every template of the member (audited); returns how many."""
    result = session.execute(
        delete(FaceTemplate)
        .where(FaceTemplate.tenant_id == member.tenant_id, FaceTemplate.member_id == member.id)
        .returning(FaceTemplate.id)
    )
    erased = len(result.all())
    if erased:
        recount_gallery(session, [member.tenant_id])
    record_member_event(
        session, actor, "faces.erased", member, client, {"templates": erased, "reason": reason}
    )
    return erased


def erase_templates(
    session: Session, actor: Principal, member_id: uuid.UUID, client: ClientInfo | None = None
) -> int:
    member = actor.scope(session).get(Member, member_id, what="Member")
    return erase_member_templates(session, member, actor=actor, reason="request", client=client)


def erase_expired_templates(session: Session, now: datetime) -> dict[uuid.UUID, int]:
    """Retention: erase templates of members inactive longer than their tenant's period.

    A system job over all tenants; each tenant's period comes from its settings row.
    """
    activity = func.coalesce(Member.last_seen_at, Member.created_at)
    retention_days = func.coalesce(TenantFaceSettings.retention_days, DEFAULT_RETENTION_DAYS)
    expired_members = (
        select(Member.id)
        .outerjoin(TenantFaceSettings, TenantFaceSettings.tenant_id == Member.tenant_id)
        .where(activity < now - func.make_interval(0, 0, 0, retention_days))
    )
    rows = session.execute(
        delete(FaceTemplate)
        .where(FaceTemplate.member_id.in_(expired_members))
        .returning(FaceTemplate.tenant_id, FaceTemplate.member_id)
    ).all()
    members_by_tenant: dict[uuid.UUID, set[uuid.UUID]] = {}
    for tenant_id, member_id in rows:
        members_by_tenant.setdefault(tenant_id, set()).add(member_id)
    recount_gallery(session, members_by_tenant)
    for tenant_id, members in members_by_tenant.items():
        audit.record(
            session,
            action="faces.retention_erased",
            actor=None,
            tenant_id=tenant_id,
            details={"members": sorted(str(m) for m in members)},
        )
    return {tenant_id: len(members) for tenant_id, members in members_by_tenant.items()}


def mark_seen(member: Member) -> None:
    """Record activity for retention, at most once per LAST_SEEN_RESOLUTION: a kiosk
    recognizing a member every minute should not write every time."""
    now = utcnow()
    if member.last_seen_at is None or now - member.last_seen_at > LAST_SEEN_RESOLUTION:
        member.last_seen_at = now


# --- search -----------------------------------------------------------------------------


def chooses_exact_search(session: Session, tenant_id: uuid.UUID) -> bool:
    """Whether the tenant's gallery is small enough to be scanned exactly."""
    return face_settings(session, tenant_id).enrolled_templates <= EXACT_SEARCH_MAX_TEMPLATES


def nearest_templates_statement(
    tenant_id: uuid.UUID, probe: npt.NDArray[np.float32], limit: int, *, exact: bool
) -> Select[Any]:
    """The `limit` nearest templates of the tenant: filter and vector order in one statement."""
    distance = FaceTemplate.embedding.l2_distance(probe)
    # `+ 0` keeps the planner off the HNSW index: an exact, tenant-filtered scan.
    order = distance + 0 if exact else distance
    nearest = (
        select(FaceTemplate.member_id, distance.label("distance"))
        .where(FaceTemplate.tenant_id == tenant_id)
        .order_by(order)
        .limit(limit)
        .subquery()
    )
    # relaxed_order may return rows slightly out of order: sort them again.
    return select(nearest.c.member_id, nearest.c.distance).order_by(nearest.c.distance)


@contextmanager
def hnsw_search(session: Session, limit: int) -> Iterator[None]:
    """Settings for one filtered HNSW search.

    The iterative scan keeps walking the graph until `limit` rows of the tenant are found.
    With sorting off, the planner takes the HNSW index rather than the tenant btree index plus
    a sort, which it prefers when its estimate of the tenant's rows is low.
    """
    session.execute(text("SET LOCAL hnsw.iterative_scan = relaxed_order"))
    session.execute(text(f"SET LOCAL hnsw.ef_search = {max(HNSW_EF_SEARCH, limit)}"))
    session.execute(text("SET LOCAL enable_sort = off"))
    yield
    session.execute(text("SET LOCAL enable_sort = on"))


def _nearest_templates(
    session: Session,
    tenant_id: uuid.UUID,
    probe: npt.NDArray[np.float32],
    limit: int,
    *,
    exact: bool,
) -> list[tuple[uuid.UUID, float]]:
    statement = nearest_templates_statement(tenant_id, probe, limit, exact=exact)
    with nullcontext() if exact else hnsw_search(session, limit):
        rows = session.execute(statement).all()
    return [(member_id, float(value)) for member_id, value in rows]


def nearest_members(
    session: Session,
    tenant_id: uuid.UUID,
    probe: npt.NDArray[np.float32],
    *,
    members: int,
    exact: bool | None = None,
    within: float | None = None,
) -> list[Candidate]:
    """The `members` nearest members to a protected probe, nearest first.

    The tenant filter is in the same statement as the vector order. Small galleries are
    scanned exactly; larger ones use HNSW with pgvector's iterative scan, which keeps
    walking the graph until enough rows of this tenant were found. `exact` forces either
    path (the benchmark compares them). With `within`, an HNSW answer with no template that
    close is checked by an exact scan: an approximate search can only miss, so it may say
    "someone" quickly but never "nobody" on its own.
    """
    templates = members * MAX_FACES_PER_MEMBER  # enough to hold `members` distinct members
    if exact is None:
        exact = chooses_exact_search(session, tenant_id)
    rows = _nearest_templates(session, tenant_id, probe, templates, exact=exact)
    if not exact and (
        # The iterative scan gave up (hnsw.max_scan_tuples) before finding enough rows of
        # this tenant (a rare tenant in a huge table), or found nobody close enough.
        len(rows) < templates or (within is not None and rows[0][1] > within)
    ):
        rows = _nearest_templates(session, tenant_id, probe, templates, exact=True)
    best: dict[uuid.UUID, float] = {}
    for member_id, member_distance in rows:
        best.setdefault(member_id, member_distance)
    return [Candidate(m, d) for m, d in list(best.items())[:members]]


def identify_face(
    session: Session,
    tenant_id: uuid.UUID,
    face: FaceAnalysis,
    *,
    top_k: int = 1,
    mark_member_seen: bool = True,
) -> Identification:
    """Identify one analyzed face among the tenant's members (see faces/decision.py).

    `mark_member_seen=False` leaves retention's last-seen date to the caller (the kiosk marks
    the member it checks in, after its own locked read of the row)."""
    point = operating_point(session, tenant_id)
    if not face.usable:
        return Identification("LOW_CONFIDENCE", None, None, point.acceptance, point=point)
    probe = tenant_protector(session, tenant_id, for_search=True).protect(face.embedding)
    wanted = max(top_k, decision.MAX_PIN_CANDIDATES, 2)
    candidates = tuple(
        nearest_members(session, tenant_id, probe, members=wanted, within=point.candidate_distance)
    )
    verdict = decision.judge([decision.Nearest(c.member_id, c.distance) for c in candidates], point)
    best = candidates[0] if candidates else None
    if verdict.member_id is not None and mark_member_seen:
        member = session.get(Member, verdict.member_id)
        if member is not None:
            mark_seen(member)
    return Identification(
        verdict.outcome,
        verdict.member_id,
        best.distance if best else None,
        point.acceptance,
        candidates[:top_k],
        point=point,
        pin_candidates=verdict.pin_candidates,
    )


def identify_image(
    session: Session,
    tenant_id: uuid.UUID,
    image: DecodedImage,
    *,
    top_k: int = 1,
    priority: Priority = Priority.INTERACTIVE,
    mark_member_seen: bool = True,
    kiosk: uuid.UUID | None = None,
) -> Identification:
    """The kiosk's question: who is the person in this frame (the largest face)?

    `kiosk`: the device whose camera took the frame. A frame that still shows the scene in
    which its last full scan found nobody is scanned for close faces only (faces/scenes.py)."""
    if kiosk is None:
        face = analyze_largest(image.rgb, "kiosk", priority=priority)
    else:
        face = analyze_kiosk_frame(image.rgb, kiosk, priority=priority)
    if face is None:
        raise NoFaceDetected()
    return identify_face(session, tenant_id, face, top_k=top_k, mark_member_seen=mark_member_seen)


def verify_image(
    session: Session, scope: TenantScope, member_id: uuid.UUID, image: DecodedImage
) -> Verification:
    """Is the one face in this image the given member?"""
    member = scope.get(Member, member_id, what="Member")
    if count_templates(session, member) == 0:
        raise NoFaceEnrolled()
    face = single_face(image, "kiosk")
    probe = tenant_protector(session, member.tenant_id, for_search=True).protect(face.embedding)
    distance = session.scalar(
        select(func.min(FaceTemplate.embedding.l2_distance(probe))).where(
            FaceTemplate.tenant_id == member.tenant_id, FaceTemplate.member_id == member.id
        )
    )
    threshold = recognition_threshold(session, member.tenant_id)
    if distance is None:
        raise NoFaceEnrolled()
    matched = float(distance) <= threshold
    if matched:
        mark_seen(member)
    return Verification(matched, float(distance), threshold)
