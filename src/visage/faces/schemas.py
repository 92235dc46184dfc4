"""Request and response bodies of the faces API (images travel as multipart or base64)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal, cast

from pydantic import BaseModel, ConfigDict, Field

from visage.core.images import DecodedImage
from visage.faces.decision import KioskMode, OperatingPoint, describe
from visage.faces.inference.base import DetectionMode
from visage.faces.models import DEFAULT_RETENTION_DAYS, TenantFaceSettings
from visage.faces.pipeline import AssessedFace
from visage.faces.service import Candidate, Identification
from visage.identity.schemas import Strict


class EnrollFields(Strict):
    """Nothing besides `images` (1..5)."""


class VerifyFields(Strict):
    member_id: uuid.UUID


class IdentifyFields(Strict):
    top_k: int = Field(default=3, ge=1, le=20, description="Candidates to return")


class DetectFields(Strict):
    mode: DetectionMode = Field(
        default="kiosk",
        description=(
            "kiosk: the person in front of the camera (smaller faces only when there is no "
            "close one); photo: every face from about 52 px"
        ),
    )


class FaceTemplateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    member_id: uuid.UUID
    created_at: datetime
    sharpness: float
    face_width: int
    detection_score: float


class TemplatesErased(BaseModel):
    templates_erased: int


class VerifyResult(BaseModel):
    match: bool
    distance: float
    threshold: float


class CandidateOut(BaseModel):
    member_id: uuid.UUID
    distance: float

    @classmethod
    def of(cls, candidate: Candidate) -> CandidateOut:
        return cls(member_id=candidate.member_id, distance=candidate.distance)


class IdentifyResult(BaseModel):
    outcome: Literal["MATCH", "UNKNOWN_FACE", "LOW_CONFIDENCE"]
    match: CandidateOut | None = Field(description="The best candidate, only within threshold")
    candidates: list[CandidateOut]
    threshold: float = Field(description="The acceptance distance at this gallery size")
    gallery_size: int
    expected_fpir: float = Field(description="Face alone: strangers let in at this size")
    expected_fnir: float = Field(description="Face alone: members not recognized")

    @classmethod
    def of(cls, identification: Identification) -> IdentifyResult:
        candidates = [CandidateOut.of(c) for c in identification.candidates]
        matched = identification.outcome == "MATCH"
        point = identification.point
        return cls(
            outcome=identification.outcome,
            match=candidates[0] if matched else None,
            candidates=candidates,
            threshold=identification.threshold,
            gallery_size=point.gallery_size if point else 0,
            expected_fpir=point.rates["face"].fpir if point else 0.0,
            expected_fnir=point.rates["face"].fnir if point else 0.0,
        )


class Box(BaseModel):
    left: int
    top: int
    right: int
    bottom: int


class Quality(BaseModel):
    usable: bool
    reason: Literal["too_small", "too_blurred"] | None
    sharpness: float
    face_width: int


class DetectedFaceOut(BaseModel):
    box: Box
    landmarks: list[tuple[float, float]] = Field(
        description="5 points: outer and inner eye corners of each eye, nose base"
    )
    score: float
    quality: Quality


class DetectResult(BaseModel):
    """Coordinates are in the pixels of the image as sent (EXIF orientation applied)."""

    width: int
    height: int
    faces: list[DetectedFaceOut]

    @classmethod
    def of(cls, image: DecodedImage, faces: list[AssessedFace]) -> DetectResult:
        to_original = 1.0 / image.scale
        return cls(
            width=image.original_width,
            height=image.original_height,
            faces=[
                DetectedFaceOut(
                    box=Box(**{k: round(v * to_original) for k, v in f.face.box().items()}),
                    landmarks=[
                        (round(float(x) * to_original, 1), round(float(y) * to_original, 1))
                        for x, y in f.face.landmarks
                    ],
                    score=round(f.face.score, 3),
                    quality=Quality(
                        usable=f.usable,
                        reason=f.reason,
                        sharpness=round(f.sharpness, 1),
                        face_width=f.face.width,
                    ),
                )
                for f in faces
            ],
        )


class ExpectedRates(BaseModel):
    fpir: float = Field(description="Share of strangers let in (PIN modes: per PIN typed)")
    fnir: float = Field(description="Share of members the kiosk does not let in")


class FaceSettingsOut(BaseModel):
    recognition_tolerance: float | None = Field(
        description="The tenant's own acceptance distance; null = calibrated for its size"
    )
    retention_days: int
    effective_tolerance: float = Field(
        description="Face alone accepts within this distance at the current gallery size"
    )
    kiosk_mode: KioskMode | None = Field(description="null: chosen for the gallery size")
    effective_kiosk_mode: KioskMode
    fpir_target: float | None = Field(description="null: FACE_FPIR_TARGET")
    effective_fpir_target: float
    gallery_size: int = Field(description="Members with an enrolled face")
    expected: dict[KioskMode, ExpectedRates] = Field(
        description="Expected error rates at this gallery size, per kiosk mode"
    )
    summary: str = Field(description="The same, in words")

    @classmethod
    def of(cls, row: TenantFaceSettings, point: OperatingPoint) -> FaceSettingsOut:
        return cls(
            recognition_tolerance=row.recognition_tolerance,
            retention_days=row.retention_days,
            effective_tolerance=round(point.acceptance, 4),
            kiosk_mode=cast("KioskMode | None", row.kiosk_mode),
            effective_kiosk_mode=point.mode,
            fpir_target=row.fpir_target,
            effective_fpir_target=point.fpir_target,
            gallery_size=point.gallery_size,
            expected={
                mode: ExpectedRates(fpir=rates.fpir, fnir=rates.fnir)
                for mode, rates in point.rates.items()
            },
            summary=describe(point),
        )


class FaceSettingsUpdate(Strict):
    recognition_tolerance: float | None = Field(
        default=None,
        gt=0,
        lt=2,
        description="Lower: fewer false accepts, more false rejects. null: calibrated",
    )
    retention_days: int = Field(
        default=DEFAULT_RETENTION_DAYS,
        ge=1,
        le=DEFAULT_RETENTION_DAYS,
        description="Templates of members inactive this long are erased (BIPA: 3 years at most)",
    )
    kiosk_mode: KioskMode | None = Field(
        default=None,
        description="face, face_then_pin or face_and_pin; null: face_then_pin once face alone "
        "cannot keep the target at the gallery size",
    )
    fpir_target: float | None = Field(
        default=None, gt=0, le=0.1, description="Strangers let in at most; null: FACE_FPIR_TARGET"
    )
