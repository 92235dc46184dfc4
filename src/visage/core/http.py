"""HTTP plumbing: request ids, security headers, metrics and the one error shape."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import Counter, Histogram
from sqlalchemy.exc import DataError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from visage.core.errors import AppError, error_body
from visage.core.logging import end_log_context, start_log_context
from visage.i18n.context import N_
from visage.i18n.validation import field_message

logger = logging.getLogger(__name__)

REQUESTS = Counter("visage_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "visage_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

DATABASE_RETRY_AFTER_SECONDS = 5

_STATUS_CODES = {
    400: "BAD_REQUEST",
    401: "AUTH_004",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
}


class RequestContextMiddleware:
    """Gives every request an id (kept from `X-Request-ID` when sane), adds security headers,
    records metrics."""

    def __init__(self, app: ASGIApp, *, debug: bool = False) -> None:
        self.app = app
        self.debug = debug

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = (
            incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        )
        scope.setdefault("state", {})["request_id"] = request_id
        log_context = start_log_context(request_id)
        started = time.perf_counter()
        status = 500
        started_response = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                started_response = True
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"referrer-policy", b"same-origin"))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as error:
            # Handled here rather than by Starlette's outermost handler so the 500 still
            # carries the request id and security headers.
            logger.exception("Unhandled error on %s %s", scope["method"], scope["path"])
            if started_response:
                raise
            details = {"exception": repr(error)} if self.debug else None
            response = JSONResponse(
                error_body(
                    "INTERNAL_ERROR",
                    N_("An unexpected error occurred; quote the request id when reporting it."),
                    details,
                    request_id,
                ),
                status_code=500,
            )
            await response(scope, receive, send_with_headers)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            labels = (scope["method"], route, str(status))
            REQUESTS.labels(*labels).inc()
            LATENCY.labels(*labels).observe(time.perf_counter() - started)
            end_log_context(log_context)


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def _json(
    request: Request,
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        error_body(code, message, details, _request_id(request)),
        status_code=status,
        headers=headers,
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(request: Request, error: AppError) -> JSONResponse:
        return _json(
            request, error.status_code, error.code, error.message, error.details, error.headers
        )

    @app.exception_handler(DataError)
    async def unstorable_value(request: Request, error: DataError) -> JSONResponse:
        # PostgreSQL refused a value the schema let through (a NUL character in text, a number
        # beyond its column): bad input, so a 4xx; the transaction was rolled back whole.
        logger.info("Value refused by the database: %s", error.orig)
        return _json(
            request,
            422,
            "VALIDATION_ERROR",
            N_("A value cannot be stored: out of range, or containing a NUL character."),
        )

    async def database_unavailable(request: Request, error: Exception) -> JSONResponse:
        # Connection refused, dropped mid-query (a restart), or no pooled connection in time:
        # the client may retry; the transaction was rolled back whole.
        logger.warning("Database unavailable on %s: %s", request.url.path, error)
        return _json(
            request,
            503,
            "SERVICE_UNAVAILABLE",
            N_("The database is unavailable: retry in a few seconds."),
            {"component": "database"},
            {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )

    for unavailable in (OperationalError, InterfaceError, DisconnectionError, PoolTimeout):
        app.add_exception_handler(unavailable, database_unavailable)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        fields = [
            {
                "field": ".".join(str(part) for part in item["loc"]),
                "message": field_message(item),
                "type": item["type"],
            }
            for item in error.errors()
        ]
        return _json(request, 422, "VALIDATION_ERROR", N_("Some fields are invalid."), fields)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(error.status_code, f"HTTP_{error.status_code}")
        return _json(request, error.status_code, code, str(error.detail), None, error.headers)
