"""A Bluesky PDS's XRPC API as documented (the `@atproto/pds` reference server needs a PLC
directory to create accounts, which cannot be reached here, so this contract server stands in).

- `com.atproto.server.createSession` {identifier, password} -> {did, handle, accessJwt,
  refreshJwt}; 401 `AuthenticationRequired`: https://docs.bsky.app/docs/api/com-atproto-server-create-session
- `com.atproto.server.refreshSession` (Bearer refreshJwt), `com.atproto.server.getSession`:
  https://docs.bsky.app/docs/api/com-atproto-server-refresh-session
- `com.atproto.repo.uploadBlob` (raw body, at most 1,000,000 bytes for post images) -> {blob}:
  https://docs.bsky.app/docs/api/com-atproto-repo-upload-blob
- `com.atproto.repo.createRecord` {repo, collection, rkey?, record} -> {uri, cid}; an existing
  rkey is refused; `com.atproto.repo.getRecord` -> {uri, cid, value}, 400 `RecordNotFound`:
  https://docs.bsky.app/docs/api/com-atproto-repo-create-record,
  https://docs.bsky.app/docs/api/com-atproto-repo-get-record
- Posts: text of at most 300 graphemes: https://docs.bsky.app/docs/advanced-guides/posts

Test hook: `delay_next_create` stores the record, then answers only after that many seconds.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
HANDLE = "clubvisage.bsky.social"
MAX_BLOB_BYTES = 1_000_000


def _error(name: str, message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": name, "message": message}, status_code=status)


@dataclass
class BlueskyState:
    password: str = "abcd-efgh-ijkl-mnop"
    secret: str = field(default_factory=lambda: secrets.token_hex(16))
    refresh_tokens: set[str] = field(default_factory=set)
    blobs: dict[str, bytes] = field(default_factory=dict)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # rkey -> record
    create_requests: int = 0
    delay_next_create: float = 0.0

    def session(self) -> dict[str, Any]:
        now = int(time.time())
        access = jwt.encode(
            {"scope": "com.atproto.appPass", "sub": DID, "iat": now, "exp": now + 7200}, self.secret
        )
        refresh = jwt.encode(
            {
                "scope": "com.atproto.refresh",
                "sub": DID,
                "jti": secrets.token_hex(8),
                "exp": now + 90 * 86400,
            },
            self.secret,
        )
        self.refresh_tokens.add(refresh)
        return {
            "did": DID,
            "handle": HANDLE,
            "accessJwt": access,
            "refreshJwt": refresh,
            "active": True,
        }

    def access_ok(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        try:
            claims = jwt.decode(header.removeprefix("Bearer "), self.secret, algorithms=["HS256"])
        except jwt.PyJWTError:
            return False
        return bool(claims.get("scope") == "com.atproto.appPass")


def create_app(state: BlueskyState) -> FastAPI:
    app = FastAPI()
    expired = lambda: _error("ExpiredToken", "Token has expired", 400)  # noqa: E731

    @app.post("/xrpc/com.atproto.server.createSession")
    async def create_session(request: Request) -> Response:
        body = await request.json()
        if body.get("identifier") not in (HANDLE, DID) or body.get("password") != state.password:
            return _error("AuthenticationRequired", "Invalid identifier or password", 401)
        return JSONResponse(state.session())

    @app.post("/xrpc/com.atproto.server.refreshSession")
    def refresh_session(request: Request) -> Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in state.refresh_tokens:
            return expired()
        state.refresh_tokens.discard(token)
        return JSONResponse(state.session())

    @app.get("/xrpc/com.atproto.server.getSession")
    def get_session(request: Request) -> Response:
        return (
            JSONResponse({"did": DID, "handle": HANDLE}) if state.access_ok(request) else expired()
        )

    @app.post("/xrpc/com.atproto.repo.uploadBlob")
    async def upload_blob(request: Request) -> Response:
        if not state.access_ok(request):
            return expired()
        data = await request.body()
        if len(data) > MAX_BLOB_BYTES:
            return _error("BlobTooLarge", f"This file is too large. Maximum size: {MAX_BLOB_BYTES}")
        cid = "bafkrei" + hashlib.sha256(data).hexdigest()[:52]
        state.blobs[cid] = data
        blob = {
            "$type": "blob",
            "ref": {"$link": cid},
            "mimeType": request.headers.get("content-type"),
            "size": len(data),
        }
        return JSONResponse({"blob": blob})

    @app.post("/xrpc/com.atproto.repo.createRecord")
    async def create_record(request: Request) -> Response:
        if not state.access_ok(request):
            return expired()
        state.create_requests += 1
        body = await request.json()
        rkey = body.get("rkey") or secrets.token_hex(7)
        record = body["record"]
        if body.get("repo") != DID or body.get("collection") != "app.bsky.feed.post":
            return _error("InvalidRequest", "Could not find repo or collection")
        if len(record.get("text", "")) > 300:
            return _error(
                "InvalidRequest",
                "Invalid app.bsky.feed.post record: "
                "Record/text must not be longer than 300 graphemes",
            )
        if rkey in state.records:
            return _error("InvalidRequest", "Record already exists")
        state.records[rkey] = record
        if state.delay_next_create:
            delay, state.delay_next_create = state.delay_next_create, 0.0
            await asyncio.sleep(delay)
        return JSONResponse(
            {"uri": f"at://{DID}/app.bsky.feed.post/{rkey}", "cid": "bafyrei" + rkey}
        )

    @app.get("/xrpc/com.atproto.repo.getRecord")
    def get_record(request: Request, repo: str, collection: str, rkey: str) -> Response:
        record = state.records.get(rkey)
        if record is None or repo != DID:
            return _error(
                "RecordNotFound", f"Could not locate record: at://{repo}/{collection}/{rkey}"
            )
        return JSONResponse(
            {"uri": f"at://{DID}/{collection}/{rkey}", "cid": "bafyrei" + rkey, "value": record}
        )

    return app
