"""Settings: validation messages, generated development secrets, production refusals."""

from pathlib import Path

import pytest

from visage.config import ConfigError, load_settings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in (
        "SECRET_KEY",
        "BIOMETRIC_ENCRYPTION_KEY",
        "SUPER_ADMIN_PASSWORD",
        "API_PORT",
        "PUBLIC_BASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VISAGE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ENVIRONMENT", "development")
    monkeypatch.chdir(tmp_path)  # no stray .env
    return tmp_path


def test_bad_type_names_the_variable_and_the_reason(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("API_PORT", "abc")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert "API_PORT='abc'" in str(raised.value)
    assert "valid integer" in str(raised.value)


def test_public_base_url_follows_api_port_unless_set(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The webhook URL to paste into Stripe and the card links name the port Visage serves."""
    assert load_settings().public_base_url == "http://localhost:8000"
    monkeypatch.setenv("API_PORT", "8011")
    assert load_settings().public_base_url == "http://localhost:8011"
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://gym.example.com")
    assert load_settings().public_base_url == "https://gym.example.com"


def test_development_secrets_are_generated_once_and_reused(clean_env: Path) -> None:
    first = load_settings()
    second = load_settings()
    assert len(first.secret_key) >= 32
    assert first.secret_key == second.secret_key
    assert first.biometric_encryption_key == second.biometric_encryption_key
    assert first.secret_key != first.biometric_encryption_key
    assert (clean_env / "secrets.json").stat().st_mode & 0o077 == 0


def test_env_file_is_read(clean_env: Path) -> None:
    (clean_env / ".env").write_text("API_PORT=9123\n")
    assert load_settings().api_port == 9123


def test_production_refuses_missing_secret_naming_it(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 48)
    monkeypatch.setenv("SUPER_ADMIN_PASSWORD", "a long admin password")
    with pytest.raises(ConfigError, match="BIOMETRIC_ENCRYPTION_KEY is not set"):
        load_settings()


def test_production_refuses_weak_secret(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", "changeme")
    monkeypatch.setenv("BIOMETRIC_ENCRYPTION_KEY", "y" * 48)
    monkeypatch.setenv("SUPER_ADMIN_PASSWORD", "a long admin password")
    with pytest.raises(ConfigError, match="SECRET_KEY is weak"):
        load_settings()


def test_production_accepts_strong_secrets(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 48)
    monkeypatch.setenv("BIOMETRIC_ENCRYPTION_KEY", "b" * 48)
    monkeypatch.setenv("SUPER_ADMIN_PASSWORD", "a long admin password")
    settings = load_settings()
    assert settings.is_production
    assert not (clean_env / "secrets.json").exists()
