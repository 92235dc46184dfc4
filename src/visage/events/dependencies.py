"""Gallery callers as FastAPI dependencies: tenant users, attendee passes and photo links."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from visage.core.deps import AppSettings, DbSession
from visage.core.errors import NotAuthenticated
from visage.events.access import (
    AttendeePass,
    Viewer,
    attendee_pass_from_token,
    photo_link_from_token,
)
from visage.identity import api_tokens
from visage.identity import service as identity_service
from visage.identity.dependencies import Client, personal_token

_bearer = HTTPBearer(auto_error=False)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def current_viewer(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    client: Client,
    credentials: Credentials,
    link: Annotated[
        str | None, Query(description="A photo link token from a selfie search result")
    ] = None,
) -> Viewer:
    photo_link = photo_link_from_token(settings, link) if link else None
    token = personal_token(request)
    if token is not None:  # a tenant user's personal API token (`Authorization: Token`)
        principal = api_tokens.principal_from_api_token(session, token, client)
        return Viewer(principal=principal, link=photo_link)
    if credentials is None:
        if photo_link is None:
            raise NotAuthenticated(
                "Sign in, join the event with its access code, or use a photo link."
            )
        return Viewer(link=photo_link)
    try:
        attendee = attendee_pass_from_token(settings, credentials.credentials)
    except NotAuthenticated:
        principal = identity_service.principal_from_access_token(
            session, settings, credentials.credentials
        )
        return Viewer(principal=principal, link=photo_link)
    return Viewer(attendee=attendee, link=photo_link)


def current_attendee(settings: AppSettings, credentials: Credentials) -> AttendeePass:
    if credentials is None:
        raise NotAuthenticated("Join the event first: send `Authorization: Bearer <pass>`.")
    return attendee_pass_from_token(settings, credentials.credentials)


CurrentViewer = Annotated[Viewer, Depends(current_viewer)]
CurrentAttendee = Annotated[AttendeePass, Depends(current_attendee)]
