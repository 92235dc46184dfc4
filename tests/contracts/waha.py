"""A WAHA contract server: a real HTTP server on a free port that follows WAHA's published API.

Sources: https://waha.devlike.pro/docs/how-to/sessions/ (POST /api/sessions with `start` and
`config.webhooks`, GET /api/sessions?all=true, /start /stop /restart /logout, DELETE),
https://waha.devlike.pro/docs/how-to/auth/ (GET /api/{session}/auth/qr?format=image → PNG),
https://waha.devlike.pro/docs/how-to/send-messages/ (POST /api/sendText {session, chatId, text}),
https://waha.devlike.pro/docs/how-to/contacts/ (GET /api/contacts/check-exists?phone=&session=
→ {numberExists, chatId}), https://waha.devlike.pro/docs/how-to/security/ (X-Api-Key; 401
{"message": "Unauthorized", "statusCode": 401}) and https://waha.devlike.pro/docs/how-to/webhooks/
(envelope {id, timestamp, event, session, me, payload, engine, environment}; X-Webhook-Request-Id,
X-Webhook-Timestamp, X-Webhook-Hmac = hex HMAC-SHA512 of the body with `hmac.key`,
X-Webhook-Hmac-Algorithm: sha512; any non-2xx answer is retried `retries.attempts` times
`retries.delaySeconds` apart). Mirrored in github.com/devlikeapro/waha-docs.

Tests drive what a phone would do: `scan` (the QR is scanned), `ack`, `inbound`; and failures:
`stop_server` / `start_server` (WAHA down and back), `hold_sends` (a send that hangs).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import qrcode

from tests.conftest import free_port
from tests.polling import wait_until

ENGINE = "WEBJS"
VERSION = "2025.11.1"


@dataclass
class Delivery:
    envelope: dict[str, Any]
    attempts: list[int] = field(default_factory=list)  # the HTTP status of each attempt

    @property
    def delivered(self) -> bool:
        return any(200 <= code < 300 for code in self.attempts)


@dataclass
class FakeSession:
    name: str
    status: str
    webhooks: list[dict[str, Any]]
    me: dict[str, str] | None = None
    qr_served: int = 0


class WahaContract:
    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.port = free_port()
        self.sessions: dict[str, FakeSession] = {}
        self.sent: list[dict[str, Any]] = []
        self.not_on_whatsapp: set[str] = set()
        self.check_calls: list[str] = []
        self.deliveries: list[Delivery] = []
        self.lock = threading.Lock()
        self.release_sends = threading.Event()
        self.release_sends.set()
        self.send_started = threading.Event()
        self.id_shape = "serialized"  # serialized | nested | key | empty
        self._server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # Server life

    def start_server(self) -> None:
        contract = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                del args

            def do_GET(self) -> None:
                contract.handle(self, "GET")

            def do_POST(self) -> None:
                contract.handle(self, "POST")

            def do_DELETE(self) -> None:
                contract.handle(self, "DELETE")

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop_server(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # HTTP

    def handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        if request.headers.get("X-Api-Key") != self.api_key:
            self._json(request, 401, {"message": "Unauthorized", "statusCode": 401})
            return
        url = urlparse(request.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        length = int(request.headers.get("Content-Length") or 0)
        body = json.loads(request.rfile.read(length)) if length else {}
        parts = [part for part in url.path.split("/") if part]
        status, answer = self.route(method, parts, query, body)
        if isinstance(answer, bytes):
            request.send_response(status)
            request.send_header("Content-Type", "image/png")
            request.send_header("Content-Length", str(len(answer)))
            request.end_headers()
            request.wfile.write(answer)
        else:
            self._json(request, status, answer)

    @staticmethod
    def _json(request: BaseHTTPRequestHandler, status: int, body: Any) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def route(
        self, method: str, parts: list[str], query: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, Any]:
        match method, parts:
            case "GET", ["api", "server", "version"]:
                return 200, {"version": VERSION, "engine": ENGINE, "tier": "CORE"}
            case "GET", ["api", "sessions"]:
                return 200, [self._session_body(s) for s in self.sessions.values()]
            case "POST", ["api", "sessions"]:
                return self._create(body)
            case "GET", ["api", "sessions", name]:
                found = self.sessions.get(name)
                return (200, self._session_body(found)) if found else self._missing(name)
            case "DELETE", ["api", "sessions", name]:
                return (200, None) if self.sessions.pop(name, None) else self._missing(name)
            case "POST", ["api", "sessions", name, action]:
                return self._action(name, action)
            case "GET", ["api", name, "auth", "qr"]:
                return self._qr(name)
            case "GET", ["api", "contacts", "check-exists"]:
                phone = query.get("phone", "")
                self.check_calls.append(phone)
                exists = phone not in self.not_on_whatsapp
                return 200, {"numberExists": exists, "chatId": f"{phone}@c.us" if exists else None}
            case "POST", ["api", "sendText"]:
                return self._send(body)
        return 404, {"message": f"Cannot {method} /{'/'.join(parts)}", "statusCode": 404}

    @staticmethod
    def _missing(name: str) -> tuple[int, Any]:
        return 404, {"message": f"Session '{name}' does not exist", "statusCode": 404}

    @staticmethod
    def _session_body(session: FakeSession) -> dict[str, Any]:
        return {
            "name": session.name,
            "status": session.status,
            "me": session.me,
            "config": {"webhooks": session.webhooks},
            "engine": {"engine": ENGINE},
        }

    def _create(self, body: dict[str, Any]) -> tuple[int, Any]:
        name = body.get("name") or "default"
        if name in self.sessions:
            return 422, {"message": f"Session '{name}' already exists", "statusCode": 422}
        webhooks = (body.get("config") or {}).get("webhooks") or []
        session = FakeSession(name=name, status="STOPPED", webhooks=webhooks)
        self.sessions[name] = session
        if body.get("start"):
            self.set_status(name, "STARTING")
            self.set_status(name, "SCAN_QR_CODE")
        return 201, self._session_body(session)

    def _action(self, name: str, action: str) -> tuple[int, Any]:
        if name not in self.sessions:
            return self._missing(name)
        if action == "stop":
            self.set_status(name, "STOPPED")
        elif action in ("start", "restart"):
            self.set_status(name, "STARTING")
            paired = self.sessions[name].me is not None
            self.set_status(name, "WORKING" if paired else "SCAN_QR_CODE")
        elif action == "logout":
            self.sessions[name].me = None
            self.set_status(name, "STOPPED")
        else:
            return 404, {"message": f"Cannot POST {action}", "statusCode": 404}
        return 201, self._session_body(self.sessions[name])

    def _qr(self, name: str) -> tuple[int, Any]:
        session = self.sessions.get(name)
        if session is None:
            return self._missing(name)
        if session.status != "SCAN_QR_CODE":
            return 422, {"message": "Session status is not SCAN_QR_CODE", "statusCode": 422}
        session.qr_served += 1
        image = qrcode.make(f"2@{name}-{session.qr_served}")
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        return 200, buffer.getvalue()

    def _send(self, body: dict[str, Any]) -> tuple[int, Any]:
        session = self.sessions.get(body.get("session", ""))
        if session is None or session.status != "WORKING":
            return 422, {"message": "Session status is not as expected", "statusCode": 422}
        key = uuid.uuid4().hex[:20].upper()
        serialized = f"true_{body['chatId']}_{key}"
        with self.lock:
            self.sent.append({**body, "id": serialized})
        self.send_started.set()
        self.release_sends.wait(timeout=120)
        shapes = {
            "serialized": {"id": serialized, "body": body["text"], "fromMe": True},
            "nested": {"id": {"fromMe": True, "id": key, "_serialized": serialized}},
            "key": {"key": {"id": key, "fromMe": True}, "status": "PENDING"},
            "empty": None,
        }
        return 201, shapes[self.id_shape]

    # What the phone and WhatsApp do

    def set_status(self, name: str, status: str) -> None:
        session = self.sessions[name]
        session.status = status
        self.emit(session, "session.status", {"name": name, "status": status})

    def scan(self, name: str, phone: str = "31600000001") -> None:
        self.sessions[name].me = {"id": f"{phone}@c.us", "pushName": "Gym"}
        self.set_status(name, "WORKING")

    def ack(self, name: str, message_id: str, ack: int, *, envelope_id: str | None = None) -> str:
        names = {-1: "ERROR", 0: "PENDING", 1: "SERVER", 2: "DEVICE", 3: "READ", 4: "PLAYED"}
        sent = next(item for item in self.sent if item["id"] == message_id)
        payload = {
            "id": message_id,
            "from": sent["chatId"],
            "fromMe": True,
            "ack": ack,
            "ackName": names[ack],
        }
        return self.emit(self.sessions[name], "message.ack", payload, envelope_id=envelope_id)

    def inbound(self, name: str, phone: str, text: str) -> str:
        payload = {
            "id": f"false_{phone}@c.us_{uuid.uuid4().hex[:20].upper()}",
            "timestamp": int(time.time()),
            "from": f"{phone}@c.us",
            "fromMe": False,
            "body": text,
            "hasMedia": False,
            "ack": 1,
        }
        return self.emit(self.sessions[name], "message", payload)

    def emit(
        self,
        session: FakeSession,
        event: str,
        payload: dict[str, Any],
        *,
        envelope_id: str | None = None,
    ) -> str:
        envelope_id = envelope_id or f"evt_{uuid.uuid4().hex}"
        envelope = {
            "id": envelope_id,
            "timestamp": int(time.time() * 1000),
            "event": event,
            "session": session.name,
            "me": session.me,
            "payload": payload,
            "engine": ENGINE,
            "environment": {"version": VERSION, "engine": ENGINE, "tier": "CORE"},
        }
        for webhook in session.webhooks:
            if event in webhook.get("events", []):
                delivery = Delivery(envelope)
                with self.lock:
                    self.deliveries.append(delivery)
                threading.Thread(
                    target=self._deliver, args=(webhook, delivery), daemon=True
                ).start()
        return envelope_id

    @staticmethod
    def _deliver(webhook: dict[str, Any], delivery: Delivery) -> None:
        body = json.dumps(delivery.envelope).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Webhook-Request-Id": uuid.uuid4().hex,
            "X-Webhook-Timestamp": str(int(time.time() * 1000)),
        }
        key = (webhook.get("hmac") or {}).get("key")
        if key:
            headers["X-Webhook-Hmac"] = hmac.new(key.encode(), body, hashlib.sha512).hexdigest()
            headers["X-Webhook-Hmac-Algorithm"] = "sha512"
        retries = webhook.get("retries") or {}
        attempts = int(retries.get("attempts", 15))
        delay = float(retries.get("delaySeconds", 2))
        for _ in range(max(attempts, 1)):
            try:
                code = httpx.post(
                    webhook["url"], content=body, headers=headers, timeout=10
                ).status_code
            except httpx.TransportError:
                code = 0
            delivery.attempts.append(code)
            if 200 <= code < 300:
                return
            time.sleep(delay)

    def wait_delivered(self, envelope_id: str, seconds: float = 20) -> Delivery:
        def deliveries() -> list[Delivery]:
            with self.lock:
                return [d for d in self.deliveries if d.envelope["id"] == envelope_id]

        def delivered() -> Delivery | None:
            found = deliveries()
            return found[-1] if found and all(d.delivered for d in found) else None

        return wait_until(
            delivered,
            seconds=seconds,
            step=0.05,
            what=lambda: f"webhook {envelope_id} delivered: {deliveries()}",
        )

    def wait_all_delivered(self, seconds: float = 20) -> None:
        with self.lock:
            pending = [d.envelope["id"] for d in self.deliveries]
        for envelope_id in pending:
            self.wait_delivered(envelope_id, seconds)
