"""X (Twitter) API v2: OAuth 2.0 with PKCE (`offline.access` for a refresh token), media
upload, `POST /2/tweets`, and the user timeline to check an unanswered attempt.

Docs: https://docs.x.com/resources/fundamentals/authentication/oauth-2-0/authorization-code,
https://docs.x.com/x-api/posts/create-post, https://docs.x.com/x-api/media/upload-media,
https://docs.x.com/x-api/fundamentals/rate-limits (`x-rate-limit-reset`, epoch seconds).
X has no idempotency key for posts: an unknown attempt is looked up in the timeline.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from visage.publishing.models import Platform
from visage.publishing.platforms import URL_PATTERN
from visage.publishing.providers.base import (
    ConnectedIdentity,
    Credentials,
    Gateway,
    Outgoing,
    Published,
    TokenSet,
)


def same_text(shown: str, sent: str) -> bool:
    """X shows links as t.co links and appends one for attached media: compare without URLs."""

    def bare(text: str) -> str:
        return " ".join(URL_PATTERN.sub(" ", text).split())

    return bare(shown) == bare(sent)


class XGateway(Gateway):
    platform = Platform.X
    scopes = ("tweet.read", "tweet.write", "users.read", "media.write", "offline.access")
    pkce = True
    token_auth = "client_secret_basic"  # confidential client: HTTP Basic on the token endpoint

    def identities(self, tokens: TokenSet) -> list[ConnectedIdentity]:
        with self.http(tokens.access_token) as client:
            user = self.call(client, "GET", "/2/users/me").json()["data"]
        return [ConnectedIdentity(str(user["id"]), str(user["username"]), tokens)]

    def rate_limit_reset(self, response: httpx.Response) -> datetime:
        reset = response.headers.get("x-rate-limit-reset")
        if reset and reset.isdigit():
            return datetime.fromtimestamp(int(reset), UTC)
        return super().rate_limit_reset(response)

    def _url(self, account: Credentials, post_id: str) -> str:
        return f"https://x.com/{account.username}/status/{post_id}"

    def publish(self, account: Credentials, post: Outgoing) -> Published:
        with self.http(account.access_token) as client:
            media_ids = []
            for image in post.images:
                uploaded = self.call(
                    client,
                    "POST",
                    "/2/media/upload",
                    files={"media": ("photo.jpg", image, "image/jpeg")},
                    data={"media_category": "tweet_image"},
                ).json()
                media_ids.append(str(uploaded["data"]["id"]))
            body: dict[str, object] = {"text": post.text}
            if media_ids:
                body["media"] = {"media_ids": media_ids}
            created = self.call(client, "POST", "/2/tweets", json=body).json()["data"]
        return Published(str(created["id"]), self._url(account, str(created["id"])))

    def find_published(self, account: Credentials, post: Outgoing) -> Published | None:
        params = {
            "start_time": post.since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "max_results": "100",
        }
        with self.http(account.access_token) as client:
            page = self.call(
                client, "GET", f"/2/users/{account.external_id}/tweets", params=params
            ).json()
        for tweet in page.get("data", []):
            if same_text(str(tweet.get("text", "")), post.text):
                return Published(str(tweet["id"]), self._url(account, str(tweet["id"])))
        return None
