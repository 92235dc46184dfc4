"""PostgreSQL restarted under load: while it is down every request gets a quick 503
`SERVICE_UNAVAILABLE` naming the database (never a 500, never a hang), the service recovers by
itself, and every check-in answered 200 before the outage is still stored after it."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter

import httpx
import pytest
from sqlalchemy import select

from tests.polling import wait_until
from tests.reliability.conftest import ExternalSite
from visage.access.models import Checkin
from visage.core.live_server import serve_in_thread

CLIENTS = 4
CLIENT_TIMEOUT_SECONDS = 15  # past the pool's 10 s wait: a request hanging longer is a failure
OUTAGE_SECONDS = 3


@pytest.mark.slow
def test_postgres_restart_under_load(external_site: ExternalSite) -> None:
    stored: list[uuid.UUID] = []
    answers: Counter[tuple[int, str]] = Counter()
    hung: list[str] = []
    stop = threading.Event()
    body = {"member_id": str(external_site.member_id)}

    def front_desk(base_url: str) -> None:
        with httpx.Client(base_url=base_url, timeout=CLIENT_TIMEOUT_SECONDS) as http:
            while not stop.is_set():
                try:
                    response = http.post(
                        "/api/v1/checkins/manual", json=body, headers=external_site.owner_headers
                    )
                except httpx.HTTPError as error:
                    hung.append(repr(error))
                    continue
                if response.status_code == 200:
                    stored.append(uuid.UUID(response.json()["checkin_id"]))
                    answers[(200, "")] += 1
                else:
                    error_body = response.json()["error"]
                    answers[(response.status_code, str(error_body.get("details")))] += 1
                    time.sleep(0.1)

    with serve_in_thread(external_site.app()) as base_url:
        desks = [threading.Thread(target=front_desk, args=(base_url,)) for _ in range(CLIENTS)]
        for desk in desks:
            desk.start()
        time.sleep(2)
        answered_before = len(stored)
        external_site.postgres.stop("fast")
        time.sleep(OUTAGE_SECONDS)
        during = sum(n for (status, _), n in answers.items() if status == 503)
        external_site.postgres.start()
        answered_then = len(stored)
        try:
            wait_until(
                lambda: len(stored) > answered_then + CLIENTS,
                seconds=30,
                step=0.2,
                what="a check-in to succeed after the database came back",
            )
        finally:
            stop.set()
            for desk in desks:
                desk.join()

    assert answered_before > 0
    assert during > 0, "no request reached the service while the database was down"
    assert not hung
    unexpected = {key: n for key, n in answers.items() if key[0] not in (200, 503)}
    assert not unexpected
    assert all("database" in details for (status, details) in answers if status == 503)
    with external_site.database.session() as session:
        kept = set(session.scalars(select(Checkin.id).where(Checkin.id.in_(stored))))
    assert kept == set(stored)
