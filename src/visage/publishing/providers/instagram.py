"""Instagram professional accounts (Instagram API with Instagram Login): short-lived token ->
long-lived (60 days, refreshed with `ig_refresh_token`), then container -> `media_publish`.

Docs: https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/business-login,
https://developers.facebook.com/docs/instagram-platform/content-publishing (image_url must be
public: we pass the consent-safe copy's signed URL), error bodies as the Graph API's.
"""

from __future__ import annotations

from datetime import datetime

import httpx

from visage.publishing.models import Platform
from visage.publishing.providers.base import (
    ConnectedIdentity,
    Credentials,
    Gateway,
    GatewayError,
    Outgoing,
    PlatformRejected,
    Published,
    TokenSet,
)
from visage.publishing.providers.graph import graph_error


class InstagramGateway(Gateway):
    platform = Platform.INSTAGRAM
    scopes = ("instagram_business_basic", "instagram_business_content_publish")

    def error_of(self, response: httpx.Response) -> GatewayError | None:
        return graph_error("instagram", response)

    def _long_lived(self, path: str, grant: str, token: str, **extra: str) -> TokenSet:
        with self.http() as client:
            body = self.call(
                client, "GET", path, params={"grant_type": grant, "access_token": token, **extra}
            ).json()
        return TokenSet.from_oauth(body)

    def identities(self, tokens: TokenSet) -> list[ConnectedIdentity]:
        long_lived = self._long_lived(
            "/access_token",
            "ig_exchange_token",
            tokens.access_token,
            client_secret=self.oauth.client_secret,
        )
        with self.http(long_lived.access_token) as client:
            me = self.call(client, "GET", "/me", params={"fields": "user_id,username"}).json()
        return [ConnectedIdentity(str(me["user_id"]), str(me["username"]), long_lived)]

    def refresh(self, tokens: TokenSet) -> TokenSet:
        return self._long_lived("/refresh_access_token", "ig_refresh_token", tokens.access_token)

    def _container(self, client: httpx.Client, user: str, data: dict[str, str]) -> str:
        return str(self.call(client, "POST", f"/{user}/media", data=data).json()["id"])

    def publish(self, account: Credentials, post: Outgoing) -> Published:
        user = account.external_id
        with self.http(account.access_token) as client:
            if len(post.image_urls) == 1:
                container = self._container(
                    client, user, {"image_url": post.image_urls[0], "caption": post.text}
                )
            else:
                children = [
                    self._container(client, user, {"image_url": url, "is_carousel_item": "true"})
                    for url in post.image_urls
                ]
                container = self._container(
                    client,
                    user,
                    {
                        "media_type": "CAROUSEL",
                        "children": ",".join(children),
                        "caption": post.text,
                    },
                )
            status = self.call(
                client, "GET", f"/{container}", params={"fields": "status_code"}
            ).json()
            if status.get("status_code") not in ("FINISHED", None):
                raise PlatformRejected(f"instagram: container {status.get('status_code')}")
            media = self.call(
                client, "POST", f"/{user}/media_publish", data={"creation_id": container}
            ).json()
            media_id = str(media["id"])
            link = self.call(client, "GET", f"/{media_id}", params={"fields": "permalink"}).json()
        return Published(media_id, str(link.get("permalink", "")))

    def find_published(self, account: Credentials, post: Outgoing) -> Published | None:
        with self.http(account.access_token) as client:
            media = self.call(
                client,
                "GET",
                f"/{account.external_id}/media",
                params={"fields": "id,caption,timestamp,permalink"},
            ).json()
        for item in media.get("data", []):
            posted = datetime.fromisoformat(str(item["timestamp"]).replace("+0000", "+00:00"))
            if item.get("caption") == post.text and posted >= post.since.replace(microsecond=0):
                return Published(str(item["id"]), str(item.get("permalink", "")))
        return None
