"""Face + PIN at the door, through the API with the real face pipeline: the face narrows the
gym to a few members, the PIN decides among them; wrong PINs are refused, audited and
rate-limited per candidate and per kiosk; the name is given only once the PIN matched."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from tests.access.conftest import Gym
from tests.access.test_kiosk import enroll
from tests.images import face_bytes
from visage.access import pins
from visage.access.models import MemberPin
from visage.config import Settings
from visage.core.errors import RateLimited
from visage.identity.models import AuditEvent
from visage.identity.principal import Principal


def checkin(gym: Gym, kiosk: dict[str, str], pin: str | None = None) -> Any:
    data = {"pin": pin} if pin is not None else {}
    files = {"image": ("frame.jpg", face_bytes("obama3.jpg"), "image/jpeg")}
    return gym.client.post("/api/v1/checkins", headers=kiosk, files=files, data=data)


def set_pin(gym: Gym, member_id: uuid.UUID, pin: str, expect: int = 204) -> None:
    response = gym.client.put(
        f"/api/v1/members/{member_id}/pin", json={"pin": pin}, headers=gym.headers
    )
    assert response.status_code == expect, response.text


def kiosk_mode(gym: Gym, mode: str) -> dict[str, Any]:
    response = gym.client.put(
        "/api/v1/faces/settings", json={"kiosk_mode": mode}, headers=gym.headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="module")
def twins(make_gym: Callable[[], Gym]) -> tuple[Gym, uuid.UUID, uuid.UUID]:
    """Two members the face cannot tell apart (the same photo), each with a PIN and a plan."""
    gym = make_gym()
    plan = gym.add_plan("unlimited")
    first = enroll(gym, "Obama One", "obama.jpg")
    second = enroll(gym, "Obama Two", "obama.jpg")
    for member_id, pin in ((first, "1234"), (second, "567890")):
        gym.sell(member_id, plan)
        set_pin(gym, member_id, pin)
    return gym, first, second


def test_the_pin_decides_between_members_the_face_cannot_tell_apart(
    twins: tuple[Gym, uuid.UUID, uuid.UUID],
) -> None:
    gym, _, second = twins
    settings = kiosk_mode(gym, "face_then_pin")
    assert settings["effective_kiosk_mode"] == "face_then_pin"
    kiosk = gym.add_device()

    asked = checkin(gym, kiosk).json()
    assert (asked["allowed"], asked["reason"], asked["member"]) == (False, "PIN_REQUIRED", None)
    assert asked["message"] == "Enter your PIN"

    welcomed = checkin(gym, kiosk, "567890").json()
    assert (welcomed["allowed"], welcomed["reason"]) == (True, "GRANTED")
    assert welcomed["member"] == {"id": str(second), "full_name": "Obama Two"}

    wrong = checkin(gym, kiosk, "000000").json()
    assert (wrong["allowed"], wrong["reason"], wrong["member"]) == (False, "WRONG_PIN", None)
    with gym.database.session() as session:
        audited = session.scalars(
            select(AuditEvent).where(
                AuditEvent.tenant_id == gym.tenant.id, AuditEvent.action == "checkin.wrong_pin"
            )
        ).all()
    assert len(audited) == 1
    assert "000000" not in str(audited[0].details)


def test_face_and_pin_asks_even_a_clearly_recognized_member(
    make_gym: Callable[[], Gym],
) -> None:
    gym = make_gym()
    member_id = enroll(gym, "Barack Obama", "obama.jpg")
    gym.sell(member_id, gym.add_plan("unlimited"))
    kiosk = gym.add_device()
    # Without a PIN on file the default mode lets the face alone decide.
    assert checkin(gym, kiosk).json()["reason"] == "GRANTED"
    set_pin(gym, member_id, "4321")
    kiosk_mode(gym, "face_and_pin")
    assert checkin(gym, kiosk).json()["reason"] == "PIN_REQUIRED"
    assert checkin(gym, kiosk, "4321").json()["member"]["full_name"] == "Barack Obama"
    kiosk_mode(gym, "face")
    assert checkin(gym, kiosk).json()["allowed"] is True


def test_pins_are_four_to_six_digits_and_stored_as_argon2(
    twins: tuple[Gym, uuid.UUID, uuid.UUID],
) -> None:
    gym, first, _ = twins
    for bad in ("123", "1234567", "12a4", ""):
        set_pin(gym, first, bad, expect=422)
    set_pin(gym, uuid.uuid4(), "1234", expect=404)
    with gym.database.session() as session:
        stored = session.get(MemberPin, first)
        assert stored is not None
        assert stored.pin_hash.startswith("$argon2id$")
    refused = checkin(gym, gym.add_device(), "12")
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "VALIDATION_ERROR")


def test_wrong_pins_lock_the_candidates_then_the_kiosk(
    make_gym: Callable[[], Gym], settings: Settings
) -> None:
    gym = make_gym()
    plan = gym.add_plan("unlimited")
    first = enroll(gym, "Obama One", "obama.jpg")
    second = enroll(gym, "Obama Two", "obama.jpg")
    for member_id in (first, second):
        gym.sell(member_id, plan)
        set_pin(gym, member_id, "2468")
    kiosk = gym.add_device()
    for _ in range(settings.pin_max_failures_per_member):
        assert checkin(gym, kiosk, "1111").json()["reason"] == "WRONG_PIN"
    locked = checkin(gym, kiosk, "2468")  # even the right PIN waits now
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "RATE_LIMITED"
    assert int(locked.headers["Retry-After"]) > 0

    # Per kiosk: a device that tried too many PINs on anyone is stopped as well.
    with gym.database.session() as session:
        device = session.scalar(
            select(AuditEvent.actor_id).where(
                AuditEvent.tenant_id == gym.tenant.id, AuditEvent.action == "checkin.wrong_pin"
            )
        )
    assert device is not None
    strict = settings.model_copy(
        update={"pin_max_failures_per_member": 100, "pin_max_failures_per_kiosk": 2}
    )
    kiosk_principal = Principal(
        kind="device", id=uuid.UUID(str(device)), tenant_id=gym.principal.tenant_id, role=None
    )
    with gym.database.session() as session:
        hashes = pins.pin_hashes(session, gym.tenant.id, [first])
        with pytest.raises(RateLimited):
            pins.check_pin(session, strict, kiosk_principal, hashes, "2468")


def test_the_settings_say_what_the_gallery_size_costs_in_words(
    twins: tuple[Gym, uuid.UUID, uuid.UUID],
) -> None:
    gym, _, _ = twins
    strict = kiosk_mode(gym, "face")
    assert strict["gallery_size"] == 2
    assert strict["effective_fpir_target"] == 0.001
    assert strict["summary"].startswith(
        "At 2 members, face alone: about 1 wrong entry in 1,000 strangers, "
    )
    assert set(strict["expected"]) == {"face", "face_then_pin", "face_and_pin"}
    assert strict["expected"]["face"]["fpir"] <= 0.001
    response = gym.client.put(
        "/api/v1/faces/settings",
        json={"kiosk_mode": "face_then_pin", "fpir_target": 0.01},
        headers=gym.headers,
    )
    loose = response.json()
    # A looser target buys a wider acceptance distance (and says so).
    assert loose["effective_tolerance"] > strict["effective_tolerance"]
    assert "about 1 wrong entry in 100 strangers" in loose["summary"]
    assert "With face then pin (this kiosk's mode)" in loose["summary"]
    bad = gym.client.put(
        "/api/v1/faces/settings", json={"kiosk_mode": "retina"}, headers=gym.headers
    )
    assert bad.status_code == 422
    kiosk_mode(gym, "face_then_pin")
