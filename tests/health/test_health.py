from fastapi.testclient import TestClient

from visage import __version__
from visage.config import Settings


def test_root_says_running_with_version(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.json() == {"message": "API is running", "version": __version__}


def test_health_all_components_green(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["components"]["database"]["data"]["vector_extension"] is True
    assert body["components"]["model"]["data"]["backend"] == "onnx"  # the default engine


def test_every_response_has_request_id_and_nosniff(client: TestClient) -> None:
    response = client.get("/does-not-exist")
    assert response.status_code == 404
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = response.json()
    assert body["error"]["code"] == "NOT_FOUND"
    assert body["error"]["request_id"] == response.headers["X-Request-ID"]


def test_logs_go_to_the_data_dir(client: TestClient, settings: Settings) -> None:
    client.get("/")
    assert (settings.log_dir / "app.log").stat().st_size > 0
