"""LinkedIn Posts API (versioned `/rest/posts`): a member (`w_member_social`) or, with
LINKEDIN_ORGANIZATION_PAGES, the organizations they administer (`w_organization_social`,
listed by `/rest/organizationAcls`) as author; images through `/rest/images`
initializeUpload; the new post's URN comes back in the `x-restli-id` header.

Docs: https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api,
https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/images-api,
https://learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow
(access tokens last 60 days; refresh tokens only for approved partners).
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote

import httpx

from visage.config import Settings
from visage.publishing.models import Platform
from visage.publishing.providers.base import (
    ConnectedIdentity,
    Credentials,
    Gateway,
    Outgoing,
    Published,
    TokenSet,
)

LINKEDIN_VERSION = "202411"


MEMBER_SCOPES = ("openid", "profile", "w_member_social")
ORGANIZATION_SCOPES = ("w_organization_social", "r_organization_admin")


class LinkedInGateway(Gateway):
    platform = Platform.LINKEDIN
    scopes = MEMBER_SCOPES

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.organizations = settings.linkedin_organization_pages
        if self.organizations:
            self.oauth = replace(self.oauth, scopes=MEMBER_SCOPES + ORGANIZATION_SCOPES)

    def http(self, access_token: str | None = None) -> httpx.Client:
        client = super().http(access_token)
        client.headers.update(
            {"LinkedIn-Version": LINKEDIN_VERSION, "X-Restli-Protocol-Version": "2.0.0"}
        )
        return client

    def identities(self, tokens: TokenSet) -> list[ConnectedIdentity]:
        """The member, and with LINKEDIN_ORGANIZATION_PAGES the Pages they administer."""
        with self.http(tokens.access_token) as client:
            me = self.call(client, "GET", "/v2/userinfo").json()
            found = [
                ConnectedIdentity(f"urn:li:person:{me['sub']}", str(me.get("name", "")), tokens)
            ]
            if not self.organizations:
                return found
            acls = self.call(
                client,
                "GET",
                "/rest/organizationAcls",
                params={"q": "roleAssignee", "role": "ADMINISTRATOR", "state": "APPROVED"},
            ).json()
            for acl in acls.get("elements", []):
                urn = str(acl["organization"])
                page = self.call(client, "GET", f"/rest/organizations/{urn.rsplit(':', 1)[-1]}")
                found.append(ConnectedIdentity(urn, str(page.json()["localizedName"]), tokens))
        return found

    def _upload(self, client: httpx.Client, owner: str, image: bytes) -> str:
        started = self.call(
            client,
            "POST",
            "/rest/images",
            params={"action": "initializeUpload"},
            json={"initializeUploadRequest": {"owner": owner}},
        ).json()["value"]
        self.call(client, "PUT", str(started["uploadUrl"]), content=image)
        return str(started["image"])

    def publish(self, account: Credentials, post: Outgoing) -> Published:
        author = account.external_id
        with self.http(account.access_token) as client:
            images = [self._upload(client, author, image) for image in post.images]
            body: dict[str, object] = {
                "author": author,
                "commentary": post.text,
                "visibility": "PUBLIC",
                "distribution": {
                    "feedDistribution": "MAIN_FEED",
                    "targetEntities": [],
                    "thirdPartyDistributionChannels": [],
                },
                "lifecycleState": "PUBLISHED",
                "isReshareDisabledByAuthor": False,
            }
            if len(images) == 1:
                body["content"] = {"media": {"id": images[0]}}
            elif images:
                body["content"] = {"multiImage": {"images": [{"id": i} for i in images]}}
            response = self.call(client, "POST", "/rest/posts", json=body)
        urn = response.headers["x-restli-id"]
        return Published(urn, f"https://www.linkedin.com/feed/update/{urn}/")

    def find_published(self, account: Credentials, post: Outgoing) -> Published | None:
        params = {"q": "author", "author": account.external_id, "count": "50"}
        with self.http(account.access_token) as client:
            found = self.call(client, "GET", "/rest/posts", params=params).json()
        since_ms = int(post.since.timestamp() * 1000)
        for entry in found.get("elements", []):
            if entry.get("commentary") == post.text and int(entry.get("createdAt", 0)) >= since_ms:
                urn = str(entry["id"])
                return Published(urn, f"https://www.linkedin.com/feed/update/{quote(urn)}/")
        return None
