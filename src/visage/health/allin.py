"""The AllIN guide's health routes: `/api/health`, `/api/health/database`,
`/api/health/external-apis`, in the guide's shape (`status`, `services`, `timestamp`,
`uptime`). Kept for tools written against AllIN; `/health*` are Visage's own."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from visage.config import get_settings
from visage.core.db import get_database
from visage.health import checks
from visage.publishing import ai_providers
from visage.publishing.models import AccountStatus, SocialAccount

router = APIRouter(prefix="/api/health", tags=["health"])

_STARTED = time.monotonic()


def _expired_accounts() -> int:
    with get_database().session() as session:
        count = session.scalar(
            select(func.count())
            .select_from(SocialAccount)
            .where(SocialAccount.status == AccountStatus.EXPIRED)
        )
    return count or 0


def _stamp(body: dict[str, Any]) -> dict[str, Any]:
    return {
        **body,
        "timestamp": datetime.now(UTC).isoformat(),
        "uptime": round(time.monotonic() - _STARTED),
    }


@router.get("", deprecated=True)
def allin_health() -> JSONResponse:
    settings = get_settings()
    database = checks.check_database(get_database())
    redis = checks.check_redis(settings)
    services = {
        "database": "connected" if database.ok else "disconnected",
        "redis": ("connected" if redis.ok else "disconnected")
        if settings.redis_url
        else "not_configured",
        "ai_services": "available" if ai_providers.configured(settings) else "templates_only",
        "social_apis": "operational",
    }
    if database.ok and _expired_accounts():
        services["social_apis"] = "degraded"  # an account needs reconnecting
    healthy = database.ok and redis.ok
    body = _stamp({"status": "ok" if healthy else "error", "services": services})
    return JSONResponse(body, status_code=200 if healthy else 503)


@router.get("/database", deprecated=True)
def allin_health_database() -> JSONResponse:
    result = checks.check_database(get_database())
    body = _stamp(
        {
            "status": "ok" if result.ok else "error",
            "database": "connected" if result.ok else "disconnected",
            "detail": result.detail,
            "fix": result.fix,
            **result.data,
        }
    )
    return JSONResponse(body, status_code=200 if result.ok else 503)


@router.get("/external-apis", deprecated=True)
def allin_health_external_apis() -> JSONResponse:
    results = checks.check_external_apis(get_settings())
    services = {
        result.name: {
            "status": "operational" if result.ok else "unreachable",
            "detail": result.detail,
            **result.data,
        }
        for result in results
    }
    healthy = all(result.ok for result in results)
    body = _stamp({"status": "ok" if healthy else "degraded", "services": services})
    return JSONResponse(body, status_code=200)
