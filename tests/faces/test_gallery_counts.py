"""The gallery's size the 1:N decision depends on: kept on the tenant's face settings row by
every enrollment and erasure, read by a kiosk frame instead of counting the templates."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from sqlalchemy import event, func, select, text

from tests.faces.conftest import Gym
from tests.images import face_bytes
from visage.core.db import Database
from visage.core.images import ImageLimits, decode_image
from visage.faces import service
from visage.faces.calibration.model import shipped_score_model
from visage.faces.models import FaceTemplate, TenantFaceSettings
from visage.faces.tenant_settings import recount_gallery
from visage.identity.models import Tenant
from visage.members.models import Member


def gallery_seen_by_identify(gym: Gym) -> tuple[int, float]:
    """The gallery size and acceptance distance a frame of Obama is decided with."""
    response = gym.identify(face_bytes("obama3.jpg"))
    assert response.status_code == 200, response.text
    body = response.json()
    return body["gallery_size"], body["threshold"]


def calibrated(size: int) -> Any:
    return pytest.approx(shipped_score_model().acceptance_distance(size, 0.001), abs=1e-3)


def test_enrolling_and_erasing_change_the_gallery_the_decision_uses(
    make_gym: Callable[[], Gym],
) -> None:
    gym = make_gym()
    obama = gym.new_member("Barack Obama")
    assert gym.enroll(obama, "obama.jpg").status_code == 201
    assert gallery_seen_by_identify(gym) == (1, calibrated(1))
    assert gym.enroll(obama, "obama2.jpg").status_code == 201  # a second face, same member
    assert gallery_seen_by_identify(gym) == (1, calibrated(1))

    biden, hopper = gym.new_member("Joe Biden"), gym.new_member("Grace Hopper")
    assert gym.enroll(biden, "biden.jpg").status_code == 201
    assert gym.enroll(hopper, "hopper.jpg").status_code == 201
    assert gallery_seen_by_identify(gym) == (3, calibrated(3))
    assert gym.get("/faces/settings").json()["gallery_size"] == 3

    assert gym.delete(f"/members/{biden}/faces").json() == {"templates_erased": 1}
    assert gallery_seen_by_identify(gym) == (2, calibrated(2))
    assert gym.delete(f"/members/{hopper}").status_code == 204
    assert gallery_seen_by_identify(gym) == (1, calibrated(1))
    assert gym.delete(f"/members/{obama}/consent").json() == {"templates_erased": 2}
    assert gym.get("/faces/settings").json()["gallery_size"] == 0


@contextmanager
def statements_run(database: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(database.engine, "before_cursor_execute", record)


def test_a_kiosk_frame_reads_the_gallery_size_without_counting_templates(
    make_gym: Callable[[], Gym], database: Database
) -> None:
    gym = make_gym()
    assert gym.enroll(gym.new_member("Barack Obama"), "obama.jpg").status_code == 201
    frame = decode_image(face_bytes("obama3.jpg"), ImageLimits(10**8, 10**8))
    with database.session() as session, statements_run(database) as statements:
        identified = service.identify_image(session, gym.tenant.id, frame)
    assert identified.outcome == "MATCH"
    assert identified.point is not None
    assert identified.point.gallery_size == 1
    searches = [s for s in statements if "face_templates" in s]
    assert searches  # the vector search ran, and nothing counted the templates
    assert all("count(" not in s.lower() for s in searches)


def add_template(session: Any, tenant_id: uuid.UUID) -> None:
    member = Member(tenant_id=tenant_id, full_name="Concurrent")
    session.add(member)
    session.flush()
    session.add(
        FaceTemplate(
            tenant_id=tenant_id,
            member_id=member.id,
            embedding=np.full(128, 0.05, dtype=np.float32),
            sharpness=100.0,
            face_width=120,
            detection_score=1.0,
        )
    )
    session.flush()


def waiting_for_a_lock(database: Database) -> bool:
    with database.engine.connect() as connection:
        waiting = connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE '%tenant_face_settings%'"
            )
        )
    return bool(waiting)


def test_two_enrollments_at_once_are_both_counted(
    database: Database, make_tenant: Callable[..., Tenant]
) -> None:
    tenant = make_tenant()
    first_done = threading.Event()
    failures: list[BaseException] = []

    def second_enrollment() -> None:
        try:
            with database.session() as session:
                add_template(session, tenant.id)
                recount_gallery(session, [tenant.id])  # waits for the first to commit
        except BaseException as error:  # reported by the test thread below
            failures.append(error)
        first_done.set()

    with database.session() as session:
        add_template(session, tenant.id)
        recount_gallery(session, [tenant.id])
        second = threading.Thread(target=second_enrollment)
        second.start()
        for _ in range(200):  # until the second transaction waits on the settings row
            if waiting_for_a_lock(database) or first_done.is_set():
                break
            first_done.wait(0.05)
        assert not first_done.is_set(), f"the second recount did not wait: {failures}"
    second.join()
    assert failures == []
    with database.session() as session:
        row = session.get(TenantFaceSettings, tenant.id)
        assert row is not None
        assert (row.enrolled_members, row.enrolled_templates) == (2, 2)
        templates = select(func.count()).where(FaceTemplate.tenant_id == tenant.id)
        assert session.scalar(templates) == 2
