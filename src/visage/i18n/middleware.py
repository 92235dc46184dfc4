"""Sets the request's locale (cookie, else `Accept-Language`) before any route runs, and says
which one the response speaks."""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from visage.i18n import context, negotiation


def cookie_value(headers: Headers, name: str) -> str | None:
    raw = headers.get("cookie")
    if not raw:
        return None
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(raw)
    except CookieError:
        return None
    morsel = cookies.get(name)
    return morsel.value if morsel else None


class LocaleMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        localization = negotiation.for_request(
            cookie_value(headers, negotiation.LOCALE_COOKIE), headers.get("accept-language")
        )
        token = context.begin(localization)

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [
                    (b"content-language", localization.locale.encode()),
                    (b"vary", b"Accept-Language, Cookie"),
                ]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            await self.app(scope, receive, send_with_language)
        finally:
            context.end(token)
