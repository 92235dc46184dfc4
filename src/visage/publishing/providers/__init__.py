"""One gateway per platform; `gateway_for` is how the domain reaches them."""

from __future__ import annotations

from visage.config import Settings
from visage.publishing.models import Platform
from visage.publishing.providers.base import Gateway
from visage.publishing.providers.bluesky import BlueskyGateway
from visage.publishing.providers.facebook import FacebookGateway
from visage.publishing.providers.instagram import InstagramGateway
from visage.publishing.providers.linkedin import LinkedInGateway
from visage.publishing.providers.mastodon import MastodonGateway
from visage.publishing.providers.x import XGateway

GATEWAYS: dict[Platform, type[Gateway]] = {
    Platform.X: XGateway,
    Platform.FACEBOOK: FacebookGateway,
    Platform.INSTAGRAM: InstagramGateway,
    Platform.LINKEDIN: LinkedInGateway,
    Platform.MASTODON: MastodonGateway,
    Platform.BLUESKY: BlueskyGateway,
}


def gateway_for(platform: Platform, settings: Settings) -> Gateway:
    return GATEWAYS[platform](settings)
