"""Enrollment under /members/{id}/faces and /faces/verify|identify|detect|settings.

Routes are plain `def`: FastAPI runs them in its thread pool, so face inference never blocks
the event loop. Images come as multipart files or JSON base64 (see intake.py).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from visage.core.deps import AppSettings, DbSession
from visage.faces import service, tenant_settings
from visage.faces.intake import ImageBody, image_body, openapi_body
from visage.faces.schemas import (
    DetectFields,
    DetectResult,
    EnrollFields,
    FaceSettingsOut,
    FaceSettingsUpdate,
    FaceTemplateOut,
    IdentifyFields,
    IdentifyResult,
    TemplatesErased,
    VerifyFields,
    VerifyResult,
)
from visage.faces.service import MAX_FACES_PER_MEMBER
from visage.identity.dependencies import Client, require
from visage.identity.permissions import Permission
from visage.identity.principal import Principal

enrollment_router = APIRouter(prefix="/members/{member_id}/faces", tags=["faces"])
router = APIRouter(prefix="/faces", tags=["faces"])

Reader = Annotated[Principal, Depends(require(Permission.MEMBERS_READ))]
BiometricsManager = Annotated[Principal, Depends(require(Permission.BIOMETRICS_MANAGE))]
Searcher = Annotated[Principal, Depends(require(Permission.FACES_SEARCH))]
SettingsReader = Annotated[Principal, Depends(require(Permission.TENANT_READ))]
SettingsManager = Annotated[Principal, Depends(require(Permission.TENANT_UPDATE))]

EnrollBody = Annotated[
    ImageBody[EnrollFields],
    Depends(image_body(EnrollFields, "images", max_images=MAX_FACES_PER_MEMBER)),
]
VerifyBody = Annotated[ImageBody[VerifyFields], Depends(image_body(VerifyFields, "image"))]
IdentifyBody = Annotated[ImageBody[IdentifyFields], Depends(image_body(IdentifyFields, "image"))]
DetectBody = Annotated[ImageBody[DetectFields], Depends(image_body(DetectFields, "image"))]


@enrollment_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=openapi_body(EnrollFields, "images", max_images=MAX_FACES_PER_MEMBER),
)
def enroll_faces(
    member_id: uuid.UUID,
    body: EnrollBody,
    session: DbSession,
    settings: AppSettings,
    principal: BiometricsManager,
    client: Client,
) -> list[FaceTemplateOut]:
    """Enroll 1..5 photos, each with exactly one sharp face (needs the member's consent)."""
    templates = service.enroll(session, principal, member_id, body.decoded(settings), client)
    return [FaceTemplateOut.model_validate(t) for t in templates]


@enrollment_router.get("")
def list_faces(
    member_id: uuid.UUID, session: DbSession, principal: Reader
) -> list[FaceTemplateOut]:
    templates = service.list_templates(principal.scope(session), member_id)
    return [FaceTemplateOut.model_validate(t) for t in templates]


@enrollment_router.delete("")
def erase_faces(
    member_id: uuid.UUID, session: DbSession, principal: BiometricsManager, client: Client
) -> TemplatesErased:
    erased = service.erase_templates(session, principal, member_id, client)
    return TemplatesErased(templates_erased=erased)


@enrollment_router.get(
    "/{template_id}/thumbnail",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def face_thumbnail(
    member_id: uuid.UUID, template_id: uuid.UUID, session: DbSession, principal: BiometricsManager
) -> Response:
    """The aligned face of one template (stored encrypted with the tenant key)."""
    jpeg = service.thumbnail_jpeg(principal.scope(session), member_id, template_id)
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.post("/verify", openapi_extra=openapi_body(VerifyFields, "image"))
def verify(
    body: VerifyBody, session: DbSession, settings: AppSettings, principal: Searcher
) -> VerifyResult:
    """Is the face in the image this member? `distance <= threshold` is a match."""
    (image,) = body.decoded(settings)
    result = service.verify_image(session, principal.scope(session), body.fields.member_id, image)
    return VerifyResult(match=result.match, distance=result.distance, threshold=result.threshold)


@router.post("/identify", openapi_extra=openapi_body(IdentifyFields, "image"))
def identify(
    body: IdentifyBody, session: DbSession, settings: AppSettings, principal: Searcher
) -> IdentifyResult:
    """Who is the (largest) face in the image? `match` is null for strangers."""
    (image,) = body.decoded(settings)
    identification = service.identify_image(
        session, principal.tenant(), image, top_k=body.fields.top_k
    )
    return IdentifyResult.of(identification)


@router.post("/detect", openapi_extra=openapi_body(DetectFields, "image"))
def detect(body: DetectBody, settings: AppSettings, principal: Searcher) -> DetectResult:
    """Faces in the image: boxes, 5 landmarks and whether each is good enough to recognize."""
    del principal  # authorization only: detection touches no tenant data
    (image,) = body.decoded(settings)
    return DetectResult.of(image, service.detect_faces(image, body.fields.mode))


def _settings_out(session: DbSession, principal: Principal) -> FaceSettingsOut:
    tenant_id = principal.tenant()
    return FaceSettingsOut.of(
        tenant_settings.face_settings(session, tenant_id),
        tenant_settings.operating_point(session, tenant_id),
    )


@router.get("/settings")
def get_face_settings(session: DbSession, principal: SettingsReader) -> FaceSettingsOut:
    """The tenant's settings and what they mean at its gallery size (FPIR/FNIR per mode)."""
    return _settings_out(session, principal)


@router.put("/settings")
def put_face_settings(
    body: FaceSettingsUpdate, session: DbSession, principal: SettingsManager
) -> FaceSettingsOut:
    tenant_settings.update_face_settings(
        session,
        principal,
        recognition_tolerance=body.recognition_tolerance,
        retention_days=body.retention_days,
        kiosk_mode=body.kiosk_mode,
        fpir_target=body.fpir_target,
    )
    return _settings_out(session, principal)


routers = [enrollment_router, router]
