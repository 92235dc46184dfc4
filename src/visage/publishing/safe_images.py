"""The published copy of an event photo: every face our detector finds that is not of someone
who agreed to publicity is blurred beyond recognition, and the picture is cropped to the
platform's aspect ratio around the faces. The original in storage is never touched."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

from PIL import Image, ImageFilter, ImageOps
from sqlalchemy.orm import Session

from visage.config import Settings
from visage.core.storage import get_storage
from visage.events.detection import FoundFace, find_faces
from visage.events.models import Photo
from visage.faces.protection import tenant_protector
from visage.faces.tenant_settings import recognition_threshold
from visage.identity.principal import Principal
from visage.publishing import platforms
from visage.publishing.consent import nearest_consenting_distance
from visage.publishing.models import Platform

# The blurred area reaches past the detector's box (hair, ears, chin) by this share of its size.
BLUR_MARGIN = 0.35
# Pixelated to this many blocks across the face, then smoothed: no detector or person can
# recover a face from it.
PIXEL_BLOCKS = 6
MAX_SIDE = 2048
JPEG_QUALITIES = (88, 80, 70, 60, 50)


def original_key(photo: Photo) -> str:
    """Where the events domain keeps a photo's original (events/<tenant>/<event>/<photo>/)."""
    extension = {"jpeg": "jpg", "png": "png", "webp": "webp", "heif": "heic"}[photo.format]
    return f"events/{photo.tenant_id}/{photo.event_id}/{photo.id}/original.{extension}"


@dataclass(frozen=True)
class SafeImage:
    data: bytes
    faces_kept: int
    faces_blurred: int
    width: int
    height: int


@dataclass(frozen=True)
class FaceDecision:
    box: tuple[int, int, int, int]
    keep: bool


def decide_faces(
    session: Session,
    tenant_id: uuid.UUID,
    event_id: uuid.UUID,
    faces: list[FoundFace],
) -> list[FaceDecision]:
    """Keep a face only when it is recognizably someone who agreed; blur every other one
    (strangers, refusals, faces too small or blurred to tell who they are)."""
    if not faces:
        return []
    protector = tenant_protector(session, tenant_id, for_search=True)
    tolerance = recognition_threshold(session, tenant_id)
    decisions = []
    for face in faces:
        box = (face.box["left"], face.box["top"], face.box["right"], face.box["bottom"])
        keep = False
        if face.usable:
            distance = nearest_consenting_distance(
                session, tenant_id, event_id, protector.protect(face.embedding)
            )
            keep = distance is not None and distance <= tolerance
        decisions.append(FaceDecision(box, keep))
    return decisions


def _blur(image: Image.Image, box: tuple[int, int, int, int]) -> None:
    left, top, right, bottom = box
    margin_x, margin_y = (right - left) * BLUR_MARGIN, (bottom - top) * BLUR_MARGIN
    area = (
        max(0, int(left - margin_x)),
        max(0, int(top - margin_y * 1.5)),
        min(image.width, int(right + margin_x)),
        min(image.height, int(bottom + margin_y)),
    )
    region = image.crop(area)
    small = region.resize((PIXEL_BLOCKS, PIXEL_BLOCKS), Image.Resampling.BOX)
    pixelated = small.resize(region.size, Image.Resampling.NEAREST)
    radius = max(4, (area[2] - area[0]) // PIXEL_BLOCKS)
    image.paste(pixelated.filter(ImageFilter.GaussianBlur(radius)), area[:2])


def crop_window(
    width: int,
    height: int,
    aspect_range: tuple[float, float] | None,
    boxes: list[tuple[int, int, int, int]],
) -> tuple[int, int, int, int]:
    """The largest window within the platform's aspect range, placed to hold the faces (their
    union centred when it fits)."""
    if aspect_range is None:
        return (0, 0, width, height)
    low, high = aspect_range
    ratio = width / height
    if low <= ratio <= high:
        return (0, 0, width, height)
    if ratio > high:  # too wide: narrower window, full height
        crop_w, crop_h = round(height * high), height
    else:  # too tall: shorter window, full width
        crop_w, crop_h = width, round(width / low)
    if boxes:
        centre_x = (min(b[0] for b in boxes) + max(b[2] for b in boxes)) / 2
        centre_y = (min(b[1] for b in boxes) + max(b[3] for b in boxes)) / 2
    else:
        centre_x, centre_y = width / 2, height / 2
    left = int(min(max(0, centre_x - crop_w / 2), width - crop_w))
    top = int(min(max(0, centre_y - crop_h / 2), height - crop_h))
    return (left, top, left + crop_w, top + crop_h)


def _encode(image: Image.Image, max_bytes: int) -> bytes:
    for quality in JPEG_QUALITIES:
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=quality, optimize=True)
        if buffer.tell() <= max_bytes:
            break
    return buffer.getvalue()


def render(
    original: bytes,
    decisions: list[FaceDecision],
    *,
    aspect_range: tuple[float, float] | None,
    max_bytes: int,
) -> SafeImage:
    opened = Image.open(io.BytesIO(original))
    image: Image.Image = (ImageOps.exif_transpose(opened) or opened).convert("RGB")
    for decision in decisions:
        if not decision.keep:
            _blur(image, decision.box)
    window = crop_window(
        image.width,
        image.height,
        aspect_range,
        [d.box for d in decisions if d.keep] or [d.box for d in decisions],
    )
    image = image.crop(window)
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    kept = sum(decision.keep for decision in decisions)
    return SafeImage(
        _encode(image, max_bytes), kept, len(decisions) - kept, image.width, image.height
    )


def consent_safe_copy(
    session: Session,
    settings: Settings,
    *,
    tenant_id: uuid.UUID,
    event_id: uuid.UUID,
    original: bytes,
    aspect_range: tuple[float, float] | None,
    max_bytes: int,
) -> SafeImage:
    decisions = decide_faces(session, tenant_id, event_id, find_faces(original, settings))
    return render(original, decisions, aspect_range=aspect_range, max_bytes=max_bytes)


def preview(
    session: Session,
    settings: Settings,
    principal: Principal,
    photo_id: uuid.UUID,
    platform: Platform,
) -> SafeImage:
    """What `platform` would receive for this photo now: faces blurred, cropped (composer)."""
    photo = principal.scope(session).get(Photo, photo_id, what="Photo")
    rules = platforms.RULES[platform]
    return consent_safe_copy(
        session,
        settings,
        tenant_id=photo.tenant_id,
        event_id=photo.event_id,
        original=get_storage().get(original_key(photo)),
        aspect_range=rules.aspect_range,
        max_bytes=rules.max_image_bytes,
    )
