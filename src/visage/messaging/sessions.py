"""A tenant's WhatsApp sessions in WAHA: create and start (webhooks configured), status, QR,
stop / restart / logout / delete."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from visage.config import Settings
from visage.core.db import utcnow
from visage.core.tenancy import TenantScope
from visage.messaging.errors import (
    GatewayRefused,
    GatewayUnavailable,
    MessagingNotConfigured,
    QrNotAvailable,
)
from visage.messaging.models import WhatsAppSession
from visage.messaging.provider import (
    GatewayDown,
    GatewayError,
    GatewayTimeout,
    MessagingProvider,
)

WEBHOOK_PATH = "/api/v1/webhooks/waha"
ACTIONS = ("start", "stop", "restart", "logout")
WAITING_FOR_SCAN = "SCAN_QR_CODE"
WORKING = "WORKING"
# A stored QR older than this has expired in WhatsApp (codes live 20-60 s).
QR_FRESH = timedelta(seconds=60)


def webhook_url(settings: Settings) -> str:
    return f"{settings.public_base_url.rstrip('/')}{WEBHOOK_PATH}"


def _translate(error: Exception) -> Exception:
    if isinstance(error, GatewayDown | GatewayTimeout):
        return GatewayUnavailable(details={"component": "waha", "reason": str(error)})
    if isinstance(error, GatewayError):
        return GatewayRefused(
            f"WAHA refused the request: {error.message}", details={"status": error.status_code}
        )
    return error


def missing_settings(settings: Settings) -> list[str]:
    """The variables WhatsApp still needs; without the secret every webhook would be refused."""
    return [
        variable
        for variable, value in (
            ("WAHA_BASE_URL", settings.waha_base_url),
            ("WEBHOOK_SECRET", settings.webhook_secret),
        )
        if not value
    ]


def create_session(
    scope: TenantScope, provider: MessagingProvider, settings: Settings, *, label: str
) -> WhatsAppSession:
    missing = missing_settings(settings)
    if missing:
        raise MessagingNotConfigured(details={"missing": missing})
    name = f"visage-{secrets.token_hex(6)}"
    try:
        info = provider.create_session(
            name, webhook_url=webhook_url(settings), webhook_secret=settings.webhook_secret
        )
    except (GatewayDown, GatewayTimeout, GatewayError) as error:
        raise _translate(error) from error
    return scope.add(WhatsAppSession(name=name, label=label, status=info.status or "STARTING"))


def list_sessions(scope: TenantScope) -> list[WhatsAppSession]:
    statement = scope.select(WhatsAppSession).order_by(WhatsAppSession.created_at)
    return list(scope.session.scalars(statement))


def refresh_statuses(
    scope: TenantScope, provider: MessagingProvider, rows: list[WhatsAppSession]
) -> bool:
    """Update the rows from WAHA's own list; False when WAHA cannot be reached."""
    try:
        live = {info.name: info for info in provider.list_sessions()}
    except (GatewayDown, GatewayTimeout, GatewayError):
        return False
    for row in rows:
        info = live.get(row.name)
        set_status(row, info.status if info else "STOPPED", me=info.me if info else None)
    scope.session.flush()
    return True


def set_status(row: WhatsAppSession, status: str, *, me: str | None = None) -> None:
    if status and status != row.status:
        row.status = status
        row.status_changed_at = utcnow()
    if me:
        row.me = me
    if status == WORKING:
        row.qr_png = None


def session_action(
    scope: TenantScope, provider: MessagingProvider, session_id: uuid.UUID, action: str
) -> WhatsAppSession:
    row = scope.get(WhatsAppSession, session_id, what="WhatsApp session")
    try:
        provider.session_action(row.name, action)
        info = provider.get_session(row.name)
    except (GatewayDown, GatewayTimeout, GatewayError) as error:
        raise _translate(error) from error
    set_status(row, info.status, me=info.me)
    return row


def delete_session(scope: TenantScope, provider: MessagingProvider, session_id: uuid.UUID) -> None:
    row = scope.get(WhatsAppSession, session_id, what="WhatsApp session")
    try:
        provider.delete_session(row.name)
    except GatewayError as error:
        if error.status_code != 404:  # already gone in WAHA: forget it here too
            raise _translate(error) from error
    except (GatewayDown, GatewayTimeout) as error:
        raise _translate(error) from error
    scope.session.delete(row)


def qr_code(scope: TenantScope, provider: MessagingProvider, session_id: uuid.UUID) -> bytes:
    """The PNG to scan: fetched live, or the one stored at the last SCAN_QR_CODE event."""
    row = scope.get(WhatsAppSession, session_id, what="WhatsApp session")
    try:
        info = provider.get_session(row.name)
        set_status(row, info.status, me=info.me)
        if info.status != WAITING_FOR_SCAN:
            raise QrNotAvailable(details={"status": info.status})
        png = provider.qr_png(row.name)
    except (GatewayDown, GatewayTimeout) as error:
        fresh = row.qr_fetched_at is not None and utcnow() - row.qr_fetched_at < QR_FRESH
        if row.qr_png is not None and fresh and row.status == WAITING_FOR_SCAN:
            return row.qr_png
        raise _translate(error) from error
    except GatewayError as error:
        raise _translate(error) from error
    row.qr_png, row.qr_fetched_at = png, utcnow()
    return png


def session_by_name(session: Session, name: str) -> WhatsAppSession | None:
    return session.scalar(select(WhatsAppSession).where(WhatsAppSession.name == name))


def pick_session(scope: TenantScope, session_id: uuid.UUID | None) -> WhatsAppSession | None:
    """The session a message goes out through: the one asked for, else a working one."""
    if session_id is not None:
        return scope.get(WhatsAppSession, session_id, what="WhatsApp session")
    rows = list_sessions(scope)
    working = [row for row in rows if row.status == WORKING]
    candidates = working or rows
    return candidates[0] if candidates else None
