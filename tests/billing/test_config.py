"""Production refuses billing settings meant for development, naming the variable."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from visage.config import ConfigError, load_settings


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.chdir(tmp_path)  # no stray .env
    values = {
        "VISAGE_DATA_DIR": str(tmp_path),
        "ENVIRONMENT": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "BIOMETRIC_ENCRYPTION_KEY": secrets.token_urlsafe(48),
        "SUPER_ADMIN_PASSWORD": secrets.token_urlsafe(16),
        "USE_LOCALSTRIPE": "false",
        "STRIPE_SECRET_KEY": "sk_live_" + "x" * 24,
        "STRIPE_PUBLIC_KEY": "pk_live_" + "x" * 24,
        "STRIPE_WEBHOOK_SECRET": "whsec_" + "x" * 24,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_live_keys_with_a_webhook_secret_start(production: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.stripe_secret_key.startswith("sk_live_")
    assert settings.localstripe_url == "http://localhost:8420"


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("STRIPE_SECRET_KEY", "sk_test_local", "STRIPE_SECRET_KEY is a test key"),
        ("STRIPE_PUBLIC_KEY", "pk_test_local", "STRIPE_PUBLIC_KEY is a test key"),
        ("USE_LOCALSTRIPE", "True", "USE_LOCALSTRIPE=True"),
        ("STRIPE_WEBHOOK_SECRET", "", "STRIPE_WEBHOOK_SECRET is not set"),
    ],
)
def test_production_refuses_development_billing(
    production: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    production.setenv(variable, value)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert named in str(refused.value)


def test_development_accepts_localstripe_and_test_keys(production: pytest.MonkeyPatch) -> None:
    production.setenv("ENVIRONMENT", "development")
    production.setenv("USE_LOCALSTRIPE", "True")
    production.setenv("STRIPE_SECRET_KEY", "sk_test_local")
    production.setenv("STRIPE_WEBHOOK_SECRET", "")
    assert load_settings().use_localstripe is True
