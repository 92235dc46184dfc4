"""FindMe's `POST /api/login` and `GET /api/health-check`, in the guide's shapes.

Login hands over to the canonical handlers: a photographer's to `POST /api/v1/auth/login`,
an attendee's (with the event's `access_code`) to `POST /api/v1/attendees/login`.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from visage.core.db import get_database
from visage.core.deps import AppSettings, DbSession
from visage.events import router as events_router
from visage.events.schemas import AttendeeLogin, AttendeeToken
from visage.guides.aliases import ALIAS_TAG
from visage.guides.schemas import FindMeHealth, FindMeLogin
from visage.guides.service import findme_health
from visage.identity import router as identity_router
from visage.identity.dependencies import Client
from visage.identity.schemas import LoginRequest, TokenPair

router = APIRouter(tags=[ALIAS_TAG])


def _attendee_login(body: FindMeLogin) -> AttendeeLogin:
    """The attendees' route has its own limits: over them, 422 as that route would answer."""
    try:
        return AttendeeLogin(
            access_code=str(body.access_code),
            login=body.username or str(body.email),
            password=body.password,
        )
    except ValidationError as error:
        raise RequestValidationError(error.errors()) from error


@router.post(
    "/api/login",
    deprecated=True,
    summary="FindMe's login: photographers, or attendees with the event's access_code",
)
def findme_login(
    body: FindMeLogin,
    session: DbSession,
    settings: AppSettings,
    client: Client,
    response: Response,
) -> TokenPair | AttendeeToken:
    if body.access_code:
        return events_router.login_attendee(_attendee_login(body), session, settings)
    user_login = LoginRequest.model_validate(body.model_dump(exclude={"access_code"}))
    return identity_router.login(user_login, session, settings, client, response)


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
