"""Where an event's things are: its share link, API paths and storage keys."""

from __future__ import annotations

from visage.config import Settings
from visage.events import media
from visage.events.models import (
    Event,
    Photo,
)

API_PREFIX = "/api/v1"
# Unambiguous characters only (no 0/O, 1/I/L): codes are read aloud and typed from posters.


def share_url(settings: Settings, event: Event) -> str:
    return f"{settings.public_base_url.rstrip('/')}/e/{event.access_code}"


def qr_code_url(event: Event) -> str:
    return f"{API_PREFIX}/events/{event.id}/qr.png"


def event_storage_prefix(event: Event) -> str:
    return f"events/{event.tenant_id}/{event.id}"


def photo_key(photo: Photo, rendition: str) -> str:
    extension = media.EXTENSIONS[photo.format] if rendition == media.ORIGINAL else "jpg"
    return f"events/{photo.tenant_id}/{photo.event_id}/{photo.id}/{rendition}.{extension}"
