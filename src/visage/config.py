"""Every setting the service reads, in one place, named as the seeds name them."""

from __future__ import annotations

import json
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Secrets the service needs; in development they are generated once and kept in the data dir.
GENERATED_SECRETS = ("SECRET_KEY", "BIOMETRIC_ENCRYPTION_KEY")
MIN_SECRET_LENGTH = 32
WEAK_SECRETS = frozenset(
    {"changeme", "secret", "your-secret-key", "your-secret-key-here", "password", "development"}
)


class ConfigError(Exception):
    """Settings that cannot start the service; the message names the variable and the fix."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    environment: Literal["development", "test", "production"] = "development"
    debug: bool = False
    visage_data_dir: Path = Path(".visage")

    secret_key: str = ""
    biometric_encryption_key: str = ""

    database_url: str = ""
    redis_url: str = ""

    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    allowed_origins_str: str = "http://localhost:8000,http://127.0.0.1:8000"
    rate_limit_per_minute: int = Field(default=120, ge=1)
    # Wrong passwords from one address within 15 minutes before its logins get 429.
    login_max_failures_per_ip: int = Field(default=50, ge=1)
    access_token_expire_minutes: int = Field(default=15, ge=1)
    refresh_token_expire_days: int = Field(default=30, ge=1)

    super_admin_username: str = "admin"
    super_admin_password: str = ""
    super_admin_email: str = "admin@localhost"
    super_admin_full_name: str = "Super Admin"

    embedding_dimensions: int = Field(default=128, ge=1)
    face_recognition_tolerance: float = Field(default=0.6, gt=0, lt=2)
    # onnx: dlib's own networks converted to ONNX Runtime (tests/faces/test_onnx_backend.py
    # proves the embeddings and MMOD boxes equal to dlib's); dlib: the reference.
    face_backend: Literal["dlib", "onnx"] = "onnx"
    # Detectors of the onnx backend: dlib's HOG (fast, frontal faces from ~52 px, the smallest
    # worth recognizing), the MMOD CNN (also turned faces, about 7 kFLOP a pixel), or both
    # merged (photos).
    face_kiosk_detector: Literal["hog", "mmod"] = "hog"
    face_photo_detector: Literal["hog", "mmod", "both"] = "hog"
    # ONNX Runtime threads per process (0: every core the process may use). With the API and
    # N workers on one machine, cores / (N + 1) keeps them from oversubscribing the cores.
    face_threads: int = Field(default=0, ge=0)

    max_image_bytes: int = Field(default=15 * 1024 * 1024, ge=1024)
    max_image_pixels: int = Field(default=50_000_000, ge=10_000)
    max_upload_bytes: int = Field(default=30 * 1024 * 1024, ge=1024)
    storage_url: str = ""

    # Event photos (FindMe)
    photo_link_ttl_minutes: int = Field(default=60, ge=1)
    attendee_token_expire_minutes: int = Field(default=7 * 24 * 60, ge=1)
    event_retention_days: int = Field(default=90, ge=1)
    preview_max_side: int = Field(default=1600, ge=200)
    thumbnail_max_side: int = Field(default=400, ge=64)
    # Event photos are searched for faces at up to this many pixels on the long side; above
    # 2048 the photo is analyzed in overlapping tiles (small faces in big group photos, at a
    # cost of about one extra analysis per tile).
    event_photo_max_side: int = Field(default=2048, ge=512, le=8192)

    # A worker whose heartbeat is older than this is dead: its running jobs are retried.
    worker_heartbeat_seconds: float = Field(default=10, gt=0)
    worker_stalled_seconds: float = Field(default=60, gt=0)

    # Check-in (PowerGym): a second entry within the window is not a second visit; a granted
    # entry counts as "inside" for the visit duration.
    checkin_repeat_window_minutes: int = Field(default=60, ge=0)
    checkin_visit_minutes: int = Field(default=90, ge=1)

    smtp_host: str = ""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: str = ""
    email_from: str = "Visage <no-reply@localhost>"
    # Unset: http://localhost:<API_PORT> (see _public_base_url_follows_port).
    public_base_url: str = "http://localhost:8000"

    # Faces, 1:N decision and kiosk PINs (issue 11): the false positive identification rate a
    # tenant's kiosk is held to unless it sets its own, and the wrong PINs allowed in
    # PIN_FAILURE_WINDOW_MINUTES per candidate member and per kiosk.
    face_fpir_target: float = Field(default=0.001, gt=0, le=0.1)
    pin_max_failures_per_member: int = Field(default=5, ge=1)
    pin_max_failures_per_kiosk: int = Field(default=20, ge=1)
    pin_failure_window_minutes: int = Field(default=15, ge=1)

    # Messaging (WhatsApp through a WAHA gateway; docs/decisions.md, "Messaging")
    waha_base_url: str = ""
    waha_api_key: str = ""
    # Signs WAHA's webhook deliveries (X-Webhook-Hmac, HMAC-SHA512 of the raw body).
    webhook_secret: str = ""
    waha_timeout_seconds: float = Field(default=15, gt=0)
    # Anti-ban defaults, each overridable per tenant: the gap between two messages of a
    # session to contacts it never wrote to before (plus up to `jitter` more), and a cap an hour.
    messaging_min_interval_seconds: float = Field(default=30, ge=0)
    messaging_jitter_seconds: float = Field(default=10, ge=0)
    messaging_hourly_cap: int = Field(default=60, ge=1)
    # How long a message waits before another try while WAHA or its session is unavailable.
    messaging_retry_seconds: float = Field(default=30, gt=0)
    # A number's check-exists answer is reused for this long.
    messaging_contact_cache_hours: int = Field(default=24 * 7, ge=0)
    # Members hear this many days ahead that their membership ends (0: not told).
    notify_membership_expiring_days: int = Field(default=7, ge=0)

    # Reliability: the reverse proxies (addresses, networks, or `*`) whose X-Forwarded-For names
    # the client, as uvicorn's FORWARDED_ALLOW_IPS; unset, no request can choose its address.
    forwarded_allow_ips: str = ""
    # Any request body (a many-photo upload included) past this is refused with 413.
    max_request_bytes: int = Field(default=256 * 1024 * 1024, ge=1024)
    # The webhooks (Stripe, WAHA) take small bodies from anyone: a lower ceiling there.
    webhook_max_bytes: int = Field(default=1024 * 1024, ge=1024)

    # Social publishing (AllIN): OAuth apps and API base URLs per platform, all overridable
    # (tests and self-hosters point them at contract servers or their own instance), and the
    # AI caption providers: an OpenAI-compatible primary (OpenAI, Ollama, vLLM), Anthropic as
    # the fallback.
    x_client_id: str = ""
    x_client_secret: str = ""
    x_authorize_url: str = "https://x.com/i/oauth2/authorize"
    x_token_url: str = "https://api.x.com/2/oauth2/token"
    x_api_base_url: str = "https://api.x.com"
    facebook_client_id: str = ""
    facebook_client_secret: str = ""
    facebook_authorize_url: str = "https://www.facebook.com/v21.0/dialog/oauth"
    facebook_token_url: str = "https://graph.facebook.com/v21.0/oauth/access_token"
    facebook_api_base_url: str = "https://graph.facebook.com/v21.0"
    instagram_client_id: str = ""
    instagram_client_secret: str = ""
    instagram_authorize_url: str = "https://www.instagram.com/oauth/authorize"
    instagram_token_url: str = "https://api.instagram.com/oauth/access_token"
    instagram_api_base_url: str = "https://graph.instagram.com/v21.0"
    linkedin_client_id: str = ""
    linkedin_client_secret: str = ""
    linkedin_authorize_url: str = "https://www.linkedin.com/oauth/v2/authorization"
    linkedin_token_url: str = "https://www.linkedin.com/oauth/v2/accessToken"
    linkedin_api_base_url: str = "https://api.linkedin.com"
    # Also post as the LinkedIn Pages the user administers (needs LinkedIn's Community
    # Management API approval for w_organization_social / r_organization_admin).
    linkedin_organization_pages: bool = False
    mastodon_client_id: str = ""
    mastodon_client_secret: str = ""
    mastodon_authorize_url: str = "https://mastodon.social/oauth/authorize"
    mastodon_token_url: str = "https://mastodon.social/oauth/token"
    mastodon_api_base_url: str = "https://mastodon.social"
    # Bluesky signs in with an app password (ATProto OAuth needs DPoP and PAR): only its PDS.
    bluesky_api_base_url: str = "https://bsky.social"
    # A platform call that has not answered after this long is `unknown` (checked before any
    # retry), never retried blindly.
    social_http_timeout_seconds: float = Field(default=20, gt=0)
    # A delivery whose platform could not be reached (nothing was sent) is tried again after
    # this long, as often as it takes: an outage never fails a post.
    social_retry_seconds: float = Field(default=60, gt=0)
    # Tokens expiring within this window are refreshed by the periodic job.
    social_refresh_ahead_minutes: int = Field(default=30, ge=1)
    openai_base_url: str = ""
    openai_api_key: str = ""
    openai_model: str = "gpt-4o-mini"
    anthropic_base_url: str = ""
    anthropic_api_key: str = ""
    anthropic_model: str = "claude-3-5-haiku-latest"
    ai_timeout_seconds: float = Field(default=30, gt=0)
    ai_monthly_credits: int = Field(default=100, ge=0)

    # Billing (WiWebb): Stripe, or LocalStripe in development and tests.
    use_localstripe: bool = False
    localstripe_url: str = "http://localhost:8420"
    # Where the Stripe API is reached when USE_LOCALSTRIPE is off (a proxy or contract server).
    stripe_api_base: str = "https://api.stripe.com"
    stripe_public_key: str = ""
    stripe_secret_key: str = ""
    stripe_webhook_secret: str = ""
    # Days a past_due subscription still opens the door before the membership is OVERDUE.
    billing_grace_days: int = Field(default=3, ge=0, le=60)
    billing_sync_minutes: int = Field(default=15, ge=1)

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if value and not value.startswith(
            ("postgresql://", "postgresql+psycopg://", "postgres://")
        ):
            raise ValueError("must start with postgresql:// (any PostgreSQL >= 14 with pgvector)")
        return value

    @model_validator(mode="after")
    def _public_base_url_follows_port(self) -> Settings:
        # Links and webhook URLs shown to paste elsewhere (Stripe, WAHA, card links) must name
        # the port Visage really listens on when PUBLIC_BASE_URL is left unset.
        if "public_base_url" not in self.model_fields_set:
            self.public_base_url = f"http://localhost:{self.api_port}"
        return self

    @property
    def allowed_origins(self) -> list[str]:
        return [o.strip() for o in self.allowed_origins_str.split(",") if o.strip()]

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def log_dir(self) -> Path:
        return self.visage_data_dir / "logs"

    @property
    def models_dir(self) -> Path:
        """Models generated on first use (the ONNX conversions), never committed."""
        return self.visage_data_dir / "models"


def _secrets_file(data_dir: Path) -> Path:
    return data_dir / "secrets.json"


def _fill_generated_secrets(settings: Settings) -> None:
    """Development only: a missing secret is generated once, kept in the data dir, reused."""
    path = _secrets_file(settings.visage_data_dir)
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    changed = False
    for name in GENERATED_SECRETS:
        attribute = name.lower()
        if getattr(settings, attribute):
            continue
        if name not in stored:
            stored[name] = secrets.token_urlsafe(48)
            changed = True
        setattr(settings, attribute, stored[name])
    if not settings.super_admin_password:
        stored.setdefault("SUPER_ADMIN_PASSWORD", secrets.token_urlsafe(12))
        settings.super_admin_password = stored["SUPER_ADMIN_PASSWORD"]
        changed = changed or "SUPER_ADMIN_PASSWORD" not in stored
    if changed or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(stored, indent=2))
        path.chmod(0o600)


def secret_problems(settings: Settings) -> list[str]:
    """What is wrong with the secrets, one sentence each naming the variable."""
    problems = []
    for name in GENERATED_SECRETS:
        value: str = getattr(settings, name.lower())
        if not value:
            problems.append(f"{name} is not set: generate one with `openssl rand -base64 48`")
        elif len(value) < MIN_SECRET_LENGTH or value.lower() in WEAK_SECRETS:
            problems.append(
                f"{name} is weak: use at least {MIN_SECRET_LENGTH} random characters "
                "(`openssl rand -base64 48`)"
            )
    if settings.is_production and not settings.super_admin_password:
        problems.append("SUPER_ADMIN_PASSWORD is not set")
    if settings.is_production:
        problems += stripe_production_problems(settings)
    return problems


def stripe_production_problems(settings: Settings) -> list[str]:
    """Billing settings that must not reach production (test keys, LocalStripe, no secret)."""
    problems = []
    if settings.use_localstripe:
        problems.append("USE_LOCALSTRIPE=True: LocalStripe is for development; set it to False")
    if settings.stripe_secret_key.startswith(("sk_test_", "rk_test_")):
        problems.append("STRIPE_SECRET_KEY is a test key (sk_test_...): use the live key")
    if settings.stripe_public_key.startswith("pk_test_"):
        problems.append("STRIPE_PUBLIC_KEY is a test key (pk_test_...): use the live key")
    if settings.stripe_secret_key and not settings.stripe_webhook_secret:
        problems.append(
            "STRIPE_WEBHOOK_SECRET is not set: copy the signing secret (whsec_...) of the "
            "webhook endpoint from the Stripe Dashboard"
        )
    return problems


def describe_validation_error(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        variable = "_".join(str(part) for part in item["loc"]).upper() or "settings"
        lines.append(f"{variable}={item.get('input')!r}: {item['msg']}")
    return "Invalid configuration:\n  " + "\n  ".join(lines)


def load_settings() -> Settings:
    """Read and check the settings; raise ConfigError with a message a person can act on."""
    try:
        settings = Settings()
    except ValidationError as error:
        raise ConfigError(describe_validation_error(error)) from error
    if not settings.is_production:
        _fill_generated_secrets(settings)
    problems = secret_problems(settings)
    if problems and settings.is_production:
        raise ConfigError("Refusing to start in production:\n  " + "\n  ".join(problems))
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
