"""Every path a guide names that Visage serves under another path, in one table.

An alias answers with the canonical route's own handler, dependencies and response model (so
permissions, tenancy and errors are the same), directly — never a redirect, which `curl -X POST`
without `-L` does not follow. The OpenAPI lists each alias as deprecated, pointing at the
canonical path; the isolation walk (tests/identity/test_isolation.py) covers them like any
route. A domain adds its guide's paths here as rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fastapi import APIRouter
from fastapi.routing import APIRoute

ALIAS_TAG = "guide aliases"


@dataclass(frozen=True)
class Alias:
    method: str
    path: str  # as the guide writes it
    canonical: str  # Visage's own route
    guide: str


def with_trailing_slash(guide: str, routes: Iterable[tuple[str, str]]) -> list[Alias]:
    """WiWebb (Django REST framework) writes every path with a trailing slash."""
    return [Alias(method, path + "/", path, guide) for method, path in routes]


_AUTH = "/api/v1/auth"
_USER = "/api/v1/users/{user_id}"

ALIASES: tuple[Alias, ...] = (
    *with_trailing_slash(
        "WiWebb",
        [
            ("POST", f"{_AUTH}/login"),
            ("POST", f"{_AUTH}/refresh"),
            ("POST", f"{_AUTH}/logout"),
            ("GET", f"{_AUTH}/me"),
            ("POST", f"{_AUTH}/password/reset"),
            ("POST", f"{_AUTH}/password/reset/confirm"),
            ("POST", f"{_AUTH}/tokens"),
            ("GET", f"{_AUTH}/tokens"),
            ("GET", "/api/v1/users"),
            ("POST", "/api/v1/users"),
            ("GET", _USER),
            ("PATCH", _USER),
            ("DELETE", _USER),
            ("POST", f"{_USER}/activate"),
            ("POST", f"{_USER}/deactivate"),
            ("GET", "/api/v1/tenants/me"),
            ("PATCH", "/api/v1/tenants/me"),
            ("POST", "/api/v1/payments/webhook"),
        ],
    ),
    Alias("GET", f"{_AUTH}/user", f"{_AUTH}/me", "WiWebb"),
    Alias("GET", f"{_AUTH}/user/", f"{_AUTH}/me", "WiWebb"),
    Alias("POST", "/api/auth/login", f"{_AUTH}/login", "AllIN"),
    Alias("POST", "/api/auth/refresh", f"{_AUTH}/refresh", "AllIN"),
    Alias("POST", "/api/auth/forgot-password", f"{_AUTH}/password/reset", "AllIN"),
    Alias("POST", "/api/auth/resend-verification", f"{_AUTH}/resend-verification", "AllIN"),
    Alias("POST", "/auth/login", f"{_AUTH}/login", "Messaging API"),
    Alias("POST", "/auth/refresh", f"{_AUTH}/refresh", "Messaging API"),
    Alias("GET", "/waha/health", "/health/waha", "Messaging API"),
    Alias("GET", "/webhooks/health", "/health/webhooks", "Messaging API"),
    Alias("GET", "/messages", "/api/v1/messages", "Messaging API"),
    Alias("POST", "/messages/send", "/api/v1/messages", "Messaging API"),
    Alias("POST", "/webhooks/waha", "/api/v1/webhooks/waha", "Messaging API"),
    Alias(
        "PUT",
        "/api/social/accounts/{account_id}/refresh",
        "/api/v1/social/accounts/{account_id}/refresh",
        "AllIN",
    ),
    Alias("POST", "/api/ai/analyze-content", "/api/v1/ai/analyze-content", "AllIN"),
    Alias("POST", "/api/ai/improve-content", "/api/v1/ai/improve-content", "AllIN"),
    Alias("GET", "/api/admin/queue/status", "/api/v1/posts/queue/status", "AllIN"),
    Alias(
        "POST",
        "/api/admin/posts/{post_id}/publish-now",
        "/api/v1/posts/{post_id}/publish-now",
        "AllIN",
    ),
)


class UnknownCanonicalRoute(LookupError):
    pass


Mounted = Iterable[tuple[str, APIRouter]]


def _canonical_route(mounted: Mounted, alias: Alias) -> APIRoute:
    for prefix, router in mounted:
        for route in router.routes:
            if (
                isinstance(route, APIRoute)
                and prefix + route.path == alias.canonical
                and alias.method in (route.methods or set())
            ):
                return route
    raise UnknownCanonicalRoute(f"{alias.method} {alias.canonical} (alias {alias.path})")


def alias_router(mounted: Mounted, aliases: Iterable[Alias] = ALIASES) -> APIRouter:
    """A router of every alias, each sharing its canonical route's handler. `mounted` lists
    the routers the app includes, with the prefix each is included under."""
    mounted = list(mounted)
    router = APIRouter(tags=[ALIAS_TAG])
    for alias in aliases:
        route = _canonical_route(mounted, alias)
        router.add_api_route(
            alias.path,
            route.endpoint,
            methods=[alias.method],
            response_model=route.response_model,
            status_code=route.status_code,
            dependencies=route.dependencies,
            responses=route.responses,
            response_class=route.response_class,
            openapi_extra=route.openapi_extra,
            deprecated=True,
            summary=f"{alias.guide}'s path for {alias.method} {alias.canonical}",
            description=f"Alias kept for {alias.guide}'s guide; use `{alias.canonical}`.",
            name=f"{route.name}_alias",
        )
    return router
