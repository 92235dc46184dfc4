"""/api/v1/messaging/*, /api/v1/messages, /api/v1/members/{id}/messaging, the WAHA webhook and
the WAHA health routes (thin: parse, authorize, call)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import JSONResponse

from visage.config import get_settings
from visage.core.deps import AppSettings, DbSession
from visage.core.errors import AppError
from visage.core.jobs import enqueue
from visage.core.paging import Page, Paging, page_of
from visage.health import checks

# One shape for every /health* answer (200 or 503 naming what fails).
from visage.health.router import _answer as health_answer
from visage.identity.dependencies import require
from visage.identity.permissions import Permission
from visage.identity.principal import Principal
from visage.members.models import Member
from visage.messaging import audience, consent, inbound, metrics, pacing, service, sessions
from visage.messaging import templates as template_service
from visage.messaging.gateway import provider
from visage.messaging.models import MessageTemplate
from visage.messaging.schemas import (
    BulkCreate,
    BulkPreview,
    BulkQueued,
    MessageCreate,
    MessageOut,
    MessageQueued,
    MessagingSettingsOut,
    MessagingSettingsUpdate,
    PreferenceOut,
    PreferenceUpdate,
    Recipient,
    SessionAction,
    SessionCreate,
    SessionList,
    SessionOut,
    TemplateCreate,
    TemplateOut,
    TemplateUpdate,
)
from visage.messaging.tasks import process_webhook, submit

router = APIRouter(tags=["messaging"])
webhook_router = APIRouter(tags=["messaging"])
health_router = APIRouter(tags=["health"])

Reader = Annotated[Principal, Depends(require(Permission.MEMBERS_READ))]
Sender = Annotated[Principal, Depends(require(Permission.MEMBERS_MANAGE))]
Admin = Annotated[Principal, Depends(require(Permission.TENANT_UPDATE))]


@router.post("/messaging/sessions", status_code=status.HTTP_201_CREATED)
def create_session(
    body: SessionCreate, session: DbSession, principal: Admin, settings: AppSettings
) -> SessionOut:
    """Create and start a WAHA session with our signed webhook; then scan its QR."""
    row = sessions.create_session(
        principal.scope(session), provider(settings), settings, label=body.label
    )
    session.flush()
    return SessionOut.model_validate(row)


@router.get("/messaging/sessions")
def list_sessions(session: DbSession, principal: Admin, settings: AppSettings) -> SessionList:
    scope = principal.scope(session)
    rows = sessions.list_sessions(scope)
    missing = sessions.missing_settings(settings)
    live = not missing and sessions.refresh_statuses(scope, provider(settings), rows)
    return SessionList(
        items=[SessionOut.model_validate(row) for row in rows], live=live, missing=missing
    )


@router.get(
    "/messaging/sessions/{session_id}/qr",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def session_qr(
    session_id: uuid.UUID, session: DbSession, principal: Admin, settings: AppSettings
) -> Response:
    png = sessions.qr_code(principal.scope(session), provider(settings), session_id)
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.post("/messaging/sessions/{session_id}/{action}")
def session_action(
    session_id: uuid.UUID,
    action: SessionAction,
    session: DbSession,
    principal: Admin,
    settings: AppSettings,
) -> SessionOut:
    row = sessions.session_action(principal.scope(session), provider(settings), session_id, action)
    return SessionOut.model_validate(row)


@router.delete("/messaging/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_session(
    session_id: uuid.UUID, session: DbSession, principal: Admin, settings: AppSettings
) -> None:
    sessions.delete_session(principal.scope(session), provider(settings), session_id)


@router.post("/messages", status_code=status.HTTP_202_ACCEPTED)
def send_message(body: MessageCreate, session: DbSession, principal: Sender) -> MessageQueued:
    scope = principal.scope(session)
    member = scope.get(Member, body.member_id, what="Member") if body.member_id else None
    phone = consent.phone_digits(member.phone if member else body.phone)
    text = audience.body_of(scope, body.text, body.template_id, body.variables).for_member(member)
    outgoing = service.Outgoing(
        text=text,
        member=member,
        phone=phone,
        template_id=body.template_id,
        idempotency_key=body.idempotency_key,
    )
    message = submit(scope, outgoing, session_id=body.session_id)
    return MessageQueued(id=message.id, status=message.status)


@router.get("/messages")
def list_messages(
    session: DbSession,
    principal: Reader,
    paging: Paging,
    status: Annotated[str | None, Query(max_length=20)] = None,
    member_id: uuid.UUID | None = None,
    direction: Annotated[str | None, Query(pattern="^(inbound|outbound)$")] = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Page[MessageOut]:
    rows, total = service.list_messages(
        principal.scope(session),
        status=status,
        member_id=member_id,
        since=since,
        until=until,
        direction=direction,
        page=paging.page,
        page_size=paging.page_size,
    )
    return page_of([MessageOut.model_validate(row) for row in rows], total, paging)


@router.get("/messages/{message_id}")
def get_message(message_id: uuid.UUID, session: DbSession, principal: Reader) -> MessageOut:
    return MessageOut.model_validate(service.get_message(principal.scope(session), message_id))


def _recipient(item: audience.Planned) -> Recipient:
    refusal, person = item.refusal, item.addressee
    return Recipient(
        member_id=person.member.id if person.member else None,
        attendee_id=person.attendee.id if person.attendee else None,
        full_name=person.name,
        text=item.text,
        reason=refusal.message if refusal else None,
        code=refusal.code if refusal else None,
    )


def _planned(session: DbSession, principal: Principal, body: BulkCreate) -> list[audience.Planned]:
    scope = principal.scope(session)
    letter = audience.body_of(scope, body.text, body.template_id, body.variables)
    segment = audience.Segment(body.segment, body.member_ids, body.event_id)
    return audience.plan(scope, audience.addressees(scope, segment), letter)


@router.post("/messages/bulk/preview")
def preview_bulk(body: BulkCreate, session: DbSession, principal: Sender) -> BulkPreview:
    """Who would get the message (rendered for each) and who is skipped, with the reason."""
    planned = _planned(session, principal, body)
    return BulkPreview(
        recipients=[_recipient(p) for p in planned if p.refusal is None],
        skipped=[_recipient(p) for p in planned if p.refusal is not None],
    )


@router.post("/messages/bulk", status_code=status.HTTP_202_ACCEPTED)
def send_bulk(body: BulkCreate, session: DbSession, principal: Sender) -> BulkQueued:
    scope = principal.scope(session)
    planned = _planned(session, principal, body)
    letter = audience.body_of(scope, body.text, body.template_id, body.variables)
    queued = audience.queue_planned(scope, planned, letter)
    return BulkQueued(
        queued=[MessageQueued(id=m.id, status=m.status) for m in queued],
        skipped=[_recipient(p) for p in planned if p.refusal is not None],
    )


def _preference_out(
    session: DbSession, principal: Principal, member_id: uuid.UUID
) -> PreferenceOut:
    scope = principal.scope(session)
    member = scope.get(Member, member_id, what="Member")
    current = consent.preference(session, member.id)
    phone = consent.phone_digits(member.phone)
    return PreferenceOut(
        member_id=member.id,
        whatsapp=bool(current and current.whatsapp),
        email=bool(current and current.email),
        whatsapp_opted_out=bool(phone and consent.is_opted_out(session, scope.tenant_id, phone)),
        updated_by=current.updated_by if current else None,
        updated_at=current.updated_at if current else None,
        source=current.source if current else None,
    )


@router.put("/members/{member_id}/messaging")
def set_preference(
    member_id: uuid.UUID, body: PreferenceUpdate, session: DbSession, principal: Sender
) -> PreferenceOut:
    consent.set_preference(
        principal.scope(session), principal, member_id, whatsapp=body.whatsapp, email=body.email
    )
    return _preference_out(session, principal, member_id)


@router.get("/members/{member_id}/messaging")
def get_preference(member_id: uuid.UUID, session: DbSession, principal: Reader) -> PreferenceOut:
    return _preference_out(session, principal, member_id)


def _template_out(template: MessageTemplate) -> TemplateOut:
    return TemplateOut(
        id=template.id,
        name=template.name,
        body=template.body,
        variables=template_service.variables_of(template.body),
    )


@router.get("/messaging/templates")
def list_templates(session: DbSession, principal: Reader) -> list[TemplateOut]:
    return [_template_out(t) for t in template_service.list_templates(principal.scope(session))]


@router.post("/messaging/templates", status_code=status.HTTP_201_CREATED)
def create_template(body: TemplateCreate, session: DbSession, principal: Sender) -> TemplateOut:
    scope = principal.scope(session)
    return _template_out(template_service.create_template(scope, name=body.name, body=body.body))


@router.patch("/messaging/templates/{template_id}")
def update_template(
    template_id: uuid.UUID, body: TemplateUpdate, session: DbSession, principal: Sender
) -> TemplateOut:
    scope = principal.scope(session)
    template = template_service.update_template(scope, template_id, name=body.name, body=body.body)
    return _template_out(template)


@router.delete("/messaging/templates/{template_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_template(template_id: uuid.UUID, session: DbSession, principal: Sender) -> None:
    scope = principal.scope(session)
    session.delete(scope.get(MessageTemplate, template_id, what="Template"))


@router.get("/messaging/settings")
def get_messaging_settings(session: DbSession, principal: Reader) -> MessagingSettingsOut:
    return MessagingSettingsOut.model_validate(pacing.tenant_settings(session, principal.tenant()))


@router.put("/messaging/settings")
def update_messaging_settings(
    body: MessagingSettingsUpdate, session: DbSession, principal: Admin
) -> MessagingSettingsOut:
    row = pacing.update_settings(session, principal.tenant(), body.model_dump(exclude_unset=True))
    return MessagingSettingsOut.model_validate(row)


@webhook_router.post("/webhooks/waha")
async def waha_webhook(request: Request, session: DbSession) -> dict[str, str]:
    """WAHA's deliveries: 401 unless X-Webhook-Hmac signs the raw body; duplicates answered
    200 and dropped; the work happens in a job."""
    settings = get_settings()
    body = await request.body()
    headers = {name.lower(): value for name, value in request.headers.items()}
    try:
        event_id = inbound.accept(session, provider(settings), settings, body, headers)
    except AppError:
        metrics.WEBHOOK_VERIFICATION_FAILURES.inc()
        raise
    if event_id is None:
        return {"status": "duplicate"}
    enqueue(session, process_webhook, event_id=str(event_id))
    return {"status": "accepted"}


@health_router.get("/health/waha")
def health_waha() -> JSONResponse:
    """WAHA reachable with our key, its version, and every session's status."""
    return health_answer([checks.check_waha(get_settings())])


@health_router.get("/health/webhooks")
def webhooks_health(session: DbSession) -> JSONResponse:
    """The inbound webhook: secret configured, last delivery, verification failures."""
    failures = int(metrics.WEBHOOK_VERIFICATION_FAILURES._value.get())
    return health_answer([inbound.webhook_health(session, get_settings(), failures)])
