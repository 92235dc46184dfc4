"""Who may look at an event: tenant users, attendees (account or anonymous with the event code)
and holders of a photo link (issued by a selfie search that found them in that photo).

Attendees are not tenant users: their passes are JWTs of type "attendee", scoped to one event.
Photo links are JWTs of type "photo" naming one photo; they let an `<img>` tag load a
thumbnail without an Authorization header.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from visage.config import Settings
from visage.core.errors import NotAuthenticated, NotFound
from visage.core.security import create_access_token, decode_access_token
from visage.core.tenancy import TenantId, TenantScope
from visage.identity.principal import Principal

ATTENDEE_TOKEN_TYPE = "attendee"
PHOTO_LINK_TOKEN_TYPE = "photo"


@dataclass(frozen=True)
class AttendeePass:
    event_id: uuid.UUID
    tenant_id: TenantId
    attendee_id: uuid.UUID | None  # None: anonymous access with the event code


@dataclass(frozen=True)
class PhotoLink:
    photo_id: uuid.UUID
    tenant_id: TenantId


@dataclass(frozen=True)
class Viewer:
    """A caller of the gallery: at least one of the three is set."""

    principal: Principal | None = None
    attendee: AttendeePass | None = None
    link: PhotoLink | None = None


def attendee_scope(session: Session, attendee: AttendeePass) -> TenantScope:
    return TenantScope(session, attendee.tenant_id)


def viewer_scope(session: Session, viewer: Viewer) -> TenantScope:
    """The tenant a viewer looks into (a photo link alone opens no scope)."""
    if viewer.principal is not None:
        return viewer.principal.scope(session)
    if viewer.attendee is not None:
        return attendee_scope(session, viewer.attendee)
    raise NotFound("Event not found.")


def issue_attendee_token(
    settings: Settings, *, event_id: uuid.UUID, tenant_id: uuid.UUID, attendee_id: uuid.UUID | None
) -> str:
    return create_access_token(
        settings.secret_key,
        subject=attendee_id or event_id,
        expires_minutes=settings.attendee_token_expire_minutes,
        claims={
            "type": ATTENDEE_TOKEN_TYPE,
            "evt": str(event_id),
            "tid": str(tenant_id),
            "anon": attendee_id is None,
        },
    )


def attendee_pass_from_token(settings: Settings, token: str) -> AttendeePass:
    claims = decode_access_token(settings.secret_key, token, token_type=ATTENDEE_TOKEN_TYPE)
    try:
        return AttendeePass(
            event_id=uuid.UUID(claims["evt"]),
            tenant_id=TenantId(uuid.UUID(claims["tid"])),
            attendee_id=None if claims.get("anon") else uuid.UUID(claims["sub"]),
        )
    except (KeyError, ValueError) as error:
        raise NotAuthenticated(details={"reason": "malformed attendee pass"}) from error


def issue_photo_link_token(settings: Settings, photo_id: uuid.UUID, tenant_id: uuid.UUID) -> str:
    return create_access_token(
        settings.secret_key,
        subject=photo_id,
        expires_minutes=settings.photo_link_ttl_minutes,
        claims={"type": PHOTO_LINK_TOKEN_TYPE, "tid": str(tenant_id)},
    )


def photo_link_from_token(settings: Settings, token: str) -> PhotoLink:
    claims = decode_access_token(settings.secret_key, token, token_type=PHOTO_LINK_TOKEN_TYPE)
    try:
        return PhotoLink(uuid.UUID(claims["sub"]), TenantId(uuid.UUID(claims["tid"])))
    except (KeyError, ValueError) as error:
        raise NotAuthenticated(details={"reason": "malformed photo link"}) from error
