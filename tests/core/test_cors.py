"""CORS: origins from ALLOWED_ORIGINS_STR get credentials; any other origin gets nothing."""

from fastapi.testclient import TestClient

from visage.config import Settings


def test_listed_origin_may_send_credentials(client: TestClient, settings: Settings) -> None:
    origin = settings.allowed_origins[0]
    preflight = client.options(
        "/api/v1/auth/me",
        headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin
    assert preflight.headers["access-control-allow-credentials"] == "true"
    simple = client.get("/health", headers={"Origin": origin})
    assert simple.headers["access-control-allow-origin"] == origin
    assert "X-RateLimit-Remaining" in simple.headers["access-control-expose-headers"]


def test_unlisted_origin_gets_no_cors_headers(client: TestClient) -> None:
    origin = "https://evil.example"
    preflight = client.options(
        "/api/v1/auth/me",
        headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    simple = client.get("/health", headers={"Origin": origin})
    assert "access-control-allow-origin" not in simple.headers
    assert "access-control-allow-credentials" not in simple.headers
