"""The messaging fixtures (WAHA contract server, live API, a connected gym), shared."""

from tests.messaging.conftest import (
    api,
    api_url,
    gym,
    messaging_settings,
    opted_in_member,
    process,
    waha,
)

__all__ = ["api", "api_url", "gym", "messaging_settings", "opted_in_member", "process", "waha"]
