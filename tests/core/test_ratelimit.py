"""The global rate limit: headers on every response, 429 + Retry-After past the limit,
counters in the machine's real Redis shared by replicas, or in process. (Which credential earns
its own bucket, and the client address behind proxies: tests/reliability/test_rate_limit_evasion.py;
Redis stopped and started: tests/reliability/test_redis_outage.py.)"""

import uuid
from collections.abc import Iterator

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.datastructures import Headers

from visage.core.ratelimit import (
    CounterStore,
    FailSoftStore,
    MemoryStore,
    RateLimitMiddleware,
    RedisStore,
)

REDIS_URL = "redis://127.0.0.1:6379/0"
LIMIT = 3


async def kiosk_header_bucket(headers: Headers) -> str | None:
    """Stands in for the credential check: every `X-API-Key` here counts as verified."""
    key = headers.get("x-api-key")
    return f"device:{key}" if key else None


def replica(store: CounterStore) -> TestClient:
    """One API replica: a tiny app behind the middleware."""
    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict[str, bool]:
        return {"ok": True}

    app.add_middleware(
        RateLimitMiddleware, limit=LIMIT, store=store, resolve_bucket=kiosk_header_bucket
    )
    return TestClient(app)


@pytest.fixture
def redis_store() -> Iterator[RedisStore]:
    """Counters under a key prefix of this test only, removed afterwards."""
    prefix = f"visage-test:{uuid.uuid4().hex}:"
    client = redis.Redis.from_url(REDIS_URL)
    yield RedisStore(client, prefix)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


def _exhaust(client: TestClient, **headers: str) -> None:
    for remaining in range(LIMIT - 1, -1, -1):
        response = client.get("/ping", headers=headers)
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == str(LIMIT)
        assert response.headers["X-RateLimit-Remaining"] == str(remaining)
        assert 0 < int(response.headers["X-RateLimit-Reset"]) <= 60


def _assert_refused(client: TestClient, **headers: str) -> None:
    refused = client.get("/ping", headers=headers)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["X-RateLimit-Remaining"] == "0"


def test_in_process_limit() -> None:
    client = replica(MemoryStore())
    _exhaust(client)
    _assert_refused(client)


def test_redis_counters_are_shared_by_replicas(redis_store: RedisStore) -> None:
    first, second = replica(redis_store), replica(redis_store)
    _exhaust(first)
    _assert_refused(second)


def test_each_verified_kiosk_has_its_own_budget(redis_store: RedisStore) -> None:
    client = replica(redis_store)
    _exhaust(client, **{"X-API-Key": "kiosk-one"})
    _assert_refused(client, **{"X-API-Key": "kiosk-one"})
    assert client.get("/ping", headers={"X-API-Key": "kiosk-two"}).status_code == 200


def test_unreachable_redis_counts_in_process() -> None:
    store = FailSoftStore(RedisStore.from_url("redis://127.0.0.1:1/0"))
    client = replica(store)
    _exhaust(client)
    _assert_refused(client)
    assert store.degraded


def test_the_service_sends_the_headers(client: TestClient) -> None:
    response = client.get("/health")
    assert int(response.headers["X-RateLimit-Limit"]) > 0
    assert "X-RateLimit-Remaining" in response.headers
