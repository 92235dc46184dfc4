"""A ceiling on every request body (MAX_REQUEST_BYTES): a declared `Content-Length` past it is
answered 413 from the header, before a byte of the body is read; a body sent without a length
(chunked) is cut off with 413 as soon as it passes the ceiling."""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from visage.core.errors import PayloadTooLarge, error_body
from visage.i18n.context import gettext


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send, int(declared))
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
                if received > self.max_bytes:
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
            await self._refuse(scope, receive, send, received)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, size: int) -> None:
        state = scope.get("state") or {}
        response = JSONResponse(
            error_body(
                PayloadTooLarge.code,
                gettext(
                    "The request body is larger than {max_bytes} bytes (MAX_REQUEST_BYTES)."
                ).format(max_bytes=self.max_bytes),
                {"bytes": size, "max_bytes": self.max_bytes},
                state.get("request_id"),
            ),
            status_code=PayloadTooLarge.status_code,
            # The unread body is not worth draining: the client may stop sending it.
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)
