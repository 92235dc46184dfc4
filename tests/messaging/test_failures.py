"""WAHA down: messages stay queued, /health/waha is 503, and they go out once each when it is
back. A worker killed during the send: the message becomes `unknown`, never sent twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import text

from tests.contracts.waha import WahaContract
from tests.messaging.conftest import Gym, history, message, ok, send, sent_to
from tests.polling import wait_until
from visage.config import Settings
from visage.core.db import Database
from visage.messaging.tasks import requeue_stranded


def test_waha_down_then_back(
    api: httpx.Client,
    waha: WahaContract,
    gym: Gym,
    opted_in_member: Callable[..., dict[str, Any]],
    process: Callable[[], None],
    messaging_settings: Settings,
) -> None:
    members = [opted_in_member(f"Member {i}") for i in range(2)]
    waha.stop_server()
    try:
        queued = [send(api, gym, member_id=m["id"], text="Gym closed Monday") for m in members]
        process()
        process()
        for item in queued:
            found = message(api, gym, item["id"])
            assert found["status"] == "queued"
            assert history(found) == ["queued"]
        health = api.get("/health/waha")
        assert health.status_code == 503
        assert health.json()["failing"] == ["waha"]
        assert "unreachable" in health.json()["components"]["waha"]["detail"]
        listed = ok(api.get("/api/v1/messages", params={"status": "queued"}, headers=gym.headers))
        assert {item["id"] for item in queued} <= {item["id"] for item in listed["items"]}
        refused = api.post(
            "/api/v1/messaging/sessions", json={"label": "Second"}, headers=gym.headers
        )
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "MESSAGING_006"
        assert refused.json()["error"]["details"]["component"] == "waha"
        overall = api.get("/health").json()
        assert "waha" in overall["warnings"]
        assert overall["components"]["waha"]["data"]["degraded"] is True
        assert "waha" not in overall.get("failing", [])
    finally:
        waha.start_server()
    assert ok(api.get("/health/waha"))["status"] == "ok"
    assert "waha" not in api.get("/health").json().get("warnings", [])
    time.sleep(messaging_settings.messaging_retry_seconds + 0.5)
    process()
    for member, item in zip(members, queued, strict=True):
        assert message(api, gym, item["id"])["status"] == "sent"
        assert len(sent_to(waha, member["digits"])) == 1
    time.sleep(messaging_settings.messaging_retry_seconds + 0.5)
    process()
    assert all(len(sent_to(waha, m["digits"])) == 1 for m in members)


def _worker(settings: Settings) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "WAHA_BASE_URL": settings.waha_base_url,
        "WAHA_API_KEY": settings.waha_api_key,
        "WEBHOOK_SECRET": settings.webhook_secret,
        "MESSAGING_MIN_INTERVAL_SECONDS": "0",
        "MESSAGING_RETRY_SECONDS": "1",
        "WORKER_HEARTBEAT_SECONDS": "0.5",
        "WORKER_STALLED_SECONDS": "2",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "visage", "worker", "--queue", "messaging"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_worker_killed_mid_send_does_not_send_twice(
    api: httpx.Client,
    waha: WahaContract,
    gym: Gym,
    opted_in_member: Callable[..., dict[str, Any]],
    messaging_settings: Settings,
) -> None:
    member = opted_in_member()
    waha.send_started.clear()
    waha.release_sends.clear()
    queued = send(api, gym, member_id=member["id"], text="Your membership renews tomorrow")
    doomed = _worker(messaging_settings)
    try:
        # WAHA has the request (the message is on its way to the phone): kill the worker now.
        assert waha.send_started.wait(timeout=90)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=10)
    finally:
        waha.release_sends.set()
        if doomed.poll() is None:
            doomed.kill()
    assert message(api, gym, queued["id"])["status"] == "sending"

    rescuer = _worker(messaging_settings)
    try:
        wait_until(
            lambda: message(api, gym, queued["id"])["status"] == "unknown",
            seconds=90,
            step=0.1,
            what="the rescuing worker to mark the message unknown",
        )
    finally:
        rescuer.send_signal(signal.SIGTERM)
        rescuer.wait(timeout=30)
    found = message(api, gym, queued["id"])
    assert history(found) == ["queued", "sending", "unknown"]
    assert len(sent_to(waha, member["digits"])) == 1


def test_a_message_whose_job_was_lost_is_swept_back(
    api: httpx.Client,
    waha: WahaContract,
    gym: Gym,
    opted_in_member: Callable[..., dict[str, Any]],
    process: Callable[[], None],
    database: Database,
) -> None:
    member = opted_in_member()
    queued = send(api, gym, member_id=member["id"], text="Lost and found")
    with database.session() as session:  # the job vanished, ten minutes ago
        session.execute(
            text(
                "DELETE FROM procrastinate_jobs WHERE task_name = 'messaging.send_message' "
                "AND args->>'message_id' = :id"
            ),
            {"id": queued["id"]},
        )
        session.execute(
            text("UPDATE messages SET updated_at = now() - interval '10 minutes' WHERE id = :id"),
            {"id": queued["id"]},
        )
    requeue_stranded(timestamp=0)
    process()
    assert message(api, gym, queued["id"])["status"] == "sent"
    assert len(sent_to(waha, member["digits"])) == 1
