"""The global per-client rate limit: fixed one-minute windows counted in Redis when
REDIS_URL is set (so every API replica shares them), in process otherwise.

Every response carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`
(seconds until the window resets); past the limit the answer is 429 with `Retry-After`.
A client is its kiosk API key when it sends one, else its address.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Protocol

import redis
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from visage.config import Settings
from visage.core.errors import RateLimited, error_body

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
REDIS_KEY_PREFIX = "visage:ratelimit:"


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


def store_for(settings: Settings) -> CounterStore:
    return RedisStore.from_url(settings.redis_url) if settings.redis_url else MemoryStore()


def client_key(scope: Scope) -> str:
    headers = dict(scope.get("headers") or [])
    api_key = headers.get(b"x-api-key")
    if api_key:
        return "key:" + hashlib.sha256(api_key).hexdigest()[:32]
    client = scope.get("client")
    return "ip:" + (client[0] if client else "unknown")


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limit: int, store: CounterStore) -> None:
        self.app = app
        self.limit = limit
        self.store = store

    def _count(self, key: str) -> WindowCount | None:
        try:
            return self.store.hit(key, WINDOW_SECONDS)
        except redis.RedisError:
            # Limiting is a protection, not a dependency: when Redis is down, serve.
            logger.warning("Rate-limit store unavailable; request not counted", exc_info=True)
            return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        counted = self._count(client_key(scope))
        if counted is None:
            await self.app(scope, receive, send)
            return
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
