"""The FindMe errors, with their stable codes (docs/errors.md)."""

from __future__ import annotations

from visage.core.errors import AppError


class EventSlugTaken(AppError):
    status_code = 409
    code = "EVENT_001"
    default_message = "Another event of this organization already uses this slug."


class FaceSearchDisabled(AppError):
    status_code = 409
    code = "EVENT_002"
    default_message = "Face search is turned off for this event by its host."


class InvalidAccessCode(AppError):
    status_code = 401
    code = "EVENT_003"
    default_message = "Unknown event access code."


class AttendeeExists(AppError):
    status_code = 409
    code = "EVENT_004"
    default_message = "This email or username is already registered for this event."


class NoFaceInSelfie(AppError):
    status_code = 422
    code = "EVENT_005"
    default_message = "No usable face found in the selfie: face the camera in good light."


class PhotoAccessDenied(AppError):
    status_code = 403
    code = "EVENT_006"
    default_message = "This photo is only available to the people in it and to the organizers."


class NotificationsNeedAccount(AppError):
    status_code = 403
    code = "EVENT_007"
    default_message = (
        "New-photo notifications need an attendee account (an email to write to): register "
        "for the event first."
    )


class FacesNotOfPerson(AppError):
    status_code = 422
    code = "EVENT_008"
    default_message = (
        "Only faces of this person can be split off (and not all of them), and merging needs "
        "at least two people of the event."
    )
