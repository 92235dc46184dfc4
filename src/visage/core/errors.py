"""One error hierarchy; every failure reaches the client as one JSON shape.

`{"error": {"code", "message", "details", "request_id"}}` with the stable codes in docs/errors.md.
"""

from __future__ import annotations

from typing import Any, ClassVar

from visage.i18n.errors import translate_error_message


class AppError(Exception):
    """Base of every error the service raises on purpose."""

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "BAD_REQUEST"
    default_message: ClassVar[str] = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        details: Any = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = details
        self.headers = headers or {}
        if code is not None:
            self.code = code  # type: ignore[misc]
        super().__init__(self.message)


class ValidationFailed(AppError):
    status_code = 422
    code = "VALIDATION_ERROR"
    default_message = "Some fields are invalid."


class NotAuthenticated(AppError):
    status_code = 401
    code = "AUTH_004"
    default_message = "Token invalid or expired."


class InvalidCredentials(AppError):
    status_code = 401
    code = "AUTH_001"
    # PowerGym/Messaging/AllIN say "Invalid credentials", WiWebb the sentence after it.
    default_message = "Invalid credentials. Unable to log in with provided credentials."


class AccountNotVerified(AppError):
    status_code = 403
    code = "AUTH_002"
    default_message = "Account not verified: check your email for the verification link."


class AccountInactive(AppError):
    status_code = 403
    code = "AUTH_003"
    default_message = "Account or organization is inactive."


class PermissionDenied(AppError):
    status_code = 403
    code = "PERMISSION_DENIED"
    default_message = "You do not have permission to do this."


class NotFound(AppError):
    status_code = 404
    code = "NOT_FOUND"
    default_message = "Not found."


class Conflict(AppError):
    status_code = 409
    code = "CONFLICT"
    default_message = "This conflicts with existing data."


class PayloadTooLarge(AppError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"
    default_message = "The request body is too large."


class RateLimited(AppError):
    status_code = 429
    code = "RATE_LIMITED"
    default_message = "Rate limit exceeded: too many requests, retry later."


class ServiceUnavailable(AppError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"
    default_message = "A component the service needs is unavailable."


def error_body(
    code: str, message: str, details: Any = None, request_id: str | None = None
) -> dict[str, Any]:
    """The one error shape; `message` in the request's language (the `code` never changes)."""
    return {
        "error": {
            "code": code,
            "message": translate_error_message(message),
            "details": details,
            "request_id": request_id,
        }
    }
