"""Billing's error codes (documented in docs/errors.md)."""

from __future__ import annotations

from visage.core.errors import AppError


class BillingNotConfigured(AppError):
    # A state of this installation, not an outage: 409 like other "not set up yet" refusals.
    status_code = 409
    code = "BILLING_001"
    default_message = "Billing is not configured: set STRIPE_SECRET_KEY (and USE_LOCALSTRIPE)."


class PlanNotPriced(AppError):
    status_code = 409
    code = "BILLING_002"
    default_message = "This plan has no price: set one before selling it through Stripe."


class AlreadySubscribed(AppError):
    status_code = 409
    code = "BILLING_003"
    default_message = "This member already has a live subscription: change or cancel it."


class CardDeclined(AppError):
    status_code = 402
    code = "BILLING_004"
    default_message = "The card was declined."


STRIPE_RETRY_AFTER_SECONDS = 30


class StripeUnavailable(AppError):
    status_code = 503
    code = "BILLING_005"
    default_message = "Stripe could not be reached: nothing was charged twice, try again."

    def __init__(self, message: str | None = None) -> None:
        # Named like the database's outage (SERVICE_UNAVAILABLE): clients and /health agree.
        super().__init__(
            message,
            details={"component": "stripe"},
            headers={"Retry-After": str(STRIPE_RETRY_AFTER_SECONDS)},
        )


class StripeRefused(AppError):
    status_code = 422
    code = "BILLING_006"
    default_message = "Stripe refused the request."


class InvalidWebhook(AppError):
    status_code = 400
    code = "BILLING_007"
    default_message = "Webhook signature missing, invalid or too old."


class NoSubscription(AppError):
    status_code = 404
    code = "BILLING_008"
    default_message = "This member has no subscription."


class NotRefundable(AppError):
    status_code = 409
    code = "BILLING_009"
    default_message = "This invoice has no payment to refund."
