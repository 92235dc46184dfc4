"""/api/v1/social, /posts, /ai and the publicity consents (thin: parse, authorize, call)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from fastapi.responses import RedirectResponse

from visage.core.db import get_database, utcnow
from visage.core.deps import AppSettings, DbSession
from visage.core.paging import Page, Paging, page_of
from visage.core.storage import get_storage
from visage.events.dependencies import CurrentAttendee
from visage.identity.dependencies import require
from visage.identity.permissions import Permission
from visage.identity.principal import Principal
from visage.publishing import accounts, captions, consent, credits, posts, safe_images
from visage.publishing.delivery import media_key_from_token
from visage.publishing.models import Platform, Post, PostStatus
from visage.publishing.schemas import (
    AccountOut,
    AnalysisOut,
    AnalyzeIn,
    AppPasswordIn,
    AuthorizeUrl,
    CaptionIn,
    CaptionsOut,
    CreditsOut,
    ImprovedOut,
    ImproveIn,
    IssueOut,
    PostCreate,
    PostOut,
    PublicityIn,
    PublicityOut,
    PublishingSettingsIn,
    PublishingSettingsOut,
    QueueStatusOut,
)

Publisher = Annotated[Principal, Depends(require(Permission.EVENTS_MANAGE))]
MembersManager = Annotated[Principal, Depends(require(Permission.MEMBERS_MANAGE))]
SettingsManager = Annotated[Principal, Depends(require(Permission.TENANT_UPDATE))]
MembersReader = Annotated[Principal, Depends(require(Permission.MEMBERS_READ))]

social_router = APIRouter(prefix="/social", tags=["publishing"])
posts_router = APIRouter(prefix="/posts", tags=["publishing"])
ai_router = APIRouter(prefix="/ai", tags=["publishing"])
consent_router = APIRouter(tags=["publishing"])


@social_router.post("/accounts/{platform}/connect")
def connect(
    platform: Platform, session: DbSession, settings: AppSettings, principal: Publisher
) -> AuthorizeUrl:
    return AuthorizeUrl(
        authorize_url=accounts.start_connect(session, principal, platform, settings)
    )


@social_router.post("/accounts/bluesky/app-password", status_code=status.HTTP_201_CREATED)
def connect_bluesky(
    body: AppPasswordIn, session: DbSession, settings: AppSettings, principal: Publisher
) -> AccountOut:
    """Bluesky signs in with the handle and an app password (Settings → App passwords)."""
    account = accounts.connect_with_app_password(
        session, principal, settings, identifier=body.identifier, app_password=body.app_password
    )
    return AccountOut.model_validate(account)


@social_router.get("/oauth/callback", response_class=RedirectResponse, status_code=303)
def oauth_callback(
    session: DbSession,
    settings: AppSettings,
    state: Annotated[str, Query(max_length=200)],
    code: Annotated[str | None, Query(max_length=2000)] = None,
    error: Annotated[str | None, Query(max_length=500)] = None,
) -> RedirectResponse:
    """Where the platform sends the browser back; the state alone identifies the attempt."""
    connected = accounts.complete_connect(session, settings, state=state, code=code, error=error)
    platform = connected[0].platform.value
    return RedirectResponse(f"/app/publishing?connected={platform}", status_code=303)


@social_router.get("/accounts")
def list_accounts(session: DbSession, principal: Publisher) -> list[AccountOut]:
    return [AccountOut.model_validate(a) for a in accounts.list_accounts(session, principal)]


@social_router.put("/accounts/{account_id}/refresh")
def refresh_account(
    account_id: uuid.UUID, session: DbSession, settings: AppSettings, principal: Publisher
) -> AccountOut:
    account = accounts.refresh_on_demand(session, principal, account_id, settings)
    return AccountOut.model_validate(account)


@social_router.delete("/accounts/{account_id}", status_code=status.HTTP_204_NO_CONTENT)
def disconnect(account_id: uuid.UUID, session: DbSession, principal: Publisher) -> None:
    accounts.disconnect(session, principal, account_id)


@social_router.get("/media/{token}", response_class=Response)
def published_media(token: str, settings: AppSettings) -> Response:
    """A consent-safe copy, for platforms that fetch images by URL (Instagram)."""
    key = media_key_from_token(settings, token)
    return Response(get_storage().get(key), media_type="image/jpeg")


@social_router.get("/preview/{photo_id}", response_class=Response)
def preview_photo(
    photo_id: uuid.UUID,
    platform: Platform,
    session: DbSession,
    settings: AppSettings,
    principal: Publisher,
) -> Response:
    """The consent-safe copy `platform` would get: non-consenting faces blurred, cropped."""
    copy = safe_images.preview(session, settings, principal, photo_id, platform)
    headers = {"X-Faces-Kept": str(copy.faces_kept), "X-Faces-Blurred": str(copy.faces_blurred)}
    return Response(copy.data, media_type="image/jpeg", headers=headers)


def _post_out(session: DbSession, post: Post) -> PostOut:
    return PostOut.of(post, posts.deliveries_of(session, post))


@posts_router.post("", status_code=status.HTTP_201_CREATED)
def create_post(body: PostCreate, session: DbSession, principal: Publisher) -> PostOut:
    draft = posts.PostDraft(**body.model_dump())
    return _post_out(session, posts.create_post(session, principal, draft))


@posts_router.get("")
def list_posts(
    session: DbSession,
    principal: Publisher,
    paging: Paging,
    status_filter: Annotated[PostStatus | None, Query(alias="status")] = None,
) -> Page[PostOut]:
    found, total = posts.list_posts(
        session, principal, status=status_filter, page=paging.page, page_size=paging.page_size
    )
    return page_of([_post_out(session, post) for post in found], total, paging)


@posts_router.get("/queue/status")
def queue_status(session: DbSession, principal: Publisher) -> QueueStatusOut:
    """The owner's view of the publishing queue (AllIN's /api/admin/queue/status)."""
    counts = posts.queue_status(session, principal, utcnow())
    return QueueStatusOut(**counts.__dict__)


@posts_router.get("/{post_id}")
def get_post(post_id: uuid.UUID, session: DbSession, principal: Publisher) -> PostOut:
    return _post_out(session, posts.get_post(session, principal, post_id))


@posts_router.post("/{post_id}/publish-now")
def publish_now(
    post_id: uuid.UUID, session: DbSession, settings: AppSettings, principal: Publisher
) -> PostOut:
    return _post_out(session, posts.publish_now(session, settings, principal, post_id))


@posts_router.delete("/{post_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_post(post_id: uuid.UUID, session: DbSession, principal: Publisher) -> None:
    posts.delete_post(session, principal, post_id)


@consent_router.put("/members/{member_id}/publicity")
def set_member_publicity(
    member_id: uuid.UUID, body: PublicityIn, session: DbSession, principal: MembersManager
) -> PublicityOut:
    return PublicityOut(
        consent=consent.set_member_publicity(session, principal, member_id, body.consent)
    )


@consent_router.get("/members/{member_id}/publicity")
def get_member_publicity(
    member_id: uuid.UUID, session: DbSession, principal: MembersReader
) -> PublicityOut:
    return PublicityOut(consent=consent.member_publicity(session, principal, member_id))


@consent_router.put("/attendees/me/publicity")
def set_attendee_publicity(
    body: PublicityIn, session: DbSession, attendee: CurrentAttendee
) -> PublicityOut:
    """The attendee's own choice, from the event page."""
    return PublicityOut(consent=consent.set_attendee_publicity(session, attendee, body.consent))


@consent_router.get("/attendees/me/publicity")
def get_attendee_publicity(session: DbSession, attendee: CurrentAttendee) -> PublicityOut:
    return PublicityOut(consent=consent.attendee_publicity(session, attendee))


@ai_router.post("/captions")
def ai_captions(body: CaptionIn, settings: AppSettings, principal: Publisher) -> CaptionsOut:
    request = captions.CaptionRequest(
        body.platform, body.tone, body.language, body.photo_ids, body.event_id
    )
    result = captions.generate_captions(get_database(), principal, settings, request)
    return CaptionsOut(**result.__dict__)


@ai_router.post("/analyze-content")
def analyze_content(body: AnalyzeIn, principal: Publisher) -> AnalysisOut:
    del principal  # signed-in publishers only; nothing tenant-specific is read
    result = captions.analyze(body.content, body.platform, body.image_count)
    return AnalysisOut(
        platform=result.platform,
        counted_length=result.counted_length,
        limit=result.limit,
        hashtags=result.hashtags,
        mentions=result.mentions,
        ok=not result.issues,
        issues=[IssueOut(**issue.as_dict()) for issue in result.issues],
    )


@ai_router.post("/improve-content")
def improve_content(body: ImproveIn, settings: AppSettings, principal: Publisher) -> ImprovedOut:
    result = captions.improve(
        get_database(),
        principal,
        settings,
        content=body.content,
        goal=body.goal,
        platform=body.platform,
    )
    return ImprovedOut(**result.__dict__)


@ai_router.get("/credits")
def ai_credits(session: DbSession, settings: AppSettings, principal: Publisher) -> CreditsOut:
    view = credits.view(session, principal.tenant(), settings, utcnow())
    return CreditsOut(**view.__dict__)


@social_router.get("/settings")
def get_publishing_settings(session: DbSession, principal: Publisher) -> PublishingSettingsOut:
    return PublishingSettingsOut(timezone=str(credits.tenant_zone(session, principal.tenant())))


@social_router.put("/settings")
def put_publishing_settings(
    body: PublishingSettingsIn, session: DbSession, principal: SettingsManager
) -> PublishingSettingsOut:
    zone_name = credits.set_timezone(session, principal.tenant(), body.timezone)
    return PublishingSettingsOut(timezone=zone_name)


routers = [social_router, posts_router, ai_router, consent_router]
