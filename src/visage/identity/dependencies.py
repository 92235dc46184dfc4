"""Authentication and authorization as FastAPI dependencies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from visage.core.deps import AppSettings, DbSession
from visage.core.errors import NotAuthenticated
from visage.identity import service
from visage.identity.permissions import Permission
from visage.identity.principal import Principal

_bearer = HTTPBearer(auto_error=False)


def current_principal(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise NotAuthenticated("Sign in first: send `Authorization: Bearer <access_token>`.")
    principal = service.principal_from_access_token(session, settings, credentials.credentials)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(permission: Permission) -> Callable[..., Principal]:
    """A dependency that lets the call through only with `permission`."""

    def dependency(principal: CurrentPrincipal) -> Principal:
        principal.require(permission)
        return principal

    return dependency
