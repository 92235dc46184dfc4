"""Identity's own error codes (documented in docs/errors.md)."""

from __future__ import annotations

from visage.core.errors import AppError, ValidationFailed


class WeakPassword(ValidationFailed):
    code = "AUTH_005"
    default_message = "This password is not allowed."


class AmbiguousAccount(AppError):
    status_code = 400
    code = "AUTH_006"
    default_message = "This account exists in several organizations: give the tenant slug."


class FieldNotAllowed(AppError):
    status_code = 403
    code = "FIELD_NOT_ALLOWED"
    default_message = "Your role may not set some of these fields."
