"""The provider the service talks to (WAHA today; docs/decisions.md for a second one)."""

from __future__ import annotations

from visage.config import Settings
from visage.messaging.provider import MessagingProvider
from visage.messaging.waha import WahaProvider


def provider(settings: Settings) -> MessagingProvider:
    return WahaProvider.from_settings(settings)
