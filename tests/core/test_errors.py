"""One error shape everywhere: validation, app errors, unexpected errors."""

import json
import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from visage.app import create_app
from visage.config import Settings
from visage.core.errors import Conflict
from visage.core.logging import (
    ContextFilter,
    JsonFormatter,
    bind_log_context,
    end_log_context,
    start_log_context,
)


class Payload(BaseModel):
    name: str = Field(min_length=1)
    age: int


def _app_with_probe_routes(settings: Settings) -> FastAPI:
    app = create_app(settings, prewarm=False)

    @app.post("/probe/validate")
    def validate(payload: Payload) -> dict[str, str]:
        return {"name": payload.name}

    @app.get("/probe/conflict")
    def conflict() -> None:
        raise Conflict("Already there.", details={"field": "slug"})

    @app.get("/probe/crash")
    def crash() -> None:
        raise RuntimeError("secret internal detail")

    return app


@pytest.fixture(scope="module")
def probe(settings: Settings) -> TestClient:
    # No lifespan needed: these routes touch neither the database nor the model.
    return TestClient(_app_with_probe_routes(settings), raise_server_exceptions=False)


def test_validation_error_lists_field_paths(probe: TestClient) -> None:
    response = probe.post("/probe/validate", json={"name": "", "age": "old"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert {item["field"] for item in error["details"]} == {"body.name", "body.age"}


def test_malformed_json_is_a_clear_4xx(probe: TestClient) -> None:
    response = probe.post(
        "/probe/validate", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_app_error_keeps_code_message_details(probe: TestClient) -> None:
    response = probe.get("/probe/conflict", headers={"X-Request-ID": "abc-123"})
    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "CONFLICT",
            "message": "Already there.",
            "details": {"field": "slug"},
            "request_id": "abc-123",
        }
    }
    assert response.headers["X-Request-ID"] == "abc-123"


def test_unexpected_error_is_500_with_request_id_and_no_internals(probe: TestClient) -> None:
    response = probe.get("/probe/crash")
    assert response.status_code == 500
    body = response.json()
    assert body["error"]["code"] == "INTERNAL_ERROR"
    assert body["error"]["request_id"] == response.headers["X-Request-ID"]
    assert "secret internal detail" not in response.text
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_debug_shows_the_exception(settings: Settings) -> None:
    app = _app_with_probe_routes(settings.model_copy(update={"debug": True}))
    response = TestClient(app, raise_server_exceptions=False).get("/probe/crash")
    assert "secret internal detail" in response.json()["error"]["details"]["exception"]


def test_method_not_allowed_uses_the_error_shape(probe: TestClient) -> None:
    response = probe.delete("/probe/conflict")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


def test_production_logs_are_json_with_request_id() -> None:
    token = start_log_context("req-42")
    bind_log_context(tenant_id="t-1", user_id="u-1")
    try:
        record = logging.LogRecord("visage", logging.INFO, __file__, 1, "hello %s", ("x",), None)
        ContextFilter().filter(record)
        entry = json.loads(JsonFormatter().format(record))
    finally:
        end_log_context(token)
    assert entry["message"] == "hello x"
    assert entry["request_id"] == "req-42"
    assert (entry["tenant_id"], entry["user_id"]) == ("t-1", "u-1")
    assert entry["level"] == "INFO"


def test_metrics_count_requests_by_route_and_queue_depth(client: TestClient) -> None:
    client.get("/")
    text = client.get("/metrics").text
    assert 'visage_http_requests_total{method="GET",route="/",status="200"}' in text
    assert 'visage_job_queue_depth{status="todo"}' in text
