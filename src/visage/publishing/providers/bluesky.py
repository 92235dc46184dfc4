"""Bluesky through its PDS's XRPC API, signed in with an app password (ATProto OAuth needs
DPoP and pushed authorization requests, which this gateway does not do).

Docs: https://docs.bsky.app/docs/api/com-atproto-server-create-session,
https://docs.bsky.app/docs/api/com-atproto-server-refresh-session,
https://docs.bsky.app/docs/api/com-atproto-repo-upload-blob,
https://docs.bsky.app/docs/api/com-atproto-repo-create-record,
https://docs.bsky.app/docs/advanced-guides/posts. A post's record key is chosen by us: a TID
made from the delivery's first attempt and its idempotency key, so a retry after a silence
asks for that very record (`getRecord`) and never makes a second one.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import jwt

from visage.publishing.models import Platform
from visage.publishing.providers.base import (
    ConnectedIdentity,
    Credentials,
    Gateway,
    Outgoing,
    PlatformRejected,
    Published,
    TokenRejected,
    TokenSet,
)

POST_COLLECTION = "app.bsky.feed.post"
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def record_key(post: Outgoing) -> str:
    """A TID (13 base32-sortable characters: microseconds, then a 10-bit clock id)."""
    micros = int(post.since.timestamp() * 1_000_000)
    clock = int.from_bytes(hashlib.sha256(post.idempotency_key.encode()).digest()[:2]) & 0x3FF
    value = (micros << 10) | clock
    return "".join(_TID_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(13)))


def _tokens(session: dict[str, object]) -> TokenSet:
    access = str(session["accessJwt"])
    claims = jwt.decode(access, options={"verify_signature": False})
    expires = datetime.fromtimestamp(int(claims["exp"]), UTC) if "exp" in claims else None
    return TokenSet(access, str(session["refreshJwt"]), expires, "app_password")


class BlueskyGateway(Gateway):
    platform = Platform.BLUESKY
    scopes = ()
    uses_oauth = False

    def sign_in(self, identifier: str, app_password: str) -> ConnectedIdentity:
        with self.http() as client:
            session = self.call(
                client,
                "POST",
                "/xrpc/com.atproto.server.createSession",
                json={"identifier": identifier, "password": app_password},
            ).json()
        return ConnectedIdentity(str(session["did"]), str(session["handle"]), _tokens(session))

    def identities(self, tokens: TokenSet) -> list[ConnectedIdentity]:
        with self.http(tokens.access_token) as client:
            me = self.call(client, "GET", "/xrpc/com.atproto.server.getSession").json()
        return [ConnectedIdentity(str(me["did"]), str(me["handle"]), tokens)]

    def refresh(self, tokens: TokenSet) -> TokenSet:
        if not tokens.refresh_token:
            raise TokenRejected("bluesky: no refresh token; sign in again")
        with self.http(tokens.refresh_token) as client:
            session = self.call(client, "POST", "/xrpc/com.atproto.server.refreshSession")
        return _tokens(session.json())

    def _url(self, account: Credentials, rkey: str) -> str:
        return f"https://bsky.app/profile/{account.username}/post/{rkey}"

    def publish(self, account: Credentials, post: Outgoing) -> Published:
        rkey = record_key(post)
        with self.http(account.access_token) as client:
            blobs = [
                self.call(
                    client,
                    "POST",
                    "/xrpc/com.atproto.repo.uploadBlob",
                    content=image,
                    headers={"Content-Type": "image/jpeg"},
                ).json()["blob"]
                for image in post.images
            ]
            record: dict[str, object] = {
                "$type": POST_COLLECTION,
                "text": post.text,
                "createdAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            }
            if blobs:
                record["embed"] = {
                    "$type": "app.bsky.embed.images",
                    "images": [{"alt": "", "image": blob} for blob in blobs],
                }
            self.call(
                client,
                "POST",
                "/xrpc/com.atproto.repo.createRecord",
                json={
                    "repo": account.external_id,
                    "collection": POST_COLLECTION,
                    "rkey": rkey,
                    "record": record,
                },
            )
        return Published(
            f"at://{account.external_id}/{POST_COLLECTION}/{rkey}", self._url(account, rkey)
        )

    def find_published(self, account: Credentials, post: Outgoing) -> Published | None:
        rkey = record_key(post)
        params = {"repo": account.external_id, "collection": POST_COLLECTION, "rkey": rkey}
        with self.http(account.access_token) as client:
            try:
                found = self.call(
                    client, "GET", "/xrpc/com.atproto.repo.getRecord", params=params
                ).json()
            except PlatformRejected as error:
                if error.status == 400 and "RecordNotFound" in str(error):
                    return None
                raise
        return Published(str(found["uri"]), self._url(account, rkey))
