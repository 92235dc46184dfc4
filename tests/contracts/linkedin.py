"""LinkedIn's versioned REST API as documented, for the LinkedIn gateway's tests.

- OAuth 2.0 3-legged: `GET /oauth/v2/authorization`, `POST /oauth/v2/accessToken`
  (client id and secret in the form): https://learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow
- `GET /v2/userinfo` (OpenID Connect `sub`, `name`): https://learn.microsoft.com/en-us/linkedin/consumer/integrations/self-serve/sign-in-with-linkedin-v2
- `GET /rest/organizationAcls?q=roleAssignee&role=ADMINISTRATOR`, `GET /rest/organizations/{id}`:
  https://learn.microsoft.com/en-us/linkedin/marketing/community-management/organizations/organization-access-control-by-role
- `POST /rest/images?action=initializeUpload` -> `{"value": {"uploadUrl", "image"}}`, then
  `PUT uploadUrl`: https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/images-api
- `POST /rest/posts` -> 201, empty body, the post URN in `x-restli-id`; `LinkedIn-Version` and
  `X-Restli-Protocol-Version: 2.0.0` required; `GET /rest/posts?q=author`:
  https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.contracts.oauth import AuthorizationServer

MEMBER = {"sub": "782bbtaQ", "name": "Club Visage"}
ORGANIZATION = {"id": 2414183, "localizedName": "Visage Sports Club"}


@dataclass
class LinkedInState:
    oauth: AuthorizationServer
    base_url: str = ""
    posts: list[dict[str, Any]] = field(default_factory=list)
    images: dict[str, bytes] = field(default_factory=dict)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(7_100_000))


def create_app(state: LinkedInState) -> FastAPI:
    app = FastAPI()

    def versioned(request: Request) -> Response | None:
        if not state.oauth.bearer_ok(request):
            return JSONResponse(
                {
                    "status": 401,
                    "serviceErrorCode": 65600,
                    "code": "INVALID_ACCESS_TOKEN",
                    "message": "Invalid access token",
                },
                401,
            )
        if (
            not request.headers.get("linkedin-version")
            or request.headers.get("x-restli-protocol-version") != "2.0.0"
        ):
            return JSONResponse(
                {
                    "status": 426,
                    "code": "NONEXISTENT_VERSION",
                    "message": "Requested version is not active",
                },
                426,
            )
        return None

    @app.get("/oauth/v2/authorization")
    def authorize(request: Request) -> Response:
        return state.oauth.authorize(request)

    @app.post("/oauth/v2/accessToken")
    async def token(request: Request) -> Response:
        return await state.oauth.token(request)

    @app.get("/v2/userinfo")
    def userinfo(request: Request) -> Response:
        if not state.oauth.bearer_ok(request):
            return JSONResponse({"message": "Invalid access token"}, status_code=401)
        return JSONResponse(MEMBER)

    @app.get("/rest/organizationAcls")
    def acls(request: Request, q: str, role: str, state: str = "APPROVED") -> Response:
        refused = versioned(request)
        if refused is not None:
            return refused
        acl = {
            "organization": f"urn:li:organization:{ORGANIZATION['id']}",
            "role": role,
            "state": state,
            "roleAssignee": f"urn:li:person:{MEMBER['sub']}",
        }
        return JSONResponse({"elements": [acl] if q == "roleAssignee" else []})

    @app.get("/rest/organizations/{organization_id}")
    def organization(organization_id: int, request: Request) -> Response:
        refused = versioned(request)
        if refused is not None or organization_id != ORGANIZATION["id"]:
            return refused or JSONResponse({"status": 404, "message": "Not found"}, 404)
        return JSONResponse(ORGANIZATION)

    @app.post("/rest/images")
    async def initialize(request: Request, action: str) -> Response:
        refused = versioned(request)
        if refused is not None or action != "initializeUpload":
            return refused or JSONResponse({"message": "unknown action"}, 400)
        image = f"urn:li:image:C4E{next(state.ids)}"
        upload_url = f"{state.base_url}/upload/{image}"
        return JSONResponse(
            {
                "value": {
                    "uploadUrlExpiresAt": int(time.time() * 1000) + 3_600_000,
                    "uploadUrl": upload_url,
                    "image": image,
                }
            }
        )

    @app.put("/upload/{image}")
    async def upload(image: str, request: Request) -> Response:
        state.images[image] = await request.body()
        return Response(status_code=201)

    @app.post("/rest/posts")
    async def create(request: Request) -> Response:
        refused = versioned(request)
        if refused is not None:
            return refused
        body = await request.json()
        if len(body.get("commentary", "")) > 3000:
            return JSONResponse({"status": 422, "message": "commentary too long"}, 422)
        urn = f"urn:li:share:{next(state.ids)}"
        state.posts.append({**body, "id": urn, "createdAt": int(time.time() * 1000)})
        return Response(status_code=201, headers={"x-restli-id": urn})

    @app.get("/rest/posts")
    def by_author(request: Request, q: str, author: str) -> Response:
        refused = versioned(request)
        if refused is not None:
            return refused
        return JSONResponse(
            {"elements": [p for p in state.posts if q == "author" and p["author"] == author]}
        )

    return app
