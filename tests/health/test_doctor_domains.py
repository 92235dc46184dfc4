"""`visage doctor`'s checks of the domains' keys and tokens: social accounts whose tokens expired
or soon will, naming the fix (reconnect under Publishing), and the AI providers' keys, naming the
variable to set (AllIN's guide); the form of the Stripe keys (WiWebb's)."""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.contracts.waha import WahaContract
from tests.guides.databases import scratch_database
from tests.guides.situations import run_visage
from visage.config import Settings
from visage.core.db import Database, utcnow
from visage.health.checks import check_messaging_settings, check_stripe
from visage.health.publishing_checks import check_ai_keys, check_social_tokens
from visage.identity import service as identity_service
from visage.publishing.models import AccountStatus, Platform, SocialAccount


def _connect(
    database: Database,
    username: str,
    *,
    platform: Platform = Platform.X,
    status: AccountStatus = AccountStatus.ACTIVE,
    expires_in: timedelta | None = timedelta(days=60),
    refreshable: bool = True,
) -> None:
    with database.session() as session:
        slug = f"club-{uuid.uuid4().hex[:8]}"
        tenant = identity_service.create_tenant(session, name=slug, slug=slug)
        session.add(
            SocialAccount(
                tenant_id=tenant.id,
                platform=platform,
                external_id=uuid.uuid4().hex,
                username=username,
                status=status,
                access_token=b"sealed",
                refresh_token=b"sealed" if refreshable else None,
                token_expires_at=utcnow() + expires_in if expires_in is not None else None,
            )
        )


def test_social_tokens_expired_or_expiring_without_refresh_name_the_reconnect_fix(
    settings: Settings,
) -> None:
    with scratch_database(settings, revision="head") as url:
        database = Database(settings.model_copy(update={"database_url": url}))
        try:
            assert check_social_tokens(database).detail == "No social account is connected"
            _connect(database, "fine")
            _connect(database, "renews-itself", expires_in=timedelta(minutes=5))
            healthy = check_social_tokens(database)
            assert healthy.ok, healthy.detail

            _connect(database, "revoked", status=AccountStatus.EXPIRED)
            _connect(database, "past", expires_in=timedelta(hours=-1))
            _connect(
                database,
                "linkedin-page",
                platform=Platform.LINKEDIN,
                expires_in=timedelta(days=3),
                refreshable=False,
            )
            result = check_social_tokens(database)
        finally:
            database.dispose()
    assert not result.ok
    for name in ("x @revoked (expired)", "x @past (expired)", "linkedin @linkedin-page (expires"):
        assert name in result.detail, result.detail
    assert "@fine " not in result.detail
    assert "@renews-itself" not in result.detail
    assert "Publishing" in result.fix
    assert "Reconnect" in result.fix
    assert len(result.data["accounts"]) == 3


@pytest.mark.parametrize(
    ("changes", "variable", "problem"),
    [
        ({"openai_api_key": "new-api-key-here"}, "OPENAI_API_KEY", "placeholder"),
        ({"openai_api_key": '"sk-abc123"'}, "OPENAI_API_KEY", "quotes"),
        ({"openai_api_key": "ant-0123456789"}, "OPENAI_API_KEY", "does not look like"),
        ({"anthropic_api_key": "sk-proj-0123456789"}, "ANTHROPIC_API_KEY", "does not look"),
        ({"anthropic_base_url": "http://127.0.0.1:9"}, "ANTHROPIC_API_KEY", "is not set"),
    ],
)
def test_an_ai_key_of_the_wrong_form_names_its_variable(
    settings: Settings, changes: dict[str, str], variable: str, problem: str
) -> None:
    result = check_ai_keys(settings.model_copy(update=changes))
    assert not result.ok
    assert problem in result.detail
    assert variable in result.fix
    assert "\n" not in result.fix


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"openai_api_key": "sk-proj-0123456789abcdef"},
        {"anthropic_api_key": "sk-ant-api03-0123456789"},
        # Ollama or vLLM: an OpenAI-compatible server of one's own takes any key, or none.
        {"openai_base_url": "http://127.0.0.1:11434/v1"},
        {"openai_base_url": "http://127.0.0.1:11434/v1", "openai_api_key": "ollama"},
    ],
)
def test_ai_keys_of_the_right_form_pass(settings: Settings, changes: dict[str, str]) -> None:
    result = check_ai_keys(settings.model_copy(update=changes))
    assert result.ok, result.detail


def test_doctor_json_reports_both(tmp_path: Path, settings: Settings) -> None:
    with scratch_database(settings, revision="head") as url:
        database = Database(settings.model_copy(update={"database_url": url}))
        _connect(database, "gone", status=AccountStatus.EXPIRED)
        database.dispose()
        result = run_visage(
            tmp_path,
            "doctor",
            "--json",
            DATABASE_URL=url,
            API_PORT=str(free_port()),
            OPENAI_API_KEY="new-api-key-here",
        )
    assert result.returncode == 1, result.stderr
    checks = {check["name"]: check for check in json.loads(result.stdout)["checks"]}
    assert checks["social_tokens"]["ok"] is False
    assert "@gone (expired)" in checks["social_tokens"]["detail"]
    assert "Publishing" in checks["social_tokens"]["fix"]
    assert checks["ai_keys"]["ok"] is False
    assert "OPENAI_API_KEY" in checks["ai_keys"]["fix"]


@pytest.mark.parametrize(
    ("secret", "public", "problem"),
    [
        ("pk_test_local", "", "STRIPE_SECRET_KEY is not a Stripe secret key"),
        ("whsec_0123", "pk_test_local", "STRIPE_SECRET_KEY is not a Stripe secret key"),
        ("sk_test_local", "sk_test_local", "STRIPE_PUBLIC_KEY is not a publishable key"),
        ("sk_live_" + "x" * 24, "pk_test_local", "different modes"),
        ("sk_test_local", "pk_live_" + "x" * 24, "different modes"),
    ],
)
def test_stripe_keys_of_the_wrong_form_or_mode_name_both_variables(
    settings: Settings, secret: str, public: str, problem: str
) -> None:
    configured = settings.model_copy(
        update={"stripe_secret_key": secret, "stripe_public_key": public}
    )
    result = check_stripe(configured)
    assert not result.ok
    assert problem in result.detail
    assert "STRIPE_SECRET_KEY" in result.fix
    assert "STRIPE_PUBLIC_KEY" in result.fix


def test_waha_reachable_with_the_wrong_key_names_waha_api_key(settings: Settings) -> None:
    waha = WahaContract(api_key=secrets.token_hex(16))
    waha.start_server()
    try:
        configured = settings.model_copy(
            update={
                "waha_base_url": waha.base_url,
                "waha_api_key": waha.api_key,
                "webhook_secret": secrets.token_hex(32),
            }
        )
        assert check_messaging_settings(configured).ok
        wrong = check_messaging_settings(configured.model_copy(update={"waha_api_key": "nope"}))
    finally:
        waha.release_sends.set()
        waha.stop_server()
    assert not wrong.ok
    assert "401" in wrong.detail
    assert wrong.fix == "Set WAHA_API_KEY to WAHA's key"
