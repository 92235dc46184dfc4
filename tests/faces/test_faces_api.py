"""Enrollment, identify, verify and detect through the API, as a new tenant owner would use them.

The owner creates a member, records consent and enrolls two photos; a third photo of the same
person is identified, a stranger is not.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image, ImageFilter
from sqlalchemy import select

from tests.faces.conftest import Gym, side_by_side
from tests.images import FACES_DIR, as_base64, face_bytes, jpeg
from visage.core.db import Database
from visage.faces.calibration.model import shipped_score_model
from visage.faces.models import FaceTemplate
from visage.identity.models import AuditEvent, Role, Tenant, User


@pytest.fixture(scope="module")
def gym(make_gym: Callable[[], Gym]) -> Gym:
    return make_gym()


@pytest.fixture(scope="module")
def obama(gym: Gym) -> uuid.UUID:
    """The new-user flow: a member with consent and two enrolled photos."""
    member_id = gym.new_member("Barack Obama")
    response = gym.enroll(member_id, "obama.jpg", "obama2.jpg")
    assert response.status_code == 201, response.text
    return member_id


@pytest.fixture(scope="module")
def obama3_identified(gym: Gym, obama: uuid.UUID) -> dict[str, object]:
    response = gym.identify(face_bytes("obama3.jpg"), top_k=3)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_third_photo_of_an_enrolled_member_matches(
    obama: uuid.UUID, obama3_identified: dict[str, object]
) -> None:
    assert obama3_identified["outcome"] == "MATCH"
    match = obama3_identified["match"]
    assert isinstance(match, dict)
    assert match["member_id"] == str(obama)
    # One member: the acceptance distance the LFW curve allows at N = 1 for a 0.1 % FPIR.
    calibrated = shipped_score_model().acceptance_distance(1, 0.001)
    assert obama3_identified["threshold"] == pytest.approx(calibrated, abs=1e-3)
    assert 0 < match["distance"] <= obama3_identified["threshold"]
    assert obama3_identified["gallery_size"] == 1
    assert obama3_identified["expected_fpir"] <= 0.001


def test_stranger_is_no_match(gym: Gym, obama: uuid.UUID) -> None:
    # Sent as multipart this time, the JSON above was base64.
    response = gym.post(
        "/faces/identify", files={"image": ("b.jpg", face_bytes("biden.jpg"))}, data={"top_k": "1"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["outcome"] == "UNKNOWN_FACE"
    assert body["match"] is None
    # The nearest member is still shown as a candidate, beyond the threshold.
    assert [c["member_id"] for c in body["candidates"]] == [str(obama)]
    assert body["candidates"][0]["distance"] > body["threshold"]


def test_verify_accepts_the_member_and_rejects_a_stranger(gym: Gym, obama: uuid.UUID) -> None:
    same = gym.post(
        "/faces/verify",
        json={"member_id": str(obama), "image": as_base64(face_bytes("obama3.jpg"), data_url=True)},
    )
    other = gym.post(
        "/faces/verify",
        files={"image": ("h.jpg", face_bytes("hopper.jpg"))},
        data={"member_id": str(obama)},
    )
    assert same.status_code == other.status_code == 200, (same.text, other.text)
    assert same.json()["match"] is True
    assert same.json()["distance"] <= 0.6
    assert other.json()["match"] is False
    assert other.json()["distance"] > 0.6


def test_detect_reports_boxes_in_original_pixels(gym: Gym) -> None:
    group = side_by_side("obama.jpg", "biden.jpg")
    width = Image.open(io.BytesIO(group)).width
    # "photo": every face (a kiosk frame's answer is the person in front).
    response = gym.post("/faces/detect", json={"image": as_base64(group), "mode": "photo"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["width"], body["height"]) == (width, 400)
    assert len(body["faces"]) == 2
    for face in body["faces"]:
        box = face["box"]
        assert 0 <= box["left"] < box["right"] <= width
        assert len(face["landmarks"]) == 5
        assert face["quality"]["usable"] is True


def test_templates_listed_without_vectors_and_thumbnails_encrypted(
    gym: Gym, obama: uuid.UUID, database: Database
) -> None:
    listed = gym.get(f"/members/{obama}/faces").json()
    assert len(listed) == 2
    assert set(listed[0]) == {
        "id",
        "member_id",
        "created_at",
        "sharpness",
        "face_width",
        "detection_score",
    }
    thumbnail = gym.get(f"/members/{obama}/faces/{listed[0]['id']}/thumbnail")
    assert thumbnail.status_code == 200
    assert thumbnail.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(thumbnail.content)).size == (150, 150)
    with database.session() as session:
        stored = session.scalar(
            select(FaceTemplate.thumbnail).where(FaceTemplate.id == uuid.UUID(listed[0]["id"]))
        )
    assert stored is not None
    assert not stored.startswith(b"\xff\xd8")
    assert thumbnail.content not in stored


def test_enrollment_is_audited(gym: Gym, obama: uuid.UUID, database: Database) -> None:
    with database.session() as session:
        actions = set(
            session.scalars(
                select(AuditEvent.action).where(
                    AuditEvent.tenant_id == gym.tenant.id, AuditEvent.target_id == str(obama)
                )
            )
        )
    assert {"member.created", "consent.given", "faces.enrolled"} <= actions


def test_other_tenants_see_neither_the_member_nor_its_faces(
    make_gym: Callable[[], Gym], obama: uuid.UUID
) -> None:
    other = make_gym()
    assert other.get(f"/members/{obama}/faces").status_code == 404
    assert other.enroll(obama, "obama3.jpg").status_code == 404
    verify = other.post(
        "/faces/verify",
        json={"member_id": str(obama), "image": as_base64(face_bytes("obama3.jpg"))},
    )
    assert verify.status_code == 404


# --- errors -----------------------------------------------------------------------------


def test_enrollment_without_consent_is_refused(gym: Gym) -> None:
    member_id = gym.new_member("No Consent", consent=False)
    response = gym.enroll(member_id, "hopper.jpg")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "FACE_005"


def test_image_without_a_face_gives_the_advice(gym: Gym, obama: uuid.UUID) -> None:
    blank = jpeg(Image.new("RGB", (640, 480), (128, 140, 150)))
    response = gym.identify(blank)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "FACE_001"
    assert "lit" in error["message"]
    assert "frontal" in error["message"]


def test_enrollment_photo_with_two_faces_is_refused(gym: Gym) -> None:
    member_id = gym.new_member("Group")
    group = side_by_side("obama.jpg", "biden.jpg")
    response = gym.post(f"/members/{member_id}/faces", json={"images": [as_base64(group)]})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "FACE_002"
    assert error["details"] == {"image": 0, "faces": 2}


@pytest.fixture(scope="module")
def blurred_hopper() -> bytes:
    # Radius 6 on this 182 px face: sharpness 2.9, and 0.5 from the sharp photo's own
    # embedding. (Radius 4 leaves sharpness 7.9, above the calibrated gate's 5: on LFW such
    # blur does not raise genuine distances, so it is no longer refused.)
    return jpeg(Image.open(FACES_DIR / "hopper.jpg").filter(ImageFilter.GaussianBlur(6)))


def test_blurred_enrollment_photo_is_refused(gym: Gym, blurred_hopper: bytes) -> None:
    member_id = gym.new_member("Blurred")
    response = gym.post(
        f"/members/{member_id}/faces",
        json={"images": [as_base64(face_bytes("hopper.jpg")), as_base64(blurred_hopper)]},
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "FACE_003"
    assert error["details"]["image"] == 1
    assert error["details"]["reason"] == "too_blurred"
    # All or nothing: the sharp first photo was not kept either.
    assert gym.get(f"/members/{member_id}/faces").json() == []


def test_blurred_frame_is_low_confidence_not_a_guess(
    gym: Gym, obama: uuid.UUID, blurred_hopper: bytes
) -> None:
    body = gym.identify(blurred_hopper).json()
    assert body["outcome"] == "LOW_CONFIDENCE"
    assert body["match"] is None


def test_more_than_five_faces_per_member_is_refused(gym: Gym, obama: uuid.UUID) -> None:
    response = gym.enroll(obama, "obama3.jpg", "obama3.jpg", "obama3.jpg", "obama3.jpg")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "FACE_006"


def test_verify_of_a_member_without_faces(gym: Gym) -> None:
    member_id = gym.new_member("Not Enrolled")
    response = gym.post(
        "/faces/verify",
        json={"member_id": str(member_id), "image": as_base64(face_bytes("obama3.jpg"))},
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "FACE_004"


@pytest.mark.parametrize(
    ("images", "status", "code"),
    [
        (["bm90IGFuIGltYWdl"], 415, "IMAGE_001"),  # "not an image"
        (["***"], 415, "IMAGE_001"),
        ([], 422, "VALIDATION_ERROR"),
        ([as_base64(b"x")] * 6, 422, "VALIDATION_ERROR"),
    ],
)
def test_bad_enrollment_bodies(
    gym: Gym, obama: uuid.UUID, images: list[str], status: int, code: str
) -> None:
    response = gym.post(f"/members/{obama}/faces", json={"images": images})
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_decompression_bomb_is_refused_before_decoding(gym: Gym) -> None:
    # A valid 64-megapixel PNG (over MAX_IMAGE_PIXELS) that compresses to a few kilobytes.
    buffer = io.BytesIO()
    Image.new("1", (8000, 8000)).save(buffer, format="PNG")
    assert len(buffer.getvalue()) < 100_000
    response = gym.post("/faces/detect", files={"image": ("bomb.png", buffer.getvalue())})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "IMAGE_002"


def test_stored_vectors_are_not_the_embeddings(
    gym: Gym, obama: uuid.UUID, database: Database
) -> None:
    from visage.core.images import ImageLimits, decode_image
    from visage.faces.pipeline import analyze

    image = decode_image(face_bytes("obama.jpg"), ImageLimits(10**8, 10**8))
    (face,) = analyze(image.rgb, "photo")  # as enrollment analyzes it
    with database.session() as session:
        stored = [
            np.asarray(vector)
            for vector in session.scalars(
                select(FaceTemplate.embedding).where(FaceTemplate.member_id == obama)
            )
        ]
    # Same length (the rotation keeps norms) but nowhere near the raw embedding.
    nearest = min(stored, key=lambda v: abs(np.linalg.norm(v) - np.linalg.norm(face.embedding)))
    assert np.linalg.norm(nearest) == pytest.approx(np.linalg.norm(face.embedding), rel=1e-4)
    assert min(np.linalg.norm(v - face.embedding) for v in stored) > 1.0


def test_erasing_faces_and_withdrawing_consent(gym: Gym, database: Database) -> None:
    member_id = gym.new_member("Erasable")

    def add_templates(count: int) -> None:
        with database.session() as session:
            for _ in range(count):
                session.add(
                    FaceTemplate(
                        tenant_id=gym.tenant.id,
                        member_id=member_id,
                        embedding=np.full(128, 0.05, dtype=np.float32),
                        sharpness=100.0,
                        face_width=120,
                        detection_score=1.0,
                    )
                )

    add_templates(2)
    erased = gym.delete(f"/members/{member_id}/faces")
    assert erased.status_code == 200
    assert erased.json() == {"templates_erased": 2}
    assert gym.get(f"/members/{member_id}/faces").json() == []
    add_templates(1)
    withdrawn = gym.delete(f"/members/{member_id}/consent")
    assert withdrawn.json() == {"templates_erased": 1}
    member = gym.get(f"/members/{member_id}").json()
    assert (member["face_count"], member["consent"]) == (0, None)
    with database.session() as session:
        erasures = session.scalars(
            select(AuditEvent.details).where(
                AuditEvent.action == "faces.erased", AuditEvent.target_id == str(member_id)
            )
        ).all()
    assert sorted(e["reason"] for e in erasures) == ["consent withdrawn", "request"]


def test_roles_and_devices_cannot_use_biometrics(
    gym: Gym,
    obama: uuid.UUID,
    make_user: Callable[..., User],
    auth_headers: Callable[[User], dict[str, str]],
    device_headers: Callable[[Tenant], dict[str, str]],
) -> None:
    photographer = auth_headers(make_user(gym.tenant, Role.PHOTOGRAPHER))
    kiosk = device_headers(gym.tenant)
    body = {"image": as_base64(face_bytes("obama3.jpg"))}
    for headers in (photographer, kiosk):
        identify = gym.client.post("/api/v1/faces/identify", json=body, headers=headers)
        assert identify.status_code == 403
        enroll = gym.client.post(
            f"/api/v1/members/{obama}/faces", json={"images": [body["image"]]}, headers=headers
        )
        assert enroll.status_code == 403
    assert gym.client.post("/api/v1/faces/detect", json=body).status_code == 401


def test_openapi_documents_both_image_encodings(gym: Gym) -> None:
    schema = gym.client.get("/api/v1/openapi.json").json()
    content = schema["paths"]["/api/v1/members/{member_id}/faces"]["post"]["requestBody"]["content"]
    assert content["multipart/form-data"]["schema"]["properties"]["images"]["maxItems"] == 5
    identify = schema["paths"]["/api/v1/faces/identify"]["post"]["requestBody"]["content"]
    assert set(identify["application/json"]["schema"]["required"]) == {"image"}
