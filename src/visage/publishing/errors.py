"""Publishing errors: SOCIAL_* (accounts, platforms), CONTENT_* (posts), AI_* (captions)."""

from __future__ import annotations

from visage.core.errors import AppError


class PlatformNotConfigured(AppError):
    status_code = 409
    code = "SOCIAL_001"
    default_message = "This platform's OAuth app is not configured (its *_CLIENT_ID is empty)."


class OAuthFailed(AppError):
    status_code = 400
    code = "SOCIAL_002"
    default_message = "OAuth flow failed: start the connection again."


class PlatformRateLimit(AppError):
    status_code = 429
    code = "SOCIAL_003"
    default_message = "Rate limit exceeded on the platform: retried after its reset."


class AccountExpired(AppError):
    status_code = 409
    code = "SOCIAL_004"
    default_message = "The account's token expired and could not be refreshed: reconnect it."


class PlatformUnreachable(AppError):
    """The platform's API could not be reached (connection refused or timed out): nothing was
    sent; `details.component` names the platform."""

    status_code = 503
    code = "SOCIAL_006"
    default_message = "The social platform cannot be reached right now: try again later."

    def __init__(self, platform: str, reason: str) -> None:
        super().__init__(
            f"{platform} cannot be reached right now ({reason}): try again later.",
            details={"component": platform, "reason": reason},
        )


class ContentInvalid(AppError):
    status_code = 422
    code = "CONTENT_001"
    default_message = "The post cannot be accepted as sent."


class PostNotEditable(AppError):
    status_code = 409
    code = "CONTENT_002"
    default_message = "The post is already publishing or published."


class ContentViolatesRules(AppError):
    status_code = 422
    code = "CONTENT_003"
    default_message = "Content violates platform rules."


class PhotoRefused(AppError):
    status_code = 422
    code = "CONTENT_004"
    default_message = "This photo cannot be published safely."


class AiUnavailable(AppError):
    status_code = 503
    code = "AI_001"
    default_message = "AI service temporarily unavailable."


class AiQuotaExhausted(AppError):
    status_code = 503
    code = "AI_002"
    default_message = "The AI provider's quota is exhausted (insufficient_quota): not retried."


class AiCreditsExhausted(AppError):
    status_code = 402
    code = "AI_003"
    default_message = "This month's AI credits are used up."
