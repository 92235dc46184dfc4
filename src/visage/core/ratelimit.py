"""The global rate limit: fixed one-minute windows counted in Redis when REDIS_URL is set (so
every API replica shares them), in process otherwise, and in process while Redis is down.

Every response carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`
(seconds until the window resets); past the limit the answer is 429 with `Retry-After`.

A bucket is a credential only when it verifies (a kiosk key that exists, a signed access token):
`BucketResolver` says which. Anything else — no credential, a made-up key, a forged token —
counts against the client address, so rotating fake credentials buys no fresh budget. The
address is the socket's peer, or the `X-Forwarded-For` client when the peer is a proxy listed
in FORWARDED_ALLOW_IPS (`forwarded_headers_middleware`).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import redis
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from visage.config import Settings
from visage.core.errors import RateLimited, error_body

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
REDIS_KEY_PREFIX = "visage:ratelimit:"
# While Redis is down, how often one request tries it again.
REDIS_RETRY_SECONDS = 5.0

# Headers -> the verified credential's bucket ("device:<id>", "user:<id>"), or None.
BucketResolver = Callable[[Headers], Awaitable[str | None]]


@dataclass(frozen=True)
class WindowCount:
    count: int  # requests in the current window, this one included
    reset_in: float  # seconds until the window ends


class CounterStore(Protocol):
    def hit(self, key: str, window_seconds: int) -> WindowCount: ...


def _window(now: float, window_seconds: int) -> tuple[int, float]:
    index = int(now // window_seconds)
    return index, (index + 1) * window_seconds - now


class MemoryStore:
    """Counters of this process only."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, window_seconds: int) -> WindowCount:
        index, reset_in = _window(time.time(), window_seconds)
        with self._lock:
            previous_index, count = self._counts.get(key, (index, 0))
            count = count + 1 if previous_index == index else 1
            self._counts[key] = (index, count)
            if len(self._counts) > 100_000:  # forget clients of past windows
                self._counts = {k: v for k, v in self._counts.items() if v[0] == index}
        return WindowCount(count, reset_in)


class RedisStore:
    """Counters shared by every replica: INCR on a key per client and window."""

    def __init__(self, client: redis.Redis[bytes], prefix: str = REDIS_KEY_PREFIX) -> None:
        self._redis = client
        self._prefix = prefix

    @classmethod
    def from_url(cls, url: str, prefix: str = REDIS_KEY_PREFIX) -> RedisStore:
        return cls(redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1), prefix)

    def hit(self, key: str, window_seconds: int) -> WindowCount:
        index, reset_in = _window(time.time(), window_seconds)
        redis_key = f"{self._prefix}{key}:{index}"
        pipeline = self._redis.pipeline()
        pipeline.incr(redis_key)
        pipeline.expire(redis_key, window_seconds + 1)
        count, _ = pipeline.execute()
        return WindowCount(int(count), reset_in)


class FailSoftStore:
    """Redis while it answers; in-process counters while it does not (a warning is logged once
    and `degraded` says so for /health); Redis again as soon as it answers."""

    def __init__(self, shared: RedisStore, retry_seconds: float = REDIS_RETRY_SECONDS) -> None:
        self._shared = shared
        self._local = MemoryStore()
        self._retry_seconds = retry_seconds
        self._down_since: float | None = None
        self._next_try = 0.0
        self._lock = threading.Lock()

    @property
    def degraded(self) -> bool:
        return self._down_since is not None

    def hit(self, key: str, window_seconds: int) -> WindowCount:
        now = time.monotonic()
        if self._down_since is None or now >= self._next_try:
            try:
                counted = self._shared.hit(key, window_seconds)
            except redis.RedisError as error:
                self._went_down(now, error)
            else:
                self._came_back()
                return counted
        return self._local.hit(key, window_seconds)

    def _went_down(self, now: float, error: redis.RedisError) -> None:
        with self._lock:
            self._next_try = now + self._retry_seconds
            if self._down_since is None:
                self._down_since = now
                logger.warning(
                    "Redis (REDIS_URL) unreachable: rate limits counted in process until it "
                    "is back (%s)",
                    error,
                )

    def _came_back(self) -> None:
        if self._down_since is None:
            return
        with self._lock:
            if self._down_since is not None:
                logger.warning(
                    "Redis (REDIS_URL) is back after %.0f s: rate limits shared again",
                    time.monotonic() - self._down_since,
                )
                self._down_since = None


def store_for(settings: Settings) -> CounterStore:
    if settings.redis_url:
        return FailSoftStore(RedisStore.from_url(settings.redis_url))
    return MemoryStore()


def address_bucket(scope: Scope) -> str:
    client = scope.get("client")
    return "ip:" + (client[0] if client else "unknown")


async def no_credentials(_: Headers) -> str | None:
    return None


class RateLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        store: CounterStore,
        resolve_bucket: BucketResolver = no_credentials,
    ) -> None:
        self.app = app
        self.limit = limit
        self.store = store
        self.resolve_bucket = resolve_bucket

    async def _bucket(self, scope: Scope) -> str:
        return await self.resolve_bucket(Headers(scope=scope)) or address_bucket(scope)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        counted = self.store.hit(await self._bucket(scope), WINDOW_SECONDS)
        reset = str(math.ceil(counted.reset_in))
        headers = [
            (b"x-ratelimit-limit", str(self.limit).encode()),
            (b"x-ratelimit-remaining", str(max(self.limit - counted.count, 0)).encode()),
            (b"x-ratelimit-reset", reset.encode()),
        ]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        if counted.count <= self.limit:
            await self.app(scope, receive, send_with_headers)
            return
        await self._refuse(scope, receive, send_with_headers, reset)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, retry_after: str) -> None:
        state = scope.get("state") or {}
        response = JSONResponse(
            error_body(
                "RATE_LIMITED",
                RateLimited.default_message,
                {"retry_after": int(retry_after)},
                state.get("request_id"),
            ),
            status_code=429,
            headers={"Retry-After": retry_after},
        )
        await response(scope, receive, send)


def forwarded_headers_middleware(app: ASGIApp, settings: Settings) -> ASGIApp:
    """The client address from `X-Forwarded-For`, trusted only from the proxies listed in
    FORWARDED_ALLOW_IPS (uvicorn's semantics: addresses, networks or `*`); unset, the socket's
    peer is the client whatever a request claims."""
    if not settings.forwarded_allow_ips.strip():
        return app
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    # uvicorn types ASGI with its own TypedDicts, Starlette with plain mappings: same protocol.
    proxied: ASGIApp = ProxyHeadersMiddleware(
        app,  # type: ignore[arg-type]
        settings.forwarded_allow_ips,
    )  # type: ignore[assignment]
    return proxied
