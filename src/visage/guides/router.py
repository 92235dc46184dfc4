"""FindMe's `POST /api/login` and `GET /api/health-check`, in the guide's shapes.

Login hands over to the canonical handlers: a photographer's to `POST /api/v1/auth/login`,
an attendee's (with the event's `access_code`) to `POST /api/v1/attendees/login`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from visage.core.db import get_database
from visage.core.deps import AppSettings, DbSession
from visage.core.errors import ValidationFailed
from visage.events import router as events_router
from visage.events.schemas import AttendeeLogin, AttendeeToken
from visage.guides.aliases import ALIAS_TAG
from visage.guides.schemas import FindMeHealth, FindMeLogin
from visage.guides.service import findme_health
from visage.identity import router as identity_router
from visage.identity.dependencies import Client
from visage.identity.schemas import LoginRequest, TokenPair

router = APIRouter(tags=[ALIAS_TAG])

BodyT = TypeVar("BodyT", bound=BaseModel)


def _as(schema: type[BodyT], build: Callable[[], dict[str, object]]) -> BodyT:
    """The canonical route's body; its own limits answer 422 like the route would."""
    try:
        return schema.model_validate(build())
    except ValidationError as error:
        fields = [
            {"field": ".".join(map(str, e["loc"])), "message": e["msg"], "type": e["type"]}
            for e in error.errors()
        ]
        raise ValidationFailed(details=fields) from error


@router.post(
    "/api/login",
    deprecated=True,
    summary="FindMe's login: photographers, or attendees with the event's access_code",
)
def findme_login(
    body: FindMeLogin, session: DbSession, settings: AppSettings, client: Client
) -> TokenPair | AttendeeToken:
    if body.access_code:
        attendee_login = _as(
            AttendeeLogin,
            lambda: {
                "access_code": body.access_code,
                "login": body.username or str(body.email),
                "password": body.password,
            },
        )
        return events_router.login_attendee(attendee_login, session, settings)
    user_login = _as(
        LoginRequest,
        lambda: {
            "username": body.username,
            "email": body.email,
            "password": body.password,
            "tenant": body.tenant,
        },
    )
    return identity_router.login(user_login, session, settings, client)


@router.get(
    "/api/health-check",
    deprecated=True,
    response_model=FindMeHealth,
    responses={503: {"model": FindMeHealth, "description": "degraded"}},
    summary="FindMe's health check: database, event_id column, composite unique indexes",
)
def findme_health_check() -> JSONResponse:
    health = findme_health(get_database())
    return JSONResponse(health.model_dump(), status_code=200 if health.status == "healthy" else 503)
