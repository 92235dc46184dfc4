"""Messaging errors, with their stable codes (docs/errors.md)."""

from __future__ import annotations

from visage.core.errors import AppError


class NoConsent(AppError):
    status_code = 409
    code = "MESSAGING_001"
    default_message = (
        "This member has not opted in to WhatsApp messages: record it with "
        "PUT /api/v1/members/{member_id}/messaging."
    )


class OptedOut(AppError):
    status_code = 409
    code = "MESSAGING_002"
    default_message = "This number opted out of WhatsApp messages (it texted an opt-out word)."


class NoPhone(AppError):
    status_code = 422
    code = "MESSAGING_003"
    default_message = (
        "No usable WhatsApp number: give the phone in international form (country code first)."
    )


class NoSession(AppError):
    status_code = 409
    code = "MESSAGING_004"
    default_message = "Connect WhatsApp first: POST /api/v1/messaging/sessions, then scan the QR."


class InvalidSignature(AppError):
    status_code = 401
    code = "MESSAGING_005"
    default_message = "Webhook signature missing or invalid (X-Webhook-Hmac, HMAC-SHA512)."


class GatewayUnavailable(AppError):
    status_code = 503
    code = "MESSAGING_006"
    default_message = "The WhatsApp gateway (WAHA) is unreachable: check WAHA_BASE_URL."


class GatewayRefused(AppError):
    status_code = 502
    code = "MESSAGING_007"
    default_message = "The WhatsApp gateway (WAHA) refused the request."


class QrNotAvailable(AppError):
    status_code = 409
    code = "MESSAGING_008"
    default_message = "No QR code to scan: the session is not waiting for a scan (SCAN_QR_CODE)."


class TemplateInvalid(AppError):
    status_code = 422
    code = "MESSAGING_009"
    default_message = "The template uses an unknown variable or lacks a value for one."


class IdempotencyConflict(AppError):
    status_code = 409
    code = "MESSAGING_010"
    default_message = "This idempotency key was already used for a different message."


class NotOnWhatsApp(AppError):
    status_code = 422
    code = "MESSAGING_011"
    default_message = "This number is not on WhatsApp (WAHA's check-exists)."


class MessagingNotConfigured(AppError):
    status_code = 409
    code = "MESSAGING_012"
    default_message = (
        "WhatsApp is not configured: set WAHA_BASE_URL, WAHA_API_KEY and WEBHOOK_SECRET."
    )
