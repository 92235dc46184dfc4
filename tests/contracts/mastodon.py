"""Mastodon's REST API as documented, for the Mastodon gateway's tests.

- OAuth: `GET /oauth/authorize` (PKCE S256 since 4.3), `POST /oauth/token`:
  https://docs.joinmastodon.org/methods/oauth/
- `GET /api/v1/accounts/verify_credentials`: https://docs.joinmastodon.org/methods/accounts/#verify_credentials
- `POST /api/v2/media` (multipart `file`) -> MediaAttachment: https://docs.joinmastodon.org/methods/media/#v2
- `POST /api/v1/statuses` with `Idempotency-Key`: the same key within an hour returns the status
  already created instead of a new one: https://docs.joinmastodon.org/methods/statuses/#create
- Rate limits: `X-RateLimit-Limit/-Remaining/-Reset` (ISO 8601):
  https://docs.joinmastodon.org/api/rate-limits/

Test hook: `delay_next_create` creates the status, then answers only after that many seconds.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.contracts.oauth import AuthorizationServer

ACCOUNT = {"id": "109302", "username": "clubvisage", "acct": "clubvisage@example.social"}


@dataclass
class MastodonState:
    oauth: AuthorizationServer
    statuses: list[dict[str, Any]] = field(default_factory=list)
    by_key: dict[str, dict[str, Any]] = field(default_factory=dict)
    media: dict[str, bytes] = field(default_factory=dict)
    delay_next_create: float = 0.0
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(110_000_000))


def create_app(state: MastodonState) -> FastAPI:
    app = FastAPI()

    def denied() -> Response:
        return JSONResponse({"error": "The access token is invalid"}, status_code=401)

    @app.get("/oauth/authorize")
    def authorize(request: Request) -> Response:
        return state.oauth.authorize(request)

    @app.post("/oauth/token")
    async def token(request: Request) -> Response:
        return await state.oauth.token(request)

    @app.get("/api/v1/accounts/verify_credentials")
    def verify(request: Request) -> Response:
        return JSONResponse(ACCOUNT) if state.oauth.bearer_ok(request) else denied()

    @app.post("/api/v2/media")
    async def media(request: Request) -> Response:
        if not state.oauth.bearer_ok(request):
            return denied()
        upload = (await request.form()).get("file")
        if upload is None or isinstance(upload, str):
            return JSONResponse({"error": "Validation failed: File can't be blank"}, 422)
        media_id = str(next(state.ids))
        state.media[media_id] = await upload.read()
        return JSONResponse({"id": media_id, "type": "image", "url": f"/media/{media_id}.jpg"})

    @app.post("/api/v1/statuses")
    async def create(request: Request) -> Response:
        if not state.oauth.bearer_ok(request):
            return denied()
        key = request.headers.get("idempotency-key")
        if key and key in state.by_key:
            return JSONResponse(state.by_key[key])
        body = await request.json()
        if len(body.get("status", "")) > 500:
            return JSONResponse(
                {"error": "Validation failed: Text character limit of 500 exceeded"}, 422
            )
        status_id = str(next(state.ids))
        status = {
            "id": status_id,
            "created_at": datetime.now(UTC).isoformat(),
            "content": body["status"],
            "url": f"https://example.social/@clubvisage/{status_id}",
            "media_attachments": [{"id": m} for m in body.get("media_ids", [])],
        }
        state.statuses.append(status)
        if key:
            state.by_key[key] = status
        if state.delay_next_create:
            delay, state.delay_next_create = state.delay_next_create, 0.0
            await asyncio.sleep(delay)
        return JSONResponse(
            status, headers={"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "299"}
        )

    return app
