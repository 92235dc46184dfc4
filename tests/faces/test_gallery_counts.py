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
from alembic import command
from sqlalchemy import create_engine, event, func, make_url, select, text
from sqlalchemy.orm import Session

from tests.faces.conftest import Gym
from tests.guides.databases import scratch_database
from tests.images import face_bytes
from visage.config import Settings
from visage.core.db import Database
from visage.core.images import ImageLimits, decode_image
from visage.core.migrations import alembic_config
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


def add_template(session: Session, tenant_id: uuid.UUID, faces: int = 1) -> None:
    """A member with `faces` templates, written directly (no recount)."""
    member = Member(tenant_id=tenant_id, full_name="Written directly")
    session.add(member)
    session.flush()
    for _ in range(faces):
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


def test_the_migration_counts_the_galleries_enrolled_before_it(
    database: Database, settings: Settings
) -> None:
    del database  # the embedded server runs
    with scratch_database(settings, revision="0018_billing_action_required") as url:
        engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
        tuned, untouched, without_faces = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        try:
            with Session(engine) as session, session.begin():
                for tenant_id in (tuned, untouched, without_faces):
                    session.add(Tenant(id=tenant_id, name="Gym", slug=f"gym-{tenant_id.hex}"))
                session.flush()
                add_template(session, tuned, faces=2)
                add_template(session, tuned)
                add_template(session, untouched)
            with engine.begin() as connection:
                connection.execute(
                    text(
                        "INSERT INTO tenant_face_settings "
                        "(tenant_id, recognition_tolerance, retention_days) VALUES (:id, 0.5, 30)"
                    ),
                    {"id": tuned},
                )
                config = alembic_config()
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
            with engine.connect() as connection:
                rows = connection.execute(
                    text(
                        "SELECT tenant_id, recognition_tolerance, retention_days, "
                        "enrolled_members, enrolled_templates FROM tenant_face_settings"
                    )
                ).all()
        finally:
            engine.dispose()
    assert {row[0]: tuple(row[1:]) for row in rows} == {
        tuned: (0.5, 30, 2, 3),
        untouched: (None, 3 * 365, 1, 1),
    }
