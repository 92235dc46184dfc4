"""Facebook Pages through the Graph API: Facebook Login, the Pages the user manages (each with
its own Page token, which does not expire when issued from a long-lived user token), photos and
feed posts.

Docs: https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow,
https://developers.facebook.com/docs/pages-api/posts (`POST /{page-id}/feed`,
`POST /{page-id}/photos` with `published=false` then `attached_media`).
"""

from __future__ import annotations

import json

import httpx

from visage.publishing.models import Platform
from visage.publishing.providers.base import (
    ConnectedIdentity,
    Credentials,
    Gateway,
    GatewayError,
    Outgoing,
    Published,
    TokenSet,
)
from visage.publishing.providers.graph import graph_error


class FacebookGateway(Gateway):
    platform = Platform.FACEBOOK
    scopes = ("pages_manage_posts", "pages_read_engagement", "pages_show_list")

    def error_of(self, response: httpx.Response) -> GatewayError | None:
        return graph_error("facebook", response)

    def identities(self, tokens: TokenSet) -> list[ConnectedIdentity]:
        with self.http(tokens.access_token) as client:
            pages = self.call(client, "GET", "/me/accounts").json().get("data", [])
        return [
            ConnectedIdentity(
                str(page["id"]),
                str(page["name"]),
                TokenSet(str(page["access_token"]), None, None, tokens.scope),
            )
            for page in pages
        ]

    def refresh(self, tokens: TokenSet) -> TokenSet:
        """Page tokens do not expire: a refresh checks the token still works."""
        with self.http(tokens.access_token) as client:
            self.call(client, "GET", "/me", params={"fields": "id"})
        return tokens

    def publish(self, account: Credentials, post: Outgoing) -> Published:
        page = account.external_id
        with self.http(account.access_token) as client:
            photo_ids = [
                str(
                    self.call(
                        client,
                        "POST",
                        f"/{page}/photos",
                        files={"source": ("photo.jpg", image, "image/jpeg")},
                        data={"published": "false"},
                    ).json()["id"]
                )
                for image in post.images
            ]
            data = {"message": post.text}
            for index, photo_id in enumerate(photo_ids):
                data[f"attached_media[{index}]"] = json.dumps({"media_fbid": photo_id})
            created = self.call(client, "POST", f"/{page}/feed", data=data).json()
        post_id = str(created["id"])
        return Published(post_id, f"https://www.facebook.com/{post_id}")

    def find_published(self, account: Credentials, post: Outgoing) -> Published | None:
        params = {"fields": "id,message,created_time", "since": str(int(post.since.timestamp()))}
        with self.http(account.access_token) as client:
            feed = self.call(client, "GET", f"/{account.external_id}/feed", params=params).json()
        for entry in feed.get("data", []):
            if entry.get("message") == post.text:
                return Published(str(entry["id"]), f"https://www.facebook.com/{entry['id']}")
        return None
