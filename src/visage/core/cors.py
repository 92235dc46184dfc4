"""CORS from ALLOWED_ORIGINS_STR, with credentials for the listed origins only."""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Message, Send

_CREDENTIAL_HEADERS = ("access-control-allow-credentials", "access-control-expose-headers")


class ListedOriginsCORSMiddleware(CORSMiddleware):
    """Starlette adds `Access-Control-Allow-Credentials` to every response that names an
    Origin; here an unlisted origin gets no CORS header at all."""

    async def send(self, message: Message, send: Send, request_headers: Headers) -> None:
        origin = request_headers.get("Origin")
        if origin is None or self.is_allowed_origin(origin=origin):
            await super().send(message, send, request_headers)
            return

        async def send_without_credentials(outgoing: Message) -> None:
            if outgoing["type"] == "http.response.start":
                headers = MutableHeaders(scope=outgoing)
                for name in _CREDENTIAL_HEADERS:
                    del headers[name]
            await send(outgoing)

        await super().send(message, send_without_credentials, request_headers)
