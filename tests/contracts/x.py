"""X API v2 as documented, for the X gateway's tests.

- OAuth 2.0 authorization code with PKCE: `GET /i/oauth2/authorize`, `POST /2/oauth2/token`
  (confidential client: HTTP Basic), https://docs.x.com/resources/fundamentals/authentication/oauth-2-0/authorization-code
- `GET /2/users/me`: https://docs.x.com/x-api/users/user-lookup-me
- `POST /2/media/upload` (multipart `media`, `media_category`) -> `{"data": {"id", "media_key",
  ...}}`: https://docs.x.com/x-api/media/upload-media
- `POST /2/tweets` -> 201 `{"data": {"id", "text", "edit_history_tweet_ids"}}`:
  https://docs.x.com/x-api/posts/create-post
- `GET /2/users/{id}/tweets` (`start_time`): https://docs.x.com/x-api/users/get-posts
- Rate limits: `x-rate-limit-limit/-remaining/-reset` (epoch seconds) on every answer, 429 with
  a problem-details body when exhausted: https://docs.x.com/x-api/fundamentals/rate-limits

Test hooks (not part of X): `rate_limit_next` answers the next create with 429 and a reset
`rate_limit_seconds` ahead; `delay_next_create` creates the post, then answers only after that
many seconds (a client that timed out never hears of it).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.contracts.oauth import AuthorizationServer

USER = {"id": "2244994945", "name": "Club Visage", "username": "clubvisage"}
WINDOW_LIMIT = 100


@dataclass
class XState:
    oauth: AuthorizationServer
    tweets: list[dict[str, Any]] = field(default_factory=list)
    media: dict[str, bytes] = field(default_factory=dict)
    create_requests: int = 0
    rate_limit_next: bool = False
    rate_limit_seconds: int = 60
    delay_next_create: float = 0.0
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1_860_000_000))

    def media_of(self, tweet: dict[str, Any]) -> list[bytes]:
        return [self.media[i] for i in tweet.get("media", {}).get("media_ids", [])]


def _limited(body: Any, status: int, reset: int, remaining: int = WINDOW_LIMIT - 1) -> Response:
    headers = {
        "x-rate-limit-limit": str(WINDOW_LIMIT),
        "x-rate-limit-remaining": str(remaining),
        "x-rate-limit-reset": str(reset),
    }
    return JSONResponse(body, status_code=status, headers=headers)


def _unauthorized() -> Response:
    problem = {
        "title": "Unauthorized",
        "type": "about:blank",
        "status": 401,
        "detail": "Unauthorized",
    }
    return JSONResponse(problem, status_code=401)


def create_app(state: XState) -> FastAPI:
    app = FastAPI()
    window_reset = lambda: int(time.time()) + 900  # noqa: E731 - 15-minute windows

    @app.get("/i/oauth2/authorize")
    def authorize(request: Request) -> Response:
        return state.oauth.authorize(request)

    @app.post("/2/oauth2/token")
    async def token(request: Request) -> Response:
        return await state.oauth.token(request)

    @app.get("/2/users/me")
    def me(request: Request) -> Response:
        if not state.oauth.bearer_ok(request):
            return _unauthorized()
        return _limited({"data": USER}, 200, window_reset())

    @app.post("/2/media/upload")
    async def upload(request: Request) -> Response:
        if not state.oauth.bearer_ok(request):
            return _unauthorized()
        form = await request.form()
        media = form.get("media")
        if media is None or isinstance(media, str) or form.get("media_category") != "tweet_image":
            return JSONResponse({"errors": [{"message": "media required"}]}, status_code=400)
        media_id = str(next(state.ids))
        state.media[media_id] = await media.read()
        body = {
            "data": {
                "id": media_id,
                "media_key": f"3_{media_id}",
                "size": len(state.media[media_id]),
                "expires_after_secs": 86400,
            }
        }
        return _limited(body, 200, window_reset())

    @app.post("/2/tweets")
    async def create(request: Request) -> Response:
        if not state.oauth.bearer_ok(request):
            return _unauthorized()
        state.create_requests += 1
        if state.rate_limit_next:
            state.rate_limit_next = False
            problem = {
                "title": "Too Many Requests",
                "detail": "Too Many Requests",
                "type": "about:blank",
                "status": 429,
            }
            return _limited(problem, 429, int(time.time()) + state.rate_limit_seconds, 0)
        body = await request.json()
        if any(t["text"] == body["text"] for t in state.tweets):
            error = {
                "detail": "You are not allowed to create a Tweet with duplicate content.",
                "type": "about:blank",
                "title": "Forbidden",
                "status": 403,
            }
            return JSONResponse(error, status_code=403)
        tweet_id = str(next(state.ids))
        tweet = {
            "id": tweet_id,
            "text": body["text"],
            "media": body.get("media", {}),
            "created_at": datetime.now(UTC),
        }
        state.tweets.append(tweet)
        if state.delay_next_create:
            delay, state.delay_next_create = state.delay_next_create, 0.0
            await asyncio.sleep(delay)
        data = {"id": tweet_id, "text": body["text"], "edit_history_tweet_ids": [tweet_id]}
        return _limited({"data": data}, 201, window_reset())

    @app.get("/2/users/{user_id}/tweets")
    def timeline(user_id: str, request: Request, start_time: str | None = None) -> Response:
        if not state.oauth.bearer_ok(request):
            return _unauthorized()
        since = datetime.fromisoformat(start_time.replace("Z", "+00:00")) if start_time else None
        found = [
            {"id": t["id"], "text": t["text"], "edit_history_tweet_ids": [t["id"]]}
            for t in reversed(state.tweets)
            if user_id == USER["id"] and (since is None or t["created_at"] >= since)
        ]
        body: dict[str, Any] = {"meta": {"result_count": len(found)}}
        if found:
            body["data"] = found
        return _limited(body, 200, window_reset())

    return app
