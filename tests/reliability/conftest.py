"""Apps under a real rate limit (the suite's own client has it lifted), sharing the session's
database; no lifespan is run, so the session's database stays installed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from visage.app import create_app
from visage.config import Settings
from visage.core.db import Database


@pytest.fixture
def limited_client(settings: Settings, database: Database) -> Callable[..., TestClient]:
    """`limited_client(limit, peer="10.0.0.1", **settings)`: a fresh app (fresh counters) whose
    requests come from `peer`."""

    def factory(limit: int, peer: str = "10.0.0.1", **overrides: Any) -> TestClient:
        app = create_app(
            settings.model_copy(update={"rate_limit_per_minute": limit, **overrides}),
            prewarm=False,
        )
        return TestClient(app, client=(peer, 40000))

    del database  # requested so the session's database is installed
    return factory
