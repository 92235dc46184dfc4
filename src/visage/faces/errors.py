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


# FACE_003 says which of size or blur is the problem. Pose and light are measured too, but on
# the calibration set neither changed genuine distances (docs/biometrics.md), so they refuse
# nothing.
FACE_QUALITY_MESSAGES = {
    "too_small": (
        "The face is too small: move closer to the camera or use a photo where the face is "
        "at least 50 pixels wide."
    ),
    "too_blurred": "The face is too blurred: hold still and use a sharp, focused photo.",
}


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
