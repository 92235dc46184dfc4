"""Protected templates in the database: unlinkable across tenants, rotation keeps matches,
crypto-shredding leaves nothing usable; thresholds and the two-candidates rule."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import numpy as np
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.faces.conftest import Gym
from tests.images import face_bytes
from visage.cli import app
from visage.core.db import Database
from visage.core.images import ImageLimits, decode_image
from visage.faces import service
from visage.faces.calibration.model import shipped_score_model
from visage.faces.models import FaceTemplate, TenantKey
from visage.faces.pipeline import FaceAnalysis, analyze
from visage.faces.protection import TemplateKeyError, tenant_protector

runner = CliRunner()


@pytest.fixture(scope="module")
def obama3() -> FaceAnalysis:
    """The probe, analyzed once; identification below reuses it."""
    image = decode_image(face_bytes("obama3.jpg"), ImageLimits(10**8, 10**8))
    (face,) = analyze(image.rgb, "kiosk")
    return face


def enrolled_gym(make_gym: Callable[[], Gym], *photos: str) -> tuple[Gym, list[uuid.UUID]]:
    """A gym with one member per photo, each enrolled with that photo."""
    gym = make_gym()
    members = []
    for photo in photos:
        member_id = gym.new_member(photo)
        assert gym.enroll(member_id, photo).status_code == 201
        members.append(member_id)
    return gym, members


def stored_vectors(database: Database, tenant_id: uuid.UUID) -> np.ndarray:
    with database.session() as session:
        vectors = session.scalars(
            select(FaceTemplate.embedding)
            .where(FaceTemplate.tenant_id == tenant_id)
            .order_by(FaceTemplate.id)
        )
        return np.array([np.asarray(v) for v in vectors])


def identify(database: Database, gym: Gym, face: FaceAnalysis) -> service.Identification:
    with database.session() as session:
        return service.identify_face(session, gym.tenant.id, face, top_k=2)


@pytest.fixture(scope="module")
def gym_a(make_gym: Callable[[], Gym]) -> tuple[Gym, list[uuid.UUID]]:
    return enrolled_gym(make_gym, "obama.jpg")


@pytest.fixture(scope="module")
def gym_b(make_gym: Callable[[], Gym]) -> tuple[Gym, list[uuid.UUID]]:
    return enrolled_gym(make_gym, "obama.jpg")


def test_one_face_in_two_tenants_is_unlinkable_yet_matches_in_each(
    database: Database,
    gym_a: tuple[Gym, list[uuid.UUID]],
    gym_b: tuple[Gym, list[uuid.UUID]],
    obama3: FaceAnalysis,
) -> None:
    (stored_a,) = stored_vectors(database, gym_a[0].tenant.id)
    (stored_b,) = stored_vectors(database, gym_b[0].tenant.id)
    # The same photo, stored by two tenants, is farther apart than two different people.
    assert np.linalg.norm(stored_a - stored_b) > 1.0
    for gym, members in (gym_a, gym_b):
        result = identify(database, gym, obama3)
        assert (result.outcome, result.member_id) == ("MATCH", members[0])


def test_rotation_re_transforms_and_keeps_matches(
    database: Database, make_gym: Callable[[], Gym], obama3: FaceAnalysis
) -> None:
    gym, (member_id,) = enrolled_gym(make_gym, "obama.jpg")
    before_vectors = stored_vectors(database, gym.tenant.id)
    before = identify(database, gym, obama3)

    result = runner.invoke(app, ["keys", "rotate", "--tenant", gym.tenant.slug])
    assert result.exit_code == 0, result.output
    assert "face_templates.embedding: 1 re-sealed" in result.output

    after_vectors = stored_vectors(database, gym.tenant.id)
    assert np.linalg.norm(after_vectors - before_vectors) > 1.0
    after = identify(database, gym, obama3)
    assert (after.outcome, after.member_id) == ("MATCH", member_id)
    assert after.distance == pytest.approx(before.distance, abs=1e-4)
    with database.session() as session:
        version = select(TenantKey.version).where(TenantKey.tenant_id == gym.tenant.id)
        assert session.scalar(version) == 2
    # Thumbnails were re-encrypted under the new key.
    template_id = gym.get(f"/members/{member_id}/faces").json()[0]["id"]
    assert gym.get(f"/members/{member_id}/faces/{template_id}/thumbnail").status_code == 200


def test_shredding_leaves_backups_useless(
    database: Database, gym_b: tuple[Gym, list[uuid.UUID]], obama3: FaceAnalysis
) -> None:
    gym = gym_b[0]
    refused = runner.invoke(app, ["keys", "shred", "--tenant", gym.tenant.slug])
    assert refused.exit_code == 2
    backup = stored_vectors(database, gym.tenant.id)
    with database.session() as session:
        backup_thumbnail = session.scalar(
            select(FaceTemplate.thumbnail).where(FaceTemplate.tenant_id == gym.tenant.id)
        )
    assert backup_thumbnail is not None

    result = runner.invoke(app, ["keys", "shred", "--tenant", gym.tenant.slug, "--yes"])
    assert result.exit_code == 0, result.output

    with database.session() as session:
        left = session.scalar(select(func.count()).where(FaceTemplate.tenant_id == gym.tenant.id))
        assert left == 0
        # A restored backup meets a new key: the probe lands nowhere near the old vectors ...
        probe = tenant_protector(session, gym.tenant.id).protect(obama3.embedding)
        assert np.linalg.norm(backup - probe, axis=1).min() > 2 * service.recognition_threshold(
            session, gym.tenant.id
        )
        # ... and the thumbnails cannot be opened.
        with pytest.raises(TemplateKeyError):
            tenant_protector(session, gym.tenant.id).decrypt(backup_thumbnail)
    assert identify(database, gym, obama3).outcome == "UNKNOWN_FACE"


def test_two_members_without_a_margin_are_low_confidence(
    database: Database, make_gym: Callable[[], Gym], obama3: FaceAnalysis
) -> None:
    # The same face enrolled for two members: no margin between them, no guess.
    gym, members = enrolled_gym(make_gym, "obama.jpg", "obama.jpg")
    result = identify(database, gym, obama3)
    assert result.outcome == "LOW_CONFIDENCE"
    assert result.member_id is None
    assert {c.member_id for c in result.candidates} == set(members)
    assert set(result.pin_candidates) == set(members)


def test_the_margin_rule_keeps_a_clearly_nearest_member(
    database: Database, make_gym: Callable[[], Gym], obama3: FaceAnalysis
) -> None:
    # Two members alike (two photos of one man): the nearer by more than the calibrated
    # margin wins, where "another member within 0.6" refused both.
    gym, members = enrolled_gym(make_gym, "obama.jpg", "obama2.jpg")
    result = identify(database, gym, obama3)
    first, second = result.candidates
    assert second.distance <= 0.6
    assert second.distance - first.distance >= shipped_score_model().margin
    assert (result.outcome, result.member_id) == ("MATCH", members[0])


def test_tenant_tolerance_overrides_the_default(
    database: Database,
    gym_a: tuple[Gym, list[uuid.UUID]],
    make_gym: Callable[[], Gym],
    obama3: FaceAnalysis,
) -> None:
    gym, _ = enrolled_gym(make_gym, "obama.jpg")
    defaults = gym.get("/faces/settings").json()
    calibrated = shipped_score_model().acceptance_distance(1, 0.001)
    assert {key: defaults[key] for key in ("recognition_tolerance", "retention_days")} == {
        "recognition_tolerance": None,
        "retention_days": 3 * 365,
    }
    assert defaults["effective_tolerance"] == pytest.approx(calibrated, abs=1e-3)
    assert identify(database, gym, obama3).outcome == "MATCH"
    too_long = gym.put("/faces/settings", json={"retention_days": 4 * 365})
    assert too_long.status_code == 422
    strict = gym.put("/faces/settings", json={"recognition_tolerance": 0.2, "retention_days": 30})
    assert strict.status_code == 200, strict.text
    assert strict.json()["effective_tolerance"] == 0.2
    # The same photo is now too far for this tenant (fewer false accepts, more false rejects).
    strict_result = identify(database, gym, obama3)
    # Still within the 1:1 distance, so "look again" rather than "a stranger".
    assert (strict_result.outcome, strict_result.threshold) == ("LOW_CONFIDENCE", 0.2)
    assert strict_result.member_id is None
    # Other tenants keep FACE_RECOGNITION_TOLERANCE.
    assert identify(database, gym_a[0], obama3).threshold == pytest.approx(calibrated, abs=1e-3)
