"""Redis down with REDIS_URL set: the limits are counted in process (a warning in the log and in
/health names Redis; the service keeps answering) and go back to Redis once it is back."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient

from tests.reliability.redis_server import ThrowAwayRedis
from visage.app import create_app
from visage.config import Settings
from visage.core.db import Database
from visage.core.ratelimit import REDIS_KEY_PREFIX, REDIS_RETRY_SECONDS

LIMIT = 1000


@pytest.fixture
def throw_away_redis() -> Iterator[ThrowAwayRedis]:
    server = ThrowAwayRedis()
    server.start()
    yield server
    server.kill()


def _counted_in_redis(server: ThrowAwayRedis) -> int:
    client = redis.Redis.from_url(server.url)
    return sum(int(client.get(key) or 0) for key in client.scan_iter(f"{REDIS_KEY_PREFIX}*"))


@pytest.mark.slow
def test_limits_fall_back_in_process_and_return_to_redis(
    settings: Settings,
    database: Database,
    throw_away_redis: ThrowAwayRedis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = create_app(
        settings.model_copy(
            update={"redis_url": throw_away_redis.url, "rate_limit_per_minute": LIMIT}
        ),
        prewarm=False,
    )
    client = TestClient(app)
    assert client.get("/").status_code == 200
    assert _counted_in_redis(throw_away_redis) == 1

    throw_away_redis.kill()
    with caplog.at_level(logging.WARNING, logger="visage.core.ratelimit"):
        answers = [client.get("/") for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    # Counted in process meanwhile (from zero: this replica never saw Redis' count).
    assert [int(a.headers["X-RateLimit-Remaining"]) for a in answers] == [
        LIMIT - n for n in (1, 2, 3)
    ]
    assert any("counted in process" in record.getMessage() for record in caplog.records)
    health = client.get("/health").json()
    assert health["warnings"] == ["redis"]
    assert "unreachable" in health["components"]["redis"]["detail"]
    assert health["components"]["redis"]["ok"] is True  # fail-soft: named, not fatal

    throw_away_redis.start()
    time.sleep(REDIS_RETRY_SECONDS + 0.5)
    client.get("/")
    assert _counted_in_redis(throw_away_redis) == 1  # a fresh Redis counts again
    assert "warnings" not in client.get("/health").json()
    del database
