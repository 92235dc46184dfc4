"""Scale-out on the existing engine: two `visage serve` API processes and two `visage worker`
processes on one PostgreSQL reached over TCP (DATABASE_URL) with REDIS_URL. The rate limit is
shared by the APIs, each photo job is done once, and a kiosk is answered by either API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
import pytest
from sqlalchemy import select

from tests.images import face_bytes
from tests.polling import wait_until
from tests.reliability.conftest import ExternalSite, enroll_member
from tests.reliability.redis_server import ThrowAwayRedis
from tests.reliability.workers import job_statuses, start_worker, stop_worker
from visage.config import Settings
from visage.core.live_server import serve_subprocess
from visage.events.models import Photo, PhotoStatus
from visage.faces.inference.engine import load_backend
from visage.identity.service import create_device

LIMIT = 30
INDEX_TASK = "events.index_photo"


@contextmanager
def api_process(env: dict[str, str]) -> Iterator[httpx.Client]:
    """An API-only `visage serve` (its workers are the test's own)."""
    with (
        serve_subprocess(workers=0, env=env, ready_path="/health/model") as served,
        httpx.Client(base_url=served.base_url, timeout=60) as client,
    ):
        yield client


@pytest.mark.slow
def test_two_apis_and_two_workers_on_one_database(
    settings: Settings, external_site: ExternalSite
) -> None:
    load_backend(settings)  # the ONNX models are converted once, before the processes start
    redis_server = ThrowAwayRedis()
    redis_server.start()
    env = {
        "DATABASE_URL": external_site.postgres.url,
        "REDIS_URL": redis_server.url,
        "RATE_LIMIT_PER_MINUTE": str(LIMIT),
        "FACE_THREADS": "1",
    }
    owner = external_site.owner_headers
    with ExitStack() as stack:
        stack.callback(redis_server.kill)
        first = stack.enter_context(api_process(env))
        second = stack.enter_context(api_process(env))
        workers = [start_worker("photos", env=env, quick_failover=False) for _ in range(2)]
        for worker in workers:
            stack.callback(stop_worker, worker)

        # A rate limit shared through Redis: anonymous calls alternate between the APIs.
        statuses = [(first, second)[i % 2].get("/").status_code for i in range(LIMIT + 2)]
        # Two limits of their own would have let all LIMIT + 2 through (half on each API); the
        # shared one refuses past LIMIT, less what the readiness probes spent of it.
        assert LIMIT - 2 <= statuses.count(200) < LIMIT
        assert statuses[-1] == 429

        # A kiosk is answered by either API.
        member = enroll_member(first, owner)
        with external_site.database.session() as session:
            _, key = create_device(session, external_site.tenant_id, "Front door")
        frame = {"image": ("frame.jpg", face_bytes("obama.jpg"), "image/jpeg")}
        for api in (first, second):
            answer = api.post("/api/v1/checkins", files=frame, headers={"X-API-Key": key})
            assert answer.status_code == 200, answer.text
            assert answer.json()["member"]["id"] == member["id"]

        # Photo jobs queued through both APIs are each done once by the two workers.
        event = first.post(
            "/api/v1/events",
            json={
                "name": "Race",
                "slug": f"race-{uuid.uuid4().hex[:6]}",
                "event_date": "2026-12-01",
            },
            headers=owner,
        ).json()
        photos = ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg")
        for index, name in enumerate(photos):
            (first, second)[index % 2].post(
                f"/api/v1/events/{event['id']}/photos",
                files=[("files", (name, face_bytes(name), "image/jpeg"))],
                headers=owner,
            )

        def indexed() -> bool:
            with external_site.database.session() as session:
                statuses = session.scalars(
                    select(Photo.status).where(Photo.event_id == uuid.UUID(event["id"]))
                ).all()
            return len(statuses) == len(photos) and all(
                status == PhotoStatus.INDEXED for status in statuses
            )

        wait_until(indexed, seconds=180, step=0.5, what="every photo indexed")
        with external_site.database.session() as session:
            photo_ids = session.scalars(
                select(Photo.id).where(Photo.event_id == uuid.UUID(event["id"]))
            ).all()
            attempts = session.scalars(
                select(Photo.index_attempts).where(Photo.event_id == uuid.UUID(event["id"]))
            ).all()
        assert list(attempts) == [1] * len(photos)
        for photo_id in photo_ids:
            statuses = job_statuses(external_site.database, INDEX_TASK, "photo_id", str(photo_id))
            assert statuses == ["succeeded"]
