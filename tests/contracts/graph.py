"""Meta's Graph API as documented: Facebook Pages and Instagram professional accounts.

- Facebook Login: `GET /dialog/oauth`, `POST /oauth/access_token`:
  https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow
- `GET /me/accounts` (Pages with their Page tokens): https://developers.facebook.com/docs/pages-api/getting-started
- `POST /{page-id}/photos` (`source`, `published=false`) -> `{"id"}`, `POST /{page-id}/feed`
  (`message`, `attached_media[n]`) -> `{"id": "<page>_<post>"}`, `GET /{page-id}/feed`:
  https://developers.facebook.com/docs/pages-api/posts
- Instagram Login: `GET /oauth/authorize`, `POST /oauth/access_token` -> `{"access_token",
  "user_id", "permissions"}`, `GET /access_token?grant_type=ig_exchange_token`,
  `GET /refresh_access_token?grant_type=ig_refresh_token`:
  https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/business-login
- Publishing: `POST /{ig-user-id}/media` (`image_url`, `caption`) -> container `{"id"}`,
  `GET /{container}?fields=status_code`, `POST /{ig-user-id}/media_publish` (`creation_id`):
  https://developers.facebook.com/docs/instagram-platform/content-publishing
- Errors: `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`; rate limits
  code 4/17/32/613 with `X-App-Usage` / `X-Business-Use-Case-Usage`:
  https://developers.facebook.com/docs/graph-api/overview/rate-limiting

Test hook: `rate_limit_next` answers the next post with code 32 and a Business Use Case usage
header asking to wait `regain_minutes`.
"""

from __future__ import annotations

import itertools
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.contracts.oauth import AuthorizationServer

PAGE = {"id": "104857600", "name": "Club Visage Page", "category": "Sports club"}
IG_USER = {"user_id": "17841400008460056", "username": "club.visage"}


def graph_error(message: str, code: int, status: int = 400, **extra: Any) -> JSONResponse:
    error = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": secrets.token_hex(6),
        **extra,
    }
    return JSONResponse({"error": error}, status_code=status)


def _invalid_token() -> JSONResponse:
    return graph_error("Invalid OAuth access token - Cannot parse access token", 190, 400)


@dataclass
class GraphState:
    oauth: AuthorizationServer
    page_tokens: set[str] = field(default_factory=set)
    photos: dict[str, bytes] = field(default_factory=dict)
    posts: list[dict[str, Any]] = field(default_factory=list)
    containers: dict[str, dict[str, str]] = field(default_factory=dict)
    media: list[dict[str, Any]] = field(default_factory=list)
    rate_limit_next: bool = False
    regain_minutes: int = 12
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(900_000))


def _token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    return (
        header[7:] if header.startswith("Bearer ") else request.query_params.get("access_token", "")
    )


def create_facebook_app(state: GraphState) -> FastAPI:
    app = FastAPI()

    def page_ok(request: Request) -> bool:
        return _token(request) in state.page_tokens

    @app.get("/dialog/oauth")
    def authorize(request: Request) -> Response:
        return state.oauth.authorize(request)

    @app.post("/oauth/access_token")
    async def token(request: Request) -> Response:
        return await state.oauth.token(request)

    @app.get("/me/accounts")
    def accounts(request: Request) -> Response:
        if _token(request) not in state.oauth.access_tokens:
            return _invalid_token()
        page_token = secrets.token_urlsafe(24)
        state.page_tokens.add(page_token)
        return JSONResponse(
            {"data": [{**PAGE, "access_token": page_token, "tasks": ["CREATE_CONTENT"]}]}
        )

    @app.get("/me")
    def me(request: Request) -> Response:
        return JSONResponse({"id": PAGE["id"]}) if page_ok(request) else _invalid_token()

    @app.post("/{page_id}/photos")
    async def photo(page_id: str, request: Request) -> Response:
        if not page_ok(request) or page_id != PAGE["id"]:
            return _invalid_token()
        form = await request.form()
        source = form.get("source")
        if source is None or isinstance(source, str):
            return graph_error("(#324) Requires upload file", 324)
        photo_id = str(next(state.ids))
        state.photos[photo_id] = await source.read()
        return JSONResponse({"id": photo_id})

    @app.post("/{page_id}/feed")
    async def feed(page_id: str, request: Request) -> Response:
        if not page_ok(request) or page_id != PAGE["id"]:
            return _invalid_token()
        if state.rate_limit_next:
            state.rate_limit_next = False
            usage = {
                PAGE["id"]: [
                    {
                        "type": "pages",
                        "call_count": 100,
                        "total_cputime": 20,
                        "total_time": 30,
                        "estimated_time_to_regain_access": state.regain_minutes,
                    }
                ]
            }
            response = graph_error("(#32) Page request limit reached", 32, 400)
            response.headers["X-Business-Use-Case-Usage"] = json.dumps(usage)
            return response
        form = await request.form()
        attached = [
            json.loads(str(v))["media_fbid"]
            for k, v in form.items()
            if k.startswith("attached_media")
        ]
        post = {
            "id": f"{page_id}_{next(state.ids)}",
            "message": str(form.get("message", "")),
            "attached": attached,
            "created_time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000"),
        }
        state.posts.append(post)
        return JSONResponse(
            {"id": post["id"]},
            headers={
                "X-App-Usage": json.dumps({"call_count": 5, "total_cputime": 1, "total_time": 2})
            },
        )

    @app.get("/{page_id}/feed")
    def read_feed(page_id: str, request: Request) -> Response:
        if not page_ok(request):
            return _invalid_token()
        return JSONResponse(
            {
                "data": [
                    {"id": p["id"], "message": p["message"], "created_time": p["created_time"]}
                    for p in state.posts
                    if p["id"].startswith(page_id)
                ]
            }
        )

    return app


def create_instagram_app(state: GraphState) -> FastAPI:
    app = FastAPI()
    long_lived: set[str] = set()

    def ok(request: Request) -> bool:
        return _token(request) in long_lived

    @app.get("/oauth/authorize")
    def authorize(request: Request) -> Response:
        return state.oauth.authorize(request)

    @app.post("/oauth/access_token")
    async def token(request: Request) -> Response:
        answer = await state.oauth.token(request)
        if answer.status_code != 200:
            return answer
        issued = json.loads(bytes(answer.body))
        return JSONResponse(
            {
                "access_token": issued["access_token"],
                "user_id": IG_USER["user_id"],
                "permissions": "instagram_business_basic,instagram_business_content_publish",
            }
        )

    @app.get("/access_token")
    def exchange(grant_type: str, access_token: str, client_secret: str) -> Response:
        if (
            grant_type != "ig_exchange_token"
            or access_token not in state.oauth.access_tokens
            or client_secret != state.oauth.client_secret
        ):
            return _invalid_token()
        fresh = secrets.token_urlsafe(24)
        long_lived.add(fresh)
        return JSONResponse({"access_token": fresh, "token_type": "bearer", "expires_in": 5183944})

    @app.get("/refresh_access_token")
    def refresh(grant_type: str, access_token: str) -> Response:
        if grant_type != "ig_refresh_token" or access_token not in long_lived:
            return _invalid_token()
        fresh = secrets.token_urlsafe(24)
        long_lived.add(fresh)
        return JSONResponse({"access_token": fresh, "token_type": "bearer", "expires_in": 5183944})

    @app.get("/me")
    def me(request: Request) -> Response:
        return (
            JSONResponse({**IG_USER, "id": IG_USER["user_id"]}) if ok(request) else _invalid_token()
        )

    @app.post("/{user_id}/media")
    async def container(user_id: str, request: Request) -> Response:
        if not ok(request) or user_id != IG_USER["user_id"]:
            return _invalid_token()
        form = {k: str(v) for k, v in (await request.form()).items()}
        caption = form.get("caption", "")
        if len(caption) > 2200 or caption.count("#") > 30:
            return graph_error("The caption exceeds the limits", 100, 400, error_subcode=2207035)
        if "image_url" not in form and form.get("media_type") != "CAROUSEL":
            return graph_error(
                "Only photo or video can be accepted as media type.",
                9004,
                400,
                error_subcode=2207052,
            )
        container_id = str(next(state.ids))
        state.containers[container_id] = form
        return JSONResponse({"id": container_id})

    @app.get("/{object_id}")
    def read(object_id: str, request: Request, fields: str = "") -> Response:
        if not ok(request):
            return _invalid_token()
        if object_id in state.containers:
            return JSONResponse({"id": object_id, "status_code": "FINISHED"})
        for item in state.media:
            if item["id"] == object_id:
                return JSONResponse({"id": object_id, "permalink": item["permalink"]})
        return graph_error("Unsupported get request.", 100, 400)

    @app.post("/{user_id}/media_publish")
    async def publish(user_id: str, request: Request) -> Response:
        if not ok(request):
            return _invalid_token()
        creation_id = str((await request.form()).get("creation_id", ""))
        source = state.containers.get(creation_id)
        if source is None:
            return graph_error("Media ID is not available", 9007, 400, error_subcode=2207027)
        media_id = str(next(state.ids))
        state.media.append(
            {
                "id": media_id,
                "caption": source.get("caption", ""),
                "container": source,
                "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000"),
                "permalink": f"https://www.instagram.com/p/{media_id}/",
            }
        )
        return JSONResponse({"id": media_id})

    @app.get("/{user_id}/media")
    def list_media(user_id: str, request: Request) -> Response:
        if not ok(request):
            return _invalid_token()
        return JSONResponse(
            {
                "data": [
                    {k: m[k] for k in ("id", "caption", "timestamp", "permalink")}
                    for m in state.media
                ]
            }
        )

    return app
