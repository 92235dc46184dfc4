"""Mastodon (any instance): OAuth 2.0 with PKCE, `POST /api/v2/media`, then
`POST /api/v1/statuses` with an `Idempotency-Key`, which the server honours for an hour: an
unanswered attempt is resolved by sending the same request again, which returns the status it
created instead of a second one.

Docs: https://docs.joinmastodon.org/methods/oauth/, https://docs.joinmastodon.org/methods/statuses/#create,
https://docs.joinmastodon.org/methods/media/#v2, https://docs.joinmastodon.org/api/rate-limits/.
"""

from __future__ import annotations

from datetime import datetime

import httpx

from visage.publishing.models import Platform
from visage.publishing.providers.base import (
    ConnectedIdentity,
    Credentials,
    Gateway,
    Outgoing,
    Published,
    TokenSet,
)


class MastodonGateway(Gateway):
    platform = Platform.MASTODON
    scopes = ("read:accounts", "write:statuses", "write:media")
    pkce = True

    def identities(self, tokens: TokenSet) -> list[ConnectedIdentity]:
        with self.http(tokens.access_token) as client:
            me = self.call(client, "GET", "/api/v1/accounts/verify_credentials").json()
        return [ConnectedIdentity(str(me["id"]), str(me["acct"]), tokens)]

    def refresh(self, tokens: TokenSet) -> TokenSet:
        """Mastodon tokens do not expire: a refresh checks the token still works."""
        with self.http(tokens.access_token) as client:
            self.call(client, "GET", "/api/v1/accounts/verify_credentials")
        return tokens

    def rate_limit_reset(self, response: httpx.Response) -> datetime:
        reset = response.headers.get("x-ratelimit-reset")
        if reset:
            return datetime.fromisoformat(reset.replace("Z", "+00:00"))
        return super().rate_limit_reset(response)

    def publish(self, account: Credentials, post: Outgoing) -> Published:
        with self.http(account.access_token) as client:
            media_ids = [
                str(
                    self.call(
                        client,
                        "POST",
                        "/api/v2/media",
                        files={"file": ("photo.jpg", image, "image/jpeg")},
                    ).json()["id"]
                )
                for image in post.images
            ]
            status = self.call(
                client,
                "POST",
                "/api/v1/statuses",
                json={"status": post.text, "media_ids": media_ids, "visibility": "public"},
                headers={"Idempotency-Key": post.idempotency_key},
            ).json()
        return Published(str(status["id"]), str(status["url"]))

    def find_published(self, account: Credentials, post: Outgoing) -> Published | None:
        """The same key again: the status created earlier comes back, or this one is new."""
        return self.publish(account, post)
