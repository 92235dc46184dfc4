"""The face domain's stable error codes (docs/errors.md)."""

from __future__ import annotations

from visage.core.errors import AppError

# The seed's advice for "No face detected", given with FACE_001.
NO_FACE_ADVICE = (
    "Use a well-lit photo where the face is clearly visible and frontal (within 30 degrees), "
    "at least 640x640 pixels, in JPEG, PNG or WebP."
)


class NoFaceDetected(AppError):
    status_code = 422
    code = "FACE_001"
    default_message = f"No face detected in the image. {NO_FACE_ADVICE}"


class SeveralFaces(AppError):
    status_code = 422
    code = "FACE_002"
    default_message = "More than one face in the image: use a photo of this person alone."


class FaceQualityTooLow(AppError):
    status_code = 422
    code = "FACE_003"
    default_message = (
        "The face is too small or too blurred: move closer to the camera, hold still, "
        "and use a sharp photo where the face is at least 50 pixels wide."
    )


class NoFaceEnrolled(AppError):
    status_code = 409
    code = "FACE_004"
    default_message = "This member has no enrolled face: enroll one first."


class ConsentRequired(AppError):
    status_code = 409
    code = "FACE_005"
    default_message = (
        "The member has not consented to biometric processing: record consent first "
        "(POST /api/v1/members/{id}/consent)."
    )


class TooManyFaces(AppError):
    status_code = 409
    code = "FACE_006"
    default_message = "A member holds at most 5 enrolled faces: delete them before enrolling again."
