"""Which rate-limit bucket a request's credential earns: a kiosk key that exists (and is not
revoked) counts on its device, a validly signed access token or a live personal API token
(`Authorization: Token ...`) on its user. Anything else is not a
credential as far as the limiter is concerned (the request then counts on its address), so
made-up keys and forged tokens cannot open fresh buckets.

Kiosk keys and API tokens are looked up in the database (in a thread, with verified ones
remembered for a minute: a kiosk sends a frame every second or two); access tokens are checked
by signature only, which proves they were issued here without a query.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers

from visage.config import Settings
from visage.core.db import get_database
from visage.core.errors import NotAuthenticated
from visage.core.ratelimit import BucketResolver
from visage.core.security import decode_access_token, hash_token
from visage.identity.api_tokens import api_token_owner, looks_like_api_token
from visage.identity.models import Device
from visage.identity.service import API_KEY_PREFIX

VERIFIED_KEY_SECONDS = 60.0
MAX_API_KEY_LENGTH = 64
MAX_REMEMBERED_KEYS = 10_000


class _VerifiedKeys:
    """Key hash -> device bucket, for keys verified within the last minute."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, key_hash: str) -> str | None:
        remembered = self._buckets.get(key_hash)
        if remembered is None or remembered[1] < time.monotonic():
            return None
        return remembered[0]

    def put(self, key_hash: str, bucket: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._buckets) >= MAX_REMEMBERED_KEYS:
                self._buckets = {k: v for k, v in self._buckets.items() if v[1] >= now}
            self._buckets[key_hash] = (bucket, now + VERIFIED_KEY_SECONDS)


def _device_bucket(key_hash: str) -> str | None:
    try:
        with get_database().session() as session:
            device_id = session.scalar(
                select(Device.id).where(Device.key_hash == key_hash, Device.revoked_at.is_(None))
            )
    except SQLAlchemyError:
        return None  # database down: the request counts on its address (and gets its 503)
    return f"device:{device_id}" if device_id else None


def _api_token_bucket(token: str) -> str | None:
    try:
        owner = api_token_owner(token)
    except SQLAlchemyError:
        return None
    return f"user:{owner.user_id}" if owner else None


def credential_buckets(settings: Settings) -> BucketResolver:
    verified_keys = _VerifiedKeys()

    async def remembered(secret: str, look_up: Callable[[str], str | None]) -> str | None:
        secret_hash = hash_token(secret)
        bucket = verified_keys.get(secret_hash)
        if bucket is None:
            bucket = await run_in_threadpool(look_up, secret)
            if bucket is not None:
                verified_keys.put(secret_hash, bucket)
        return bucket

    async def resolve(headers: Headers) -> str | None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer" and token:
            try:
                claims = decode_access_token(settings.secret_key, token)
            except NotAuthenticated:
                return None
            return f"user:{claims['sub']}"
        if (
            scheme.lower() == "token"
            and looks_like_api_token(token)
            and len(token) <= MAX_API_KEY_LENGTH
        ):
            return await remembered(token, _api_token_bucket)
        api_key = headers.get("x-api-key", "")
        if not api_key.startswith(API_KEY_PREFIX) or len(api_key) > MAX_API_KEY_LENGTH:
            return None
        return await remembered(api_key, lambda key: _device_bucket(hash_token(key)))

    return resolve
