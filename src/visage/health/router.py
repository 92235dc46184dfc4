"""`/`, `/health`, `/health/db`, `/health/model` and `/metrics`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest

from visage import __version__
from visage.config import get_settings
from visage.core.db import get_database
from visage.core.jobs import queue_depth_by_status
from visage.health import checks, outside

router = APIRouter(tags=["health"])

QUEUE_DEPTH = Gauge("visage_job_queue_depth", "Background jobs by status", ["status"])
JOB_STATUSES = ("todo", "doing", "succeeded", "failed", "cancelled", "aborting", "aborted")


def _answer(results: list[checks.CheckResult]) -> JSONResponse:
    healthy = all(result.ok for result in results)
    body: dict[str, Any] = {
        "status": "ok" if healthy else "unhealthy",
        "components": {result.name: result.as_dict() for result in results},
    }
    warnings = [result.name for result in results if result.data.get("degraded")]
    if warnings:
        body["warnings"] = warnings
    if not healthy:
        body["failing"] = [result.name for result in results if not result.ok]
    return JSONResponse(body, status_code=200 if healthy else 503)


@router.get("/")
def root() -> dict[str, str]:
    return {"message": "API is running", "version": __version__}


@router.get("/health")
def health(request: Request) -> JSONResponse:
    settings = getattr(request.app.state, "settings", None) or get_settings()
    store = getattr(request.app.state, "rate_limit_store", None)
    return _answer(
        [
            checks.check_database(get_database()),
            checks.check_model_loaded(),
            checks.check_rate_limit_counters(settings, bool(getattr(store, "degraded", False))),
            checks.check_stripe(settings),
            *outside.check_outside_services(settings),
        ]
    )


@router.get("/health/db")
def health_db() -> JSONResponse:
    return _answer([checks.check_database(get_database())])


@router.get("/health/model")
def health_model() -> JSONResponse:
    return _answer([checks.check_model_loaded()])


@router.get("/metrics", response_class=Response)
def metrics() -> Response:
    try:
        with get_database().session() as session:
            depth = queue_depth_by_status(session)
        for status in JOB_STATUSES:
            QUEUE_DEPTH.labels(status).set(depth.get(status, 0))
    except Exception:  # noqa: S110 - metrics stay available while the database is down
        pass
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
