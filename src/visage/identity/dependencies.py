"""Authentication and authorization as FastAPI dependencies.

A caller is a user (`Authorization: Bearer <access token>`, or `Authorization: Token <personal
API token>` as WiWebb's guide writes it) or a kiosk device (`X-API-Key: <key>`); either way it
becomes a `Principal` whose tenant scopes every query.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from visage.config import Settings
from visage.core.deps import AppSettings, DbSession
from visage.core.errors import NotAuthenticated, PermissionDenied
from visage.core.logging import bind_log_context
from visage.i18n.context import N_
from visage.i18n.preferences import adopt_principal
from visage.identity import api_tokens, audit, service
from visage.identity.permissions import Permission
from visage.identity.principal import ClientInfo, Principal

_bearer = HTTPBearer(auto_error=False)
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False)
# Only documents the scheme in the OpenAPI; the header is read once, in `current_principal`.
_token = APIKeyHeader(
    name="Authorization",
    scheme_name="PersonalApiToken",
    description="`Token <personal API token>` (POST /api/v1/auth/tokens)",
    auto_error=False,
)
JWT_SEGMENTS = 3
WRONG_SCHEME = N_(
    "`Authorization: Bearer` takes an access token (the JWT from POST /api/v1/auth/login); "
    "send a personal API token as `Authorization: Token <token>` and a kiosk key as "
    "`X-API-Key: <key>`."
)
SIGN_IN_FIRST = N_(
    "Sign in first: send `Authorization: Bearer <access_token>`, "
    "`Authorization: Token <personal API token>` (or `X-API-Key` from a kiosk)."
)


def _looks_like_jwt(value: str) -> bool:
    return value.startswith("eyJ") and value.count(".") == JWT_SEGMENTS - 1


def _scheme_and_value(authorization: str) -> tuple[str, str]:
    scheme, _, value = authorization.strip().partition(" ")
    return scheme.lower(), value.strip()


def personal_token(request: Request) -> str | None:
    """The key of `Authorization: Token <key>`, for routes that read other schemes themselves."""
    scheme, value = _scheme_and_value(request.headers.get("authorization", ""))
    return value if scheme == "token" and value else None


def _from_authorization(
    session: Session, settings: Settings, client: ClientInfo, authorization: str
) -> Principal:
    scheme, value = _scheme_and_value(authorization)
    if scheme == "token" and value:
        return api_tokens.principal_from_api_token(session, value, client)
    if scheme == "bearer" and value:
        if not _looks_like_jwt(value):
            raise NotAuthenticated(WRONG_SCHEME)
        return service.principal_from_access_token(session, settings, value)
    raise NotAuthenticated(
        "The Authorization header needs a scheme: `Token <personal API token>` or "
        "`Bearer <access_token>`."
    )


def client_info(request: Request) -> ClientInfo:
    return ClientInfo(
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


Client = Annotated[ClientInfo, Depends(client_info)]


def current_principal(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    client: Client,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
    authorization: Annotated[str | None, Depends(_token)],
) -> Principal:
    del credentials  # declared for the OpenAPI security scheme; `authorization` is the header
    if authorization:
        principal = _from_authorization(session, settings, client, authorization)
    elif api_key:
        principal = service.principal_from_api_key(session, api_key, client)
    else:
        raise NotAuthenticated(SIGN_IN_FIRST)
    request.state.principal = principal
    adopt_principal(session, principal)
    bind_log_context(
        tenant_id=str(principal.tenant_id) if principal.tenant_id else None,
        user_id=str(principal.id),
    )
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def current_user(principal: CurrentPrincipal) -> Principal:
    """A signed-in person; kiosk keys are refused."""
    if principal.kind != "user":
        raise PermissionDenied("Kiosk API keys may only be used on check-in endpoints.")
    return principal


CurrentUser = Annotated[Principal, Depends(current_user)]


def require(permission: Permission) -> Callable[..., Principal]:
    """A dependency that lets the call through only with `permission` (denials are audited)."""

    def dependency(request: Request, principal: CurrentPrincipal, client: Client) -> Principal:
        if not principal.can(permission):
            audit.record_now(
                action="permission.denied",
                actor=principal,
                tenant_id=principal.tenant_id,
                details={
                    "permission": permission.value,
                    "method": request.method,
                    "path": request.url.path,
                },
                ip=client.ip,
                user_agent=client.user_agent,
            )
        principal.require(permission)
        return principal

    return dependency
