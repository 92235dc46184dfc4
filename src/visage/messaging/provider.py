"""What a WhatsApp gateway must offer: the provider interface WAHA implements (waha.py).

A second gateway (Evolution API, docs/decisions.md) implements the same four concerns: auth,
message id normalisation, ack mapping and the webhook signature check.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Protocol


class DeliveryStatus(enum.StrEnum):
    """A message's life. `unknown`: the gateway may or may not have sent it (a timeout)."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    PLAYED = "played"
    FAILED = "failed"
    UNKNOWN = "unknown"
    RECEIVED = "received"  # inbound


# Acks only move a message forward along this order; `failed` is terminal from any earlier step.
PROGRESS = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENDING: 1,
    DeliveryStatus.UNKNOWN: 1,
    DeliveryStatus.SENT: 2,
    DeliveryStatus.DELIVERED: 3,
    DeliveryStatus.READ: 4,
    DeliveryStatus.PLAYED: 5,
}


@dataclass(frozen=True)
class SessionInfo:
    name: str
    status: str
    me: str | None = None


@dataclass(frozen=True)
class ContactCheck:
    exists: bool
    chat_id: str | None


@dataclass(frozen=True)
class GatewayVersion:
    version: str
    engine: str | None


class GatewayDown(Exception):
    """The request never reached the gateway (connection refused, DNS): nothing happened."""


class GatewayTimeout(Exception):
    """The request left but no answer came: the gateway may have acted on it."""


class GatewayError(Exception):
    """The gateway answered with an error status."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(f"HTTP {status_code}: {message}")
        self.status_code = status_code
        self.message = message


class MessagingProvider(Protocol):
    name: str

    def version(self) -> GatewayVersion: ...

    def list_sessions(self) -> list[SessionInfo]: ...

    def get_session(self, name: str) -> SessionInfo: ...

    def create_session(
        self, name: str, *, webhook_url: str, webhook_secret: str
    ) -> SessionInfo: ...

    def session_action(self, name: str, action: str) -> None: ...

    def delete_session(self, name: str) -> None: ...

    def qr_png(self, name: str) -> bytes: ...

    def check_exists(self, session: str, phone_digits: str) -> ContactCheck: ...

    def send_text(self, session: str, chat_id: str, text: str) -> str | None: ...

    def chat_id_for(self, phone_digits: str) -> str: ...

    def phone_of(self, chat_id: str) -> str: ...

    def message_id_of(self, body: Any) -> str | None: ...

    def status_of_ack(self, ack: int) -> DeliveryStatus | None: ...

    def signature_valid(self, body: bytes, headers: dict[str, str], secret: str) -> bool: ...
