"""The HTTP side of the Stripe contract server (tests/contracts/stripe_events.py): Stripe's form
encoding, its bearer-key check, `Idempotency-Key` replays (https://docs.stripe.com/api/
idempotent_requests), and the faults a test drives: an answer lost on the way back, a request
held until the test lets it go, and the whole server stopped and started again on its port
with its state kept (Stripe unreachable for a while)."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

if TYPE_CHECKING:
    from tests.contracts.stripe_events import StripeContract

HOLD_SECONDS = 120


def unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """`items[0][price]=p&metadata[a]=b` -> {"items": [{"price": "p"}], "metadata": {"a": "b"}}."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def lists(node: Any) -> Any:
        if isinstance(node, dict):
            if node and all(k.isdigit() for k in node):
                return [lists(node[k]) for k in sorted(node, key=int)]
            return {k: lists(v) for k, v in node.items()}
        return node

    return dict(lists(root))


def missing(object_id: str) -> dict[str, Any]:
    message = f"No such object: '{object_id}'"
    return {"error": {"type": "invalid_request_error", "message": message}}


class Holds:
    """Requests for a path wait until released: a test acts while one is in flight."""

    def __init__(self) -> None:
        self._gates: dict[str, threading.Event] = {}
        self.arrived: set[str] = set()

    def hold(self, path: str) -> None:
        self._gates[path] = threading.Event()
        self.arrived.discard(path)

    def release(self, path: str) -> None:
        gate = self._gates.pop(path, None)
        if gate is not None:
            gate.set()

    def wait_if_held(self, path: str) -> None:
        gate = self._gates.get(path)
        if gate is not None:
            self.arrived.add(path)
            gate.wait(HOLD_SECONDS)


def _handler(contract: StripeContract) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method: str) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            params = unflatten(parse_qsl(url.query) + parse_qsl(body, keep_blank_values=True))
            contract.holds.wait_if_held(url.path)
            if not self.headers.get("Authorization", "").startswith("Bearer sk_"):
                status, answer = 401, {"error": {"type": "invalid_request_error"}}
            else:
                key = self.headers.get("Idempotency-Key") if method == "POST" else None
                if method == "POST":
                    contract.idempotency_keys.append(key)
                with contract.lock:
                    if key and key in contract.idempotent:
                        status, answer = contract.idempotent[key]
                    else:
                        status, answer = contract.handle(method, url.path, params)
                        if key:
                            contract.idempotent[key] = (status, answer)
            if method == "POST" and url.path in contract.lose_next_answer:
                contract.lose_next_answer.discard(url.path)
                self.close_connection = True
                return
            data = json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the caller was killed while its request was held

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def do_DELETE(self) -> None:
            self._answer("DELETE")

        def log_message(self, *_: Any) -> None:
            return

    return Handler


class Listener:
    """The contract's socket on a fixed port: stopped, connections are refused (as when Stripe
    is unreachable); started again, the same state answers."""

    def __init__(self, contract: StripeContract, port: int) -> None:
        self.contract, self.port = contract, port
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self.contract))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._server = server

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
