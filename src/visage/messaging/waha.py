"""A small httpx client of WAHA (WhatsApp HTTP API, https://waha.devlike.pro/docs/).

Endpoints as published in devlikeapro/waha-docs: `/api/sessions` (create with `start` and
`config.webhooks`), `/api/sessions/{name}/{start|stop|restart|logout}`, `/api/{name}/auth/qr`
(PNG), `/api/contacts/check-exists`, `/api/sendText`, `/api/server/version`. Every call sends
`X-Api-Key`. Webhook deliveries carry `X-Webhook-Hmac` = hex HMAC-SHA512 of the raw body.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

import httpx

from visage.config import Settings
from visage.messaging.provider import (
    ContactCheck,
    DeliveryStatus,
    GatewayDown,
    GatewayError,
    GatewayTimeout,
    GatewayVersion,
    SessionInfo,
)

WEBHOOK_EVENTS = ["message", "message.ack", "session.status"]
# WAHA's own default: 15 attempts, 2 s apart.
WEBHOOK_RETRIES = {"policy": "constant", "delaySeconds": 2, "attempts": 15}
# WAHA's message.ack values (`ack`): -1 ERROR, 0 PENDING, 1 SERVER, 2 DEVICE, 3 READ, 4 PLAYED.
ACK_STATUSES = {
    -1: DeliveryStatus.FAILED,
    1: DeliveryStatus.SENT,
    2: DeliveryStatus.DELIVERED,
    3: DeliveryStatus.READ,
    4: DeliveryStatus.PLAYED,
}
USER_SUFFIX = "@c.us"


class WahaProvider:
    name = "waha"

    def __init__(self, base_url: str, api_key: str, *, timeout: float = 15) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> WahaProvider:
        return cls(
            settings.waha_base_url, settings.waha_api_key, timeout=settings.waha_timeout_seconds
        )

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if not self.base_url:
            raise GatewayDown("WAHA_BASE_URL is not set")
        headers = {"X-Api-Key": self.api_key, **kwargs.pop("headers", {})}
        try:
            response = httpx.request(
                method, f"{self.base_url}{path}", headers=headers, timeout=self.timeout, **kwargs
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            raise GatewayDown(str(error) or type(error).__name__) from error
        except httpx.TimeoutException as error:
            raise GatewayTimeout(str(error) or type(error).__name__) from error
        except httpx.TransportError as error:
            # The connection broke after the request may have been read.
            raise GatewayTimeout(str(error) or type(error).__name__) from error
        if response.status_code >= 400:
            raise GatewayError(response.status_code, _error_message(response))
        return response

    def version(self) -> GatewayVersion:
        body = self._request("GET", "/api/server/version").json()
        return GatewayVersion(version=str(body.get("version", "")), engine=body.get("engine"))

    def list_sessions(self) -> list[SessionInfo]:
        body = self._request("GET", "/api/sessions", params={"all": "true"}).json()
        return [_session_info(item) for item in body]

    def get_session(self, name: str) -> SessionInfo:
        return _session_info(self._request("GET", f"/api/sessions/{name}").json())

    def create_session(self, name: str, *, webhook_url: str, webhook_secret: str) -> SessionInfo:
        webhook = {
            "url": webhook_url,
            "events": WEBHOOK_EVENTS,
            "hmac": {"key": webhook_secret},
            "retries": WEBHOOK_RETRIES,
        }
        body = {"name": name, "start": True, "config": {"webhooks": [webhook]}}
        return _session_info(self._request("POST", "/api/sessions", json=body).json())

    def session_action(self, name: str, action: str) -> None:
        self._request("POST", f"/api/sessions/{name}/{action}")

    def delete_session(self, name: str) -> None:
        self._request("DELETE", f"/api/sessions/{name}")

    def qr_png(self, name: str) -> bytes:
        response = self._request(
            "GET",
            f"/api/{name}/auth/qr",
            params={"format": "image"},
            headers={"Accept": "image/png"},
        )
        return response.content

    def check_exists(self, session: str, phone_digits: str) -> ContactCheck:
        body = self._request(
            "GET", "/api/contacts/check-exists", params={"phone": phone_digits, "session": session}
        ).json()
        return ContactCheck(exists=bool(body.get("numberExists")), chat_id=body.get("chatId"))

    def send_text(self, session: str, chat_id: str, text: str) -> str | None:
        response = self._request(
            "POST", "/api/sendText", json={"session": session, "chatId": chat_id, "text": text}
        )
        return self.message_id_of(response.json() if response.content else None)

    def chat_id_for(self, phone_digits: str) -> str:
        return f"{phone_digits}{USER_SUFFIX}"

    def phone_of(self, chat_id: str) -> str:
        return digits_of(chat_id.split("@", 1)[0])

    def message_id_of(self, body: Any) -> str | None:
        """The sent message's id, whatever the engine: WEBJS `id._serialized`, NOWEB/GOWS
        `key.id` or a plain `id`; an empty body (some engine versions) has none."""
        if not isinstance(body, dict):
            return None
        identifier = body.get("id")
        if isinstance(identifier, dict):
            serialized = identifier.get("_serialized") or identifier.get("id")
            return str(serialized) if serialized else None
        if identifier:
            return str(identifier)
        key = body.get("key")
        if isinstance(key, dict) and key.get("id"):
            return str(key["id"])
        return None

    def status_of_ack(self, ack: int) -> DeliveryStatus | None:
        return ACK_STATUSES.get(ack)

    def signature_valid(self, body: bytes, headers: dict[str, str], secret: str) -> bool:
        given = headers.get("x-webhook-hmac", "")
        algorithm = headers.get("x-webhook-hmac-algorithm", "sha512").lower()
        if not secret or not given or algorithm != "sha512":
            return False
        expected = hmac.new(secret.encode(), body, hashlib.sha512).hexdigest()
        return hmac.compare_digest(expected, given.strip().lower())


def digits_of(phone: str) -> str:
    return re.sub(r"\D", "", phone)


def message_key(message_id: str) -> str:
    """The part of a WAHA message id every engine shares: `true_<chat>_<KEY>` → `<KEY>`.

    Acks may name a message by its serialized id while sendText answered with the bare key
    (or the other way round), so matching uses this."""
    return message_id.rsplit("_", 1)[-1] if "_" in message_id else message_id


def _session_info(body: dict[str, Any]) -> SessionInfo:
    me = body.get("me")
    me_id = me.get("id") if isinstance(me, dict) else None
    return SessionInfo(name=str(body.get("name", "")), status=str(body.get("status", "")), me=me_id)


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body)[:200]
    return str(body)[:200]
