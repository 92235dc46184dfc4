"""The AllIN guide's health routes answer in the guide's shape."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient


def test_api_health_has_the_guides_shape(client: TestClient) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["services"]) == {"database", "redis", "ai_services", "social_apis"}
    assert body["services"]["database"] == "connected"
    assert body["services"]["ai_services"] in {"available", "templates_only"}
    assert datetime.fromisoformat(body["timestamp"])
    assert isinstance(body["uptime"], int)
    assert body["uptime"] >= 0


def test_api_health_database(client: TestClient) -> None:
    body = client.get("/api/health/database").json()
    assert body["status"] == "ok"
    assert body["database"] == "connected"


def test_api_health_external_apis_probes_the_configured_platforms(
    client: TestClient, x_api: str
) -> None:
    del x_api
    body = client.get("/api/health/external-apis").json()
    assert body["services"]["x"]["status"] == "operational"
    assert "uptime" in body
