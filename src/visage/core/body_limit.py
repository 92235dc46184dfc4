"""A ceiling on every request body (MAX_REQUEST_BYTES; a lower one on paths that take small
unauthenticated bodies, the webhooks' WEBHOOK_MAX_BYTES): a declared `Content-Length` past it
is answered 413 from the header, before a byte of the body is read; a body sent without a
length (chunked) is cut off with 413 as soon as it passes the ceiling."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from visage.core.errors import PayloadTooLarge, error_body
from visage.i18n.context import gettext


@dataclass(frozen=True)
class Ceiling:
    max_bytes: int
    setting: str  # named in the 413, so the operator knows what to raise


@dataclass(frozen=True)
class PathCeiling:
    path_prefix: str
    ceiling: Ceiling


class BodySizeLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        lower_on: Sequence[PathCeiling] = (),
    ) -> None:
        self.app = app
        self.default = Ceiling(max_bytes, "MAX_REQUEST_BYTES")
        self.lower_on = tuple(lower_on)

    def ceiling_for(self, path: str) -> Ceiling:
        for lower in self.lower_on:
            if path.startswith(lower.path_prefix):
                return lower.ceiling
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ceiling = self.ceiling_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > ceiling.max_bytes:
            await self._refuse(scope, receive, send, int(declared), ceiling)
            return
        received = 0
        cut_off = False
        app_responded = False

        async def counting_receive() -> Message:
            nonlocal received, cut_off
            if cut_off:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > ceiling.max_bytes:
                    # The app sees the client go away (and stops reading); the 413 is ours.
                    cut_off = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal app_responded
            if cut_off and not app_responded:
                return  # the app's answer to the "disconnect": the client gets the 413
            app_responded = True
            await send(message)

        await self.app(scope, counting_receive, guarded_send)
        if cut_off and not app_responded:
            await self._refuse(scope, receive, send, received, ceiling)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, size: int, ceiling: Ceiling
    ) -> None:
        state = scope.get("state") or {}
        response = JSONResponse(
            error_body(
                PayloadTooLarge.code,
                gettext("The request body is larger than {max_bytes} bytes ({setting}).").format(
                    max_bytes=ceiling.max_bytes, setting=ceiling.setting
                ),
                {"bytes": size, "max_bytes": ceiling.max_bytes},
                state.get("request_id"),
            ),
            status_code=PayloadTooLarge.status_code,
            # The unread body is not worth draining: the client may stop sending it.
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)
