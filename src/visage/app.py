"""create_app(): settings, lifespan (database, model pre-warm), middleware, routers, errors."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import numpy as np
from fastapi import APIRouter, FastAPI
from starlette.concurrency import run_in_threadpool

from visage import __version__
from visage.access.router import router as access_router
from visage.billing.router import router as billing_router
from visage.config import Settings, get_settings
from visage.core.body_limit import BodySizeLimitMiddleware, Ceiling, PathCeiling
from visage.core.cors import ListedOriginsCORSMiddleware
from visage.core.db import Database, set_database
from visage.core.http import RequestContextMiddleware, install_error_handlers
from visage.core.logging import configure_logging
from visage.core.migrations import bring_to_head
from visage.core.ratelimit import RateLimitMiddleware, forwarded_headers_middleware
from visage.core.ratelimit import store_for as rate_limit_store
from visage.events.router import routers as events_routers
from visage.faces.inference.base import CHIP_SIZE
from visage.faces.inference.engine import load_backend
from visage.faces.router import routers as faces_routers
from visage.guides.aliases import alias_router
from visage.guides.router import router as guides_router
from visage.health.allin import router as allin_health_router
from visage.health.router import router as health_router
from visage.i18n.catalogs import compile_all as compile_catalogs
from visage.i18n.middleware import LocaleMiddleware
from visage.i18n.router import api_router as i18n_api_router
from visage.i18n.router import pages_router as i18n_pages_router
from visage.identity import service as identity_service
from visage.identity.rate_buckets import credential_buckets
from visage.identity.router import routers as identity_routers
from visage.members.router import router as members_router
from visage.messaging.router import health_router as messaging_health_router
from visage.messaging.router import router as messaging_router
from visage.messaging.router import webhook_router as messaging_webhook_router
from visage.publishing.router import routers as publishing_routers
from visage.web.pages import mount_web

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
# Where senders we do not sign in (Stripe, WAHA) post their events.
WEBHOOK_PATH_PREFIXES = (f"{API_PREFIX}/webhooks/", f"{API_PREFIX}/payments/webhook")


def api_routers() -> list[APIRouter]:
    """Every domain's /api/v1 router."""
    return [
        *identity_routers,
        members_router,
        *faces_routers,
        access_router,
        *events_routers,
        messaging_router,
        messaging_webhook_router,
        *publishing_routers,
        billing_router,
        i18n_api_router,
    ]


def prepare_database(settings: Settings, database: Database) -> None:
    bring_to_head(settings, database)
    with database.session() as session:
        identity_service.ensure_super_admin(session, settings)


def prewarm_model(settings: Settings) -> None:
    backend = load_backend(settings)
    backend.embed([np.zeros((CHIP_SIZE, CHIP_SIZE, 3), dtype=np.uint8)])
    logger.info("Face model ready: %s backend", backend.name)


def create_app(settings: Settings | None = None, *, prewarm: bool = True) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings)
        # The .mo files are build output: compiled here when missing or older than the .po.
        await run_in_threadpool(compile_catalogs)
        database = Database(settings)
        set_database(database)
        await run_in_threadpool(prepare_database, settings, database)
        if prewarm:
            await run_in_threadpool(prewarm_model, settings)
        yield
        set_database(None)
        database.dispose()

    app = FastAPI(
        title="Visage",
        version=__version__,
        description="Face check-in, event photos, tenants and billing, messaging, publishing.",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=f"{API_PREFIX}/redoc",
        openapi_url=f"{API_PREFIX}/openapi.json",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.state.settings = settings
    app.state.rate_limit_store = rate_limit_store(settings)
    # Innermost: an oversized body is refused after it was counted against the rate limit.
    webhook_ceiling = Ceiling(settings.webhook_max_bytes, "WEBHOOK_MAX_BYTES")
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_request_bytes,
        lower_on=[PathCeiling(prefix, webhook_ceiling) for prefix in WEBHOOK_PATH_PREFIXES],
    )
    # 429s still get CORS headers and a request id.
    app.add_middleware(
        RateLimitMiddleware,
        limit=settings.rate_limit_per_minute,
        store=app.state.rate_limit_store,
        resolve_bucket=credential_buckets(settings),
    )
    app.add_middleware(
        ListedOriginsCORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=[
            "X-Request-ID",
            "Retry-After",
            "X-RateLimit-Limit",
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset",
        ],
    )
    app.add_middleware(RequestContextMiddleware, debug=settings.debug)
    # Outside the request context: its 500 message is in the request's language too.
    app.add_middleware(LocaleMiddleware)
    # Outermost: every layer below sees the client address, not the proxy's.
    app.add_middleware(forwarded_headers_middleware, settings=settings)
    app.include_router(health_router)
    app.include_router(messaging_health_router)
    app.include_router(allin_health_router)
    for router in api_routers():
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(guides_router)
    app.include_router(
        alias_router(
            [
                ("", health_router),
                ("", messaging_health_router),
                *((API_PREFIX, r) for r in api_routers()),
            ]
        )
    )
    app.include_router(i18n_pages_router)
    mount_web(app)
    return app
