"""`/health` and `visage doctor` say whether Stripe answers and whether webhooks can be verified."""

from __future__ import annotations

import httpx

from tests.conftest import free_port
from visage.config import Settings
from visage.health.checks import check_stripe


def test_health_reports_localstripe_reachable(visage_server: str) -> None:
    stripe = httpx.get(f"{visage_server}/health", timeout=30).json()["components"]["stripe"]
    assert stripe["ok"] is True
    assert stripe["data"]["webhook_secret_set"] is True


def test_unreachable_localstripe_and_missing_secret_fail_with_a_fix(
    settings: Settings, billing_env: dict[str, str]
) -> None:
    configured = settings.model_copy(
        update={
            "use_localstripe": True,
            "stripe_secret_key": billing_env["STRIPE_SECRET_KEY"],
            "localstripe_url": billing_env["LOCALSTRIPE_URL"],
        }
    )
    no_secret = check_stripe(configured)
    assert not no_secret.ok
    assert "STRIPE_WEBHOOK_SECRET" in no_secret.detail

    dead = configured.model_copy(update={"localstripe_url": f"http://127.0.0.1:{free_port()}"})
    unreachable = check_stripe(dead)
    assert not unreachable.ok
    assert "LOCALSTRIPE_URL" in unreachable.fix

    assert check_stripe(settings).ok  # billing off: nothing to check
