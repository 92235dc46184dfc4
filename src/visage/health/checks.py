"""The troubleshooting checks of the seeds, automated. `/health*` and `visage doctor` share them.

Each check returns a `CheckResult(ok, detail, fix)`.
"""

from __future__ import annotations

import shutil
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from visage.billing.gateway import StripeGateway
from visage.config import MIN_SECRET_LENGTH, Settings, secret_problems
from visage.core.db import Database, is_embedded
from visage.core.errors import AppError
from visage.core.migrations import NOT_UP_TO_DATE, current_revision, head_revision
from visage.publishing.ai_providers import ai_endpoints

MIN_PYTHON = (3, 11)
MIN_FREE_DISK_BYTES = 1024**3
VECTOR_FIX = "CREATE EXTENSION IF NOT EXISTS vector;  -- as a superuser; install pgvector first"


@dataclass
class CheckResult:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_python() -> CheckResult:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] >= MIN_PYTHON:
        return CheckResult("python", True, f"Python {version}")
    required = ".".join(map(str, MIN_PYTHON))
    return CheckResult(
        "python",
        False,
        f"Python {version}: Python {required} or higher is required",
        f"Install Python {required}+ and recreate the virtualenv (./scripts/serve does it)",
    )


def check_settings(settings: Settings) -> CheckResult:
    problems = secret_problems(settings)
    if not problems:
        return CheckResult("settings", True, f"environment={settings.environment}")
    return CheckResult(
        "settings", False, "; ".join(problems), "Set the variables in .env or the environment"
    )


def check_port(settings: Settings) -> CheckResult:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((settings.api_host, settings.api_port))
        except OSError:
            owner = _port_owner(settings.api_port)
            if owner and "visage serve" in owner.command:
                # Doctor run beside a running service: the port is taken by the right program.
                return CheckResult(
                    "port",
                    True,
                    f"Port {settings.api_port} is served by Visage (pid {owner.pid})",
                    f"That Visage already listens there: stop it (`kill {owner.pid}`) "
                    f"or set API_PORT={_free_port_near(settings)}",
                    {"pid": owner.pid},
                )
            by = f" by {owner.name} (pid {owner.pid})" if owner else ""
            pid = str(owner.pid) if owner else f"$(lsof -t -i :{settings.api_port})"
            return CheckResult(
                "port",
                False,
                f"Port {settings.api_port} is already in use{by}: Address already in use",
                f"Stop that process (`kill {pid}`) or set API_PORT={_free_port_near(settings)}",
                {"pid": owner.pid if owner else None},
            )
    return CheckResult("port", True, f"Port {settings.api_port} is free")


def _free_port_near(settings: Settings) -> int:
    """The first free port after API_PORT, for the fix to name."""
    for candidate in range(settings.api_port + 1, min(settings.api_port + 50, 65536)):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((settings.api_host, candidate))
            except OSError:
                continue
            return candidate
    return settings.api_port + 1


@dataclass(frozen=True)
class PortOwner:
    pid: int
    name: str
    command: str


def _port_owner(port: int) -> PortOwner | None:
    try:
        import psutil

        for connection in psutil.net_connections(kind="tcp"):
            listening = connection.status == "LISTEN" and connection.pid
            if listening and connection.laddr and connection.laddr.port == port:
                process = psutil.Process(connection.pid)
                return PortOwner(connection.pid, process.name(), " ".join(process.cmdline()))
    except Exception:  # noqa: S110 - naming the owner is a courtesy; access may be denied
        pass
    return None


def check_database(database: Database) -> CheckResult:
    settings = database.settings
    started = time.perf_counter()
    try:
        with database.engine.connect() as connection:
            server_version = connection.execute(text("SHOW server_version")).scalar_one()
            has_vector = bool(
                connection.execute(
                    text("SELECT 1 FROM pg_extension WHERE extname = 'vector'")
                ).scalar()
            )
            vector_available = bool(
                connection.execute(
                    text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
                ).scalar()
            )
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        auth = "authentication failed" in reason or "password" in reason
        user = database.engine.url.username or "<user>"
        fix = (
            f"Check the user and password in DATABASE_URL, or reset it: "
            f"ALTER USER {user} WITH PASSWORD '<new password>';"
            if auth
            else "Start PostgreSQL or fix the host/port in DATABASE_URL"
        )
        return CheckResult(
            "database", False, f"Cannot connect: {reason}", fix, {"connected": False}
        )
    latency_ms = round((time.perf_counter() - started) * 1000, 1)
    data: dict[str, Any] = {
        "connected": True,
        "latency_ms": latency_ms,
        "server_version": server_version,
        "embedded": is_embedded(settings),
        "vector_extension": has_vector,
    }
    try:
        revision = current_revision(database.engine)
    except SQLAlchemyError:
        revision = None
    head = head_revision()
    data.update({"revision": revision, "head": head, "at_head": revision == head})
    if not vector_available:
        return CheckResult("database", False, "Extension vector does not exist", VECTOR_FIX, data)
    if not has_vector:
        return CheckResult(
            "database",
            False,
            f"Extension vector is not enabled in this database. {NOT_UP_TO_DATE}",
            "visage migrate  (it runs CREATE EXTENSION vector)",
            data,
        )
    if revision != head:
        return CheckResult("database", False, NOT_UP_TO_DATE, "visage migrate", data)
    return CheckResult(
        "database", True, f"PostgreSQL {server_version}, {latency_ms} ms, schema at head", "", data
    )


def check_model_files() -> CheckResult:
    try:
        import dlib
        import face_recognition_models as models

        dlib.shape_predictor(models.pose_predictor_five_point_model_location())
        dlib.face_recognition_model_v1(models.face_recognition_model_location())
    except Exception as error:
        return CheckResult(
            "model_files",
            False,
            f"Face model files not loadable: {error}",
            "pip install --force-reinstall dlib-bin face-recognition-models",
        )
    return CheckResult("model_files", True, "dlib 5-point predictor and ResNet load")


def check_model_loaded() -> CheckResult:
    from visage.faces.inference.engine import engine_status

    status = engine_status()
    data = {
        "loaded": status.loaded,
        "backend": status.backend,
        "embedding_dimensions": status.embedding_dimensions,
    }
    if not status.loaded:
        return CheckResult("model", False, "Face model not loaded", "See logs/app.log", data)
    return CheckResult(
        "model", True, f"{status.backend} backend, {status.embedding_dimensions}-d", "", data
    )


def check_redis(settings: Settings) -> CheckResult:
    if not settings.redis_url:
        return CheckResult("redis", True, "Not configured: rate limits are kept in process")
    import redis

    try:
        client = redis.Redis.from_url(
            settings.redis_url, socket_timeout=2, socket_connect_timeout=2
        )
        client.ping()
    except redis.RedisError as error:
        return CheckResult(
            "redis",
            False,
            f"Cannot reach Redis at REDIS_URL: {error}",
            "Start Redis (`redis-server --daemonize yes`) or unset REDIS_URL",
        )
    return CheckResult("redis", True, "Redis answers PING")


def check_disk(settings: Settings) -> CheckResult:
    settings.visage_data_dir.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(settings.visage_data_dir).free
    ok = free >= MIN_FREE_DISK_BYTES
    return CheckResult(
        "disk",
        ok,
        f"{free / 1024**3:.1f} GiB free in {settings.visage_data_dir}",
        "" if ok else "Free disk space or set VISAGE_DATA_DIR to a larger disk",
    )


def doctor_checks(
    settings: Settings, database: Callable[[], Database], *, serving: bool
) -> list[CheckResult]:
    """Everything `visage doctor` verifies, in the order a person should fix them."""
    from visage.health.publishing_checks import check_ai_keys, check_social_tokens
    from visage.health.setup_checks import check_database_url, check_smtp, check_unique_constraints

    results = [check_python(), check_settings(settings)]
    if not serving:
        results.append(check_port(settings))
    results.append(check_database_url(settings))
    connected: Database | None = None
    try:
        opened = database()
        reached = check_database(opened)
        results.append(reached)
        if reached.data.get("connected"):
            results.append(check_unique_constraints(opened))
        if reached.ok:  # at head: the publishing tables can be read
            connected = opened
    except Exception as error:  # the embedded server itself may fail to start
        results.append(
            CheckResult(
                "database",
                False,
                f"Cannot start or reach the database: {error}",
                "Check VISAGE_DATA_DIR is writable, or set DATABASE_URL",
            )
        )
    results += [
        check_model_files(),
        check_redis(settings),
        check_smtp(settings),
        check_disk(settings),
    ]
    results.append(check_messaging_settings(settings))
    results.append(check_stripe(settings))
    results.append(check_ai_keys(settings))
    if connected is not None:
        results.append(check_social_tokens(connected))
    return results


# Messaging (WhatsApp through WAHA)

TURN_ON_WHATSAPP = "set WAHA_BASE_URL, WAHA_API_KEY and WEBHOOK_SECRET to turn it on"


def check_waha(settings: Settings, timeout: float = 5) -> CheckResult:
    """WAHA answers with our key: its version and each session's status."""
    from visage.messaging.provider import GatewayDown, GatewayError, GatewayTimeout
    from visage.messaging.waha import WahaProvider

    if not settings.waha_base_url:
        # A site without WhatsApp is healthy; check_messaging_settings flags a half set-up.
        return CheckResult("waha", True, f"WhatsApp messaging is off: {TURN_ON_WHATSAPP}")
    gateway = WahaProvider(settings.waha_base_url, settings.waha_api_key, timeout=timeout)
    try:
        version = gateway.version()
        statuses = {info.name: info.status for info in gateway.list_sessions()}
    except (GatewayDown, GatewayTimeout) as error:
        return CheckResult(
            "waha",
            False,
            f"WAHA unreachable at {settings.waha_base_url}: {error}",
            "Start WAHA (`docker run -d -p 3000:3000 -e WAHA_API_KEY=<key> devlikeapro/waha`) "
            "or fix WAHA_BASE_URL",
        )
    except GatewayError as error:
        fix = "Set WAHA_API_KEY to WAHA's key" if error.status_code == 401 else "See WAHA's logs"
        return CheckResult("waha", False, f"WAHA answered {error}", fix)
    data = {"version": version.version, "engine": version.engine, "sessions": statuses}
    return CheckResult(
        "waha",
        True,
        f"WAHA {version.version} ({version.engine}), {len(statuses)} sessions",
        "",
        data,
    )


def check_messaging_settings(settings: Settings) -> CheckResult:
    """Doctor: WhatsApp is either off (nothing set) or fully set: URL, key, webhook secret."""
    named = {
        "WAHA_BASE_URL": settings.waha_base_url,
        "WAHA_API_KEY": settings.waha_api_key,
        "WEBHOOK_SECRET": settings.webhook_secret,
    }
    missing = [name for name, value in named.items() if not value]
    if len(missing) == len(named):
        return CheckResult("messaging", True, f"WhatsApp messaging is off: {TURN_ON_WHATSAPP}")
    if missing:
        return CheckResult(
            "messaging",
            False,
            f"WhatsApp messaging is half configured: {', '.join(missing)} not set",
            "Set WAHA_BASE_URL, WAHA_API_KEY and WEBHOOK_SECRET (`openssl rand -hex 32`)",
        )
    if len(settings.webhook_secret) < MIN_SECRET_LENGTH:
        return CheckResult(
            "messaging",
            False,
            f"WEBHOOK_SECRET is weak: use at least {MIN_SECRET_LENGTH} characters",
            "Set WEBHOOK_SECRET=$(openssl rand -hex 32) and recreate the WhatsApp sessions",
        )
    waha = check_waha(settings)
    return CheckResult("messaging", waha.ok, waha.detail, waha.fix, waha.data)


def check_rate_limit_counters(settings: Settings, degraded: bool) -> CheckResult:
    """/health's view of Redis: when it is down the service keeps answering (fail-soft), and
    this says so by name, as a warning, instead of failing the whole health check."""
    result = check_redis(settings)
    if not settings.redis_url or (result.ok and not degraded):
        return result
    return CheckResult(
        "redis",
        True,
        "WARNING: Redis at REDIS_URL is unreachable; rate limits are counted in process "
        "(each replica on its own) until it is back",
        "Start Redis again; the service returns to it by itself",
        {"degraded": True, "fallback": "in-process"},
    )


# Social publishing (AllIN): the outside APIs a post or a caption needs, probed (any HTTP
# answer means reachable; credentials are not tried).
SOCIAL_PLATFORMS = ("x", "facebook", "instagram", "linkedin", "mastodon")
PROBE_TIMEOUT_SECONDS = 3


def probe_api(name: str, url: str) -> CheckResult:
    import httpx

    started = time.perf_counter()
    try:
        response = httpx.get(url, timeout=PROBE_TIMEOUT_SECONDS)
    except httpx.HTTPError as error:
        return CheckResult(
            name,
            False,
            f"{url} unreachable: {type(error).__name__}",
            f"Check the network, or the {name.upper()}_*_URL settings",
        )
    elapsed_ms = round((time.perf_counter() - started) * 1000)
    return CheckResult(
        name, True, f"{url} answers (HTTP {response.status_code})", "", {"ms": elapsed_ms}
    )


def social_platforms_configured(settings: Settings) -> list[tuple[str, str]]:
    return [
        (platform, getattr(settings, f"{platform}_api_base_url"))
        for platform in SOCIAL_PLATFORMS
        if getattr(settings, f"{platform}_client_id")
    ]


def check_external_apis(settings: Settings) -> list[CheckResult]:
    """Every configured AI provider and social platform, probed."""
    return [
        probe_api(name, url)
        for name, url in [*ai_endpoints(settings), *social_platforms_configured(settings)]
    ]


# ---------------------------------------------------------------- billing (Stripe)


def stripe_key_problem(settings: Settings) -> str | None:
    """WiWebb's pair: a secret key (sk_/rk_) and a publishable key (pk_) of the same mode."""
    secret, public = settings.stripe_secret_key, settings.stripe_public_key
    if not secret.startswith(("sk_test_", "sk_live_", "rk_test_", "rk_live_")):
        return f"STRIPE_SECRET_KEY is not a Stripe secret key (it starts with {secret[:3]!r})"
    if not public:
        return None  # only the card page needs it, and it says so
    if not public.startswith(("pk_test_", "pk_live_")):
        return f"STRIPE_PUBLIC_KEY is not a publishable key (it starts with {public[:3]!r})"
    if ("_test_" in secret[:8]) != public.startswith("pk_test_"):
        return "STRIPE_SECRET_KEY and STRIPE_PUBLIC_KEY are of different modes (test and live)"
    return None


def check_stripe(settings: Settings) -> CheckResult:
    """Stripe (or LocalStripe) answers with the configured key, and webhooks can be verified."""
    if not settings.stripe_secret_key:
        return CheckResult("stripe", True, "Not configured: billing is off (STRIPE_SECRET_KEY)")
    key_problem = stripe_key_problem(settings)
    if key_problem:
        return CheckResult(
            "stripe",
            False,
            key_problem,
            "Copy both keys of one mode (test or live) from the Stripe Dashboard's API keys page "
            "into STRIPE_SECRET_KEY (sk_...) and STRIPE_PUBLIC_KEY (pk_...)",
        )
    gateway = StripeGateway(settings)
    data = {
        "api_base": gateway.api_base,
        "webhook_secret_set": bool(settings.stripe_webhook_secret),
    }
    try:
        gateway.ping()
    except AppError as error:
        where = "LOCALSTRIPE_URL" if settings.use_localstripe else "STRIPE_API_BASE"
        fix = (
            f"Start LocalStripe (`localstripe --port 8420`) or fix {where}"
            if settings.use_localstripe
            else "Check STRIPE_SECRET_KEY and the network path to Stripe"
        )
        return CheckResult("stripe", False, f"{gateway.api_base}: {error.message}", fix, data)
    if not settings.stripe_webhook_secret:
        return CheckResult(
            "stripe",
            False,
            f"{gateway.api_base} answers, but STRIPE_WEBHOOK_SECRET is not set: "
            "webhooks are refused (400)",
            "Copy the endpoint's signing secret (whsec_...) into STRIPE_WEBHOOK_SECRET",
            data,
        )
    return CheckResult("stripe", True, f"{gateway.api_base} answers; webhook secret set", "", data)
