"""The FindMe API: events, attendees, uploads, progress, gallery, selfie search."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile, status
from fastapi.responses import JSONResponse

from visage.core.deps import AppSettings, DbSession
from visage.core.paging import PageRequest, page_of, page_request
from visage.core.storage import StorageFull, get_storage
from visage.events import attendees, gallery, links, media, progress, search, service, uploads
from visage.events.dependencies import CurrentAttendee, CurrentViewer
from visage.events.models import Attendee, Event, Photo, PhotoFace, PhotoStatus
from visage.events.people_router import people_router
from visage.events.schemas import (
    AnonymousJoin,
    AttendeeLogin,
    AttendeeOut,
    AttendeePage,
    AttendeeRegister,
    AttendeeSelf,
    AttendeeToken,
    EventCreate,
    EventOut,
    EventPage,
    EventUpdate,
    FaceBox,
    NoticeChannelUpdate,
    PhotoDetail,
    PhotoFaceOut,
    PhotoOut,
    PhotoPage,
    Progress,
    PublicEventOut,
    SearchMatch,
    SearchResult,
    SelfieFields,
    UploadedFile,
    UploadError,
    UploadResult,
)
from visage.faces.intake import ImageBody, image_body, openapi_body
from visage.identity.dependencies import require
from visage.identity.permissions import Permission
from visage.identity.principal import Principal

events_router = APIRouter(prefix="/events", tags=["events"])
photos_router = APIRouter(prefix="/photos", tags=["events"])
attendees_router = APIRouter(prefix="/attendees", tags=["events"])

EventManager = Annotated[Principal, Depends(require(Permission.EVENTS_MANAGE))]
EventReader = Annotated[Principal, Depends(require(Permission.EVENTS_READ))]
Uploader = Annotated[Principal, Depends(require(Permission.PHOTOS_UPLOAD))]
PhotoManager = Annotated[Principal, Depends(require(Permission.PHOTOS_MANAGE))]
EventPaging = Annotated[PageRequest, Depends(page_request(default_size=50, max_size=200))]


def _event_out(event: Event, settings: AppSettings) -> EventOut:
    return EventOut.model_validate(
        {
            **{
                field: getattr(event, field)
                for field in EventOut.model_fields
                if hasattr(event, field)
            },
            "share_url": links.share_url(settings, event),
            "qr_code_url": links.qr_code_url(event),
        }
    )


# ---------------------------------------------------------------- events


@events_router.post("", status_code=status.HTTP_201_CREATED)
def create_event(
    body: EventCreate, session: DbSession, settings: AppSettings, principal: EventManager
) -> EventOut:
    return _event_out(service.create_event(session, principal, body, settings), settings)


@events_router.get("")
def list_events(
    session: DbSession,
    settings: AppSettings,
    principal: EventReader,
    paging: EventPaging,
) -> EventPage:
    events, total = service.list_events(
        session, principal, page=paging.page, page_size=paging.page_size
    )
    return page_of([_event_out(event, settings) for event in events], total, paging)


@events_router.get("/{event_id}")
def get_event(
    event_id: uuid.UUID, session: DbSession, settings: AppSettings, principal: EventReader
) -> EventOut:
    return _event_out(service.get_event(session, principal, event_id), settings)


@events_router.patch("/{event_id}")
def update_event(
    event_id: uuid.UUID,
    body: EventUpdate,
    session: DbSession,
    settings: AppSettings,
    principal: EventManager,
) -> EventOut:
    return _event_out(service.update_event(session, principal, event_id, body), settings)


@events_router.delete("/{event_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_event(event_id: uuid.UUID, session: DbSession, principal: EventManager) -> None:
    service.delete_event(session, principal, event_id)


@events_router.get(
    "/{event_id}/qr.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "QR code of the share link"}},
)
def event_qr_code(
    event_id: uuid.UUID, session: DbSession, settings: AppSettings, principal: EventReader
) -> Response:
    png = service.event_qr_png(session, principal, event_id, settings)
    return Response(png, media_type="image/png")


@events_router.get("/{event_id}/attendees")
def list_attendees(
    event_id: uuid.UUID,
    session: DbSession,
    principal: EventManager,
    paging: EventPaging,
) -> AttendeePage:
    found, total = attendees.list_attendees(
        session, principal, event_id, page=paging.page, page_size=paging.page_size
    )
    return page_of([AttendeeOut.model_validate(a) for a in found], total, paging)


@events_router.get("/{event_id}/progress")
def event_progress(
    event_id: uuid.UUID, session: DbSession, settings: AppSettings, principal: EventReader
) -> Progress:
    counts = progress.progress_for_viewer(session, principal, event_id, settings)
    return Progress(
        event_id=counts.event_id,
        total=counts.total,
        pending=counts.by_status[PhotoStatus.PENDING],
        indexing=counts.by_status[PhotoStatus.INDEXING],
        indexed=counts.by_status[PhotoStatus.INDEXED],
        failed=counts.by_status[PhotoStatus.FAILED],
        faces_found=counts.faces_found,
        percent_done=counts.percent_done,
        eta_seconds=counts.eta_seconds,
        live_workers=counts.live_workers,
    )


# ---------------------------------------------------------------- uploads and gallery


@events_router.post(
    "/{event_id}/photos",
    response_model=UploadResult,
    responses={507: {"model": UploadResult, "description": "No file could be stored"}},
)
def upload_photos(
    event_id: uuid.UUID,
    files: Annotated[list[UploadFile], File(description="Photos: JPEG, PNG, WebP or HEIC")],
    session: DbSession,
    settings: AppSettings,
    principal: Uploader,
) -> UploadResult | JSONResponse:
    outcomes = uploads.upload_photos(
        session,
        principal,
        event_id,
        [uploads.IncomingFile(upload.filename or "photo", upload.file) for upload in files],
        settings,
        get_storage(),
    )
    described = [
        UploadedFile(
            filename=outcome.filename,
            status=outcome.status,
            photo_id=outcome.photo_id,
            error=(
                UploadError(code=outcome.error.code, message=outcome.error.message)
                if outcome.error
                else None
            ),
        )
        for outcome in outcomes
    ]
    result = UploadResult(
        accepted=sum(1 for f in described if f.status == "accepted"),
        duplicates=sum(1 for f in described if f.status == "duplicate"),
        rejected=sum(1 for f in described if f.status == "rejected"),
        files=described,
    )
    if result.accepted == 0 and any(
        f.error and f.error.code == StorageFull.code for f in described
    ):
        # Nothing could be stored: the whole answer is the storage's failure.
        return JSONResponse(result.model_dump(mode="json"), status_code=StorageFull.status_code)
    return result


def _photo_urls(photo: Photo) -> dict[str, str]:
    base = f"{links.API_PREFIX}/photos/{photo.id}"
    return {
        "thumbnail_url": f"{base}/{media.THUMBNAIL}",
        "preview_url": f"{base}/{media.PREVIEW}",
        "original_url": f"{base}/{media.ORIGINAL}",
    }


def _photo_fields(photo: Photo) -> dict[str, Any]:
    fields = {
        field: getattr(photo, field) for field in PhotoOut.model_fields if hasattr(photo, field)
    }
    return {**fields, **_photo_urls(photo)}


@events_router.get("/{event_id}/photos")
def list_photos(
    event_id: uuid.UUID,
    session: DbSession,
    viewer: CurrentViewer,
    paging: EventPaging,
    status_filter: Annotated[PhotoStatus | None, Query(alias="status")] = None,
    has_faces: bool | None = None,
) -> PhotoPage:
    photos, total = gallery.list_photos(
        session,
        viewer,
        event_id,
        status=status_filter,
        has_faces=has_faces,
        page=paging.page,
        page_size=paging.page_size,
    )
    return page_of([PhotoOut.model_validate(_photo_fields(p)) for p in photos], total, paging)


def _face_out(face: PhotoFace) -> PhotoFaceOut:
    return PhotoFaceOut(
        id=face.id, box=FaceBox(**face.box()), score=face.score, sharpness=face.sharpness
    )


@photos_router.get("/{photo_id}")
def get_photo(photo_id: uuid.UUID, session: DbSession, viewer: CurrentViewer) -> PhotoDetail:
    photo = gallery.photo_for_viewer(session, viewer, photo_id, media.PREVIEW)
    faces = gallery.photo_faces(session, viewer, photo)
    return PhotoDetail.model_validate(
        {**_photo_fields(photo), "faces": [_face_out(face) for face in faces]}
    )


def _download(
    photo_id: uuid.UUID,
    rendition: str,
    session: DbSession,
    viewer: CurrentViewer,
) -> Response:
    photo = gallery.photo_for_viewer(session, viewer, photo_id, rendition)
    data, content_type, filename = gallery.photo_file(get_storage(), photo, rendition)
    disposition = "attachment" if rendition == media.ORIGINAL else "inline"
    return Response(
        data,
        media_type=content_type,
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(filename)}",
            "Cache-Control": "private, max-age=3600",
        },
    )


_IMAGE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/jpeg": {}}, "description": "The image"}
}


@photos_router.get("/{photo_id}/thumbnail", response_class=Response, responses=_IMAGE_RESPONSE)
def photo_thumbnail(photo_id: uuid.UUID, session: DbSession, viewer: CurrentViewer) -> Response:
    return _download(photo_id, media.THUMBNAIL, session, viewer)


@photos_router.get("/{photo_id}/preview", response_class=Response, responses=_IMAGE_RESPONSE)
def photo_preview(photo_id: uuid.UUID, session: DbSession, viewer: CurrentViewer) -> Response:
    return _download(photo_id, media.PREVIEW, session, viewer)


@photos_router.get("/{photo_id}/original", response_class=Response, responses=_IMAGE_RESPONSE)
def photo_original(photo_id: uuid.UUID, session: DbSession, viewer: CurrentViewer) -> Response:
    return _download(photo_id, media.ORIGINAL, session, viewer)


@photos_router.delete("/{photo_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_photo(photo_id: uuid.UUID, session: DbSession, principal: PhotoManager) -> None:
    gallery.delete_photo(session, principal, photo_id)


# ---------------------------------------------------------------- selfie search

SelfieBody = Annotated[ImageBody[SelfieFields], Depends(image_body(SelfieFields, "image"))]


@events_router.post("/{event_id}/search", openapi_extra=openapi_body(SelfieFields, "image"))
def search_by_selfie(
    event_id: uuid.UUID,
    selfie: SelfieBody,
    session: DbSession,
    settings: AppSettings,
    viewer: CurrentViewer,
) -> SearchResult:
    outcome = search.search_selfie(
        session, viewer, event_id, selfie.images[0], settings, notify=selfie.fields.notify
    )
    return SearchResult(
        photos=[
            SearchMatch(
                photo_id=match.photo_id,
                distance=match.distance,
                face_box=FaceBox(**match.box),
                thumbnail_url=match.thumbnail_url,
            )
            for match in outcome.matches
        ],
        notifications_enabled=outcome.notifications_enabled,
    )


# ---------------------------------------------------------------- attendees


def _public_event(event: Event) -> PublicEventOut:
    return PublicEventOut(
        id=event.id,
        name=event.name,
        event_date=event.event_date,
        visibility=event.visibility,
        face_search_enabled=event.face_search_enabled,
        language=event.language,
    )


def _token_out(result: attendees.AttendeeSession) -> AttendeeToken:
    attendee: Attendee | None = result.attendee
    return AttendeeToken(
        access_token=result.token,
        event=_public_event(result.event),
        attendee=AttendeeOut.model_validate(attendee) if attendee else None,
    )


@attendees_router.post("/anonymous")
def join_anonymously(
    body: AnonymousJoin, session: DbSession, settings: AppSettings
) -> AttendeeToken:
    return _token_out(attendees.join_anonymously(session, body.access_code, settings))


@attendees_router.post("/register", status_code=status.HTTP_201_CREATED)
def register_attendee(
    body: AttendeeRegister, session: DbSession, settings: AppSettings
) -> AttendeeToken:
    return _token_out(
        attendees.register_attendee(
            session,
            access_code=body.access_code,
            username=body.username,
            email=str(body.email),
            password=body.password,
            full_name=body.full_name,
            settings=settings,
        )
    )


@attendees_router.post("/login")
def login_attendee(body: AttendeeLogin, session: DbSession, settings: AppSettings) -> AttendeeToken:
    return _token_out(
        attendees.login_attendee(
            session,
            access_code=body.access_code,
            login=body.login,
            password=body.password,
            settings=settings,
        )
    )


def _self_out(state: attendees.AttendeeState) -> AttendeeSelf:
    return AttendeeSelf(
        attendee=AttendeeOut.model_validate(state.attendee) if state.attendee else None,
        event=_public_event(state.event),
        has_selfie_template=state.subscription is not None,
        selfie_template_expires_at=state.subscription.expires_at if state.subscription else None,
    )


@attendees_router.get("/me")
def attendee_self(session: DbSession, attendee: CurrentAttendee) -> AttendeeSelf:
    return _self_out(attendees.attendee_state(session, attendee))


@attendees_router.delete("/me/selfie")
def delete_selfie_data(session: DbSession, attendee: CurrentAttendee) -> AttendeeSelf:
    return _self_out(attendees.delete_selfie_data(session, attendee))


@attendees_router.put("/me/notifications")
def choose_notice_channel(
    body: NoticeChannelUpdate, session: DbSession, attendee: CurrentAttendee
) -> AttendeeSelf:
    """How the attendee hears about new photos of them: email, WhatsApp (their number in
    international form and their consent), or not at all. A STOP on WhatsApp sets it to none."""
    state = attendees.choose_notice_channel(session, attendee, body.channel, body.phone)
    return _self_out(state)


@attendees_router.delete("/me", status_code=status.HTTP_204_NO_CONTENT)
def delete_attendee(session: DbSession, attendee: CurrentAttendee) -> None:
    attendees.delete_attendee(session, attendee)


routers = [events_router, people_router, photos_router, attendees_router]
