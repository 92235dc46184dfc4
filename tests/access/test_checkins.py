"""Check-ins against the real database, through staff (manual) check-in: every membership
reason, the repeat window, visit packs, the record of each attempt, listing, CSV and stats."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.access.conftest import Gym
from visage.config import Settings
from visage.identity.models import AuditEvent, Role


def today() -> date:
    # The test tenants keep UTC (no opening hours set).
    return datetime.now(UTC).date()


def test_each_membership_reason_reaches_the_door(gym: Gym) -> None:
    unlimited = gym.add_plan()
    yesterday, tomorrow = today() - timedelta(days=1), today() + timedelta(days=1)
    cases = {
        "GRANTED": {},
        "EXPIRED": {"starts_on": str(today() - timedelta(days=30)), "ends_on": str(yesterday)},
        "OVERDUE": {"payment_status": "overdue"},
        "NO_MEMBERSHIP": {"starts_on": str(tomorrow)},
    }
    for reason, fields in cases.items():
        member = gym.add_member(reason.title())
        gym.sell(member, unlimited, **fields)
        result = gym.check_in(member)
        assert (result["reason"], result["allowed"]) == (reason, reason == "GRANTED")
        assert result["member"]["id"] == str(member)

    inactive = gym.add_member("Inactive")
    gym.sell(inactive, unlimited)
    response = gym.client.patch(
        f"/api/v1/members/{inactive}", json={"is_active": False}, headers=gym.headers
    )
    assert response.status_code == 200, response.text
    assert gym.check_in(inactive)["reason"] == "NO_MEMBERSHIP"

    lapsed = gym.add_member("Lapsed")
    gym.sell(lapsed, unlimited, payment_status="lapsed")
    assert gym.check_in(lapsed)["reason"] == "EXPIRED"
    assert gym.check_in(gym.add_member("Nobody"))["reason"] == "NO_MEMBERSHIP"


def test_frozen_membership_is_refused_until_unfrozen(gym: Gym) -> None:
    member = gym.add_member()
    membership = gym.sell(member, gym.add_plan())
    path = f"/members/{member}/memberships/{membership['id']}"
    frozen = gym.post(f"{path}/freeze", {"reason": "holiday"})
    assert frozen["status_today"] == "FROZEN"
    assert gym.check_in(member)["reason"] == "FROZEN"
    gym.post(f"{path}/freeze", {}, expect=409)  # already frozen

    unfrozen = gym.post(f"{path}/unfreeze")
    assert unfrozen["freezes"] == []  # a freeze that started today is simply cancelled
    assert gym.check_in(member)["reason"] == "GRANTED"
    gym.post(f"{path}/unfreeze", expect=409)


def test_staff_hold_stops_the_member_and_is_audited(gym: Gym) -> None:
    member = gym.add_member()
    held = gym.sell(member, gym.add_plan())
    gym.sell(member, gym.add_plan())  # a second valid membership does not walk around it
    path = f"/members/{member}/memberships/{held['id']}"
    assert gym.post(f"{path}/hold", {"reason": "talk to the manager"})["on_hold"]
    result = gym.check_in(member)
    assert result["reason"] == "STAFF_HOLD"
    assert "manager" not in result["message"]  # the kiosk never shows why
    assert not gym.post(f"{path}/release")["on_hold"]
    assert gym.check_in(member)["allowed"]
    with gym.database.session() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.target_id == held["id"])
        ).all()
    assert {"membership.hold", "membership.released"} <= set(actions)


def test_visit_pack_is_used_once_per_visit_and_then_refused(
    gym: Gym, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = gym.add_member()
    membership = gym.sell(member, gym.add_plan("visit_pack", visits=2))
    assert membership["visits_remaining"] == 2

    first = gym.check_in(member)
    assert (first["reason"], first["visits_remaining"], first["repeat"]) == ("GRANTED", 1, False)
    repeat = gym.check_in(member)  # within the window: the same visit
    assert (repeat["reason"], repeat["visits_remaining"], repeat["repeat"]) == ("GRANTED", 1, True)

    monkeypatch.setattr(settings, "checkin_repeat_window_minutes", 0)
    assert gym.check_in(member)["visits_remaining"] == 0
    assert gym.check_in(member)["reason"] == "NO_VISITS_LEFT"
    stored = gym.get(f"/members/{member}/memberships/{membership['id']}")
    assert stored["visits_remaining"] == 0
    assert stored["status_today"] == "NO_VISITS_LEFT"


def test_repeat_within_the_window_does_not_count_a_second_visit(gym: Gym) -> None:
    member = gym.add_member()
    gym.sell(member, gym.add_plan())
    first, second = gym.check_in(member), gym.check_in(member)
    assert first["allowed"]
    assert second["allowed"]
    rows = {row["id"]: row for row in gym.get("/checkins", member_id=str(member))["items"]}
    assert rows[first["checkin_id"]]["counted"] is True
    assert rows[second["checkin_id"]]["counted"] is False
    assert gym.get("/checkins/stats")["visits"] == 1


def test_every_attempt_is_recorded_with_its_source_and_manual_ones_are_audited(
    gym: Gym,
) -> None:
    member = gym.add_member()
    result = gym.check_in(member)  # refused: no membership; still recorded
    page = gym.get("/checkins")
    assert page["total"] == 1
    row = page["items"][0]
    assert row["id"] == result["checkin_id"]
    assert (row["source"], row["allowed"], row["reason"]) == ("manual", False, "NO_MEMBERSHIP")
    assert row["user_id"] == str(gym.owner.id)
    assert row["device_id"] is None
    assert row["member_name"] == "Ada Member"
    with gym.database.session() as session:
        event = session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "checkin.manual", AuditEvent.target_id == str(member)
            )
        )
    assert event is not None
    assert event.details["checkin_id"] == result["checkin_id"]


def test_other_tenants_members_cannot_be_checked_in(make_gym: Callable[[], Gym]) -> None:
    ours, theirs = make_gym(), make_gym()
    member = theirs.add_member()
    error = ours.check_in(member, expect=404)
    assert error["error"]["code"] == "NOT_FOUND"
    assert ours.get("/checkins")["total"] == 0
    assert theirs.get("/checkins")["total"] == 0
    ours.get(f"/members/{member}/memberships", expect=404)


def test_roles_kiosks_and_members_cannot_use_the_front_desk(
    gym: Gym, make_user: Callable[..., object], auth_headers: Callable[..., dict[str, str]]
) -> None:
    member = gym.add_member()
    kiosk = gym.add_device()
    response = gym.client.post(
        "/api/v1/checkins/manual", json={"member_id": str(member)}, headers=kiosk
    )
    assert response.status_code == 403
    assert gym.client.get("/api/v1/checkins", headers=kiosk).status_code == 403
    photographer = auth_headers(make_user(gym.tenant, Role.PHOTOGRAPHER))
    assert gym.client.get("/api/v1/checkins", headers=photographer).status_code == 403
    staff = auth_headers(make_user(gym.tenant, Role.STAFF))
    response = gym.client.post(
        "/api/v1/checkins/manual", json={"member_id": str(member)}, headers=staff
    )
    assert response.status_code == 200


def test_list_filters_paging_and_csv(gym: Gym) -> None:
    granted, refused = gym.add_member("Grace Granted"), gym.add_member("=cmd|' /C calc'!A0")
    gym.sell(granted, gym.add_plan())
    gym.check_in(granted)
    gym.check_in(refused)
    gym.check_in(refused)

    assert gym.get("/checkins")["total"] == 3
    assert gym.get("/checkins", allowed="true")["total"] == 1
    assert gym.get("/checkins", reason="NO_MEMBERSHIP")["total"] == 2
    assert gym.get("/checkins", member_id=str(granted))["total"] == 1
    assert gym.get("/checkins", since=str(today() + timedelta(days=1)))["total"] == 0
    assert gym.get("/checkins", until=str(today()))["total"] == 3
    second_page = gym.get("/checkins", page=2, page_size=2)
    assert (second_page["total"], len(second_page["items"])) == (3, 1)
    gym.get("/checkins", reason="MAYBE", expect=422)

    for path, params in (("/checkins", {"format": "csv"}), ("/checkins/export.csv", {})):
        response = gym.client.get(
            f"/api/v1{path}", params={"allowed": "false", **params}, headers=gym.headers
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert len(rows) == 2
        assert {row["reason"] for row in rows} == {"NO_MEMBERSHIP"}
        # A name that looks like a formula stays text in a spreadsheet.
        assert all(row["member_name"].startswith("'=") for row in rows)


def test_stats_count_visits_inside_and_denials(gym: Gym) -> None:
    regulars = [gym.add_member(f"Regular {n}") for n in range(3)]
    plan = gym.add_plan()
    for member in regulars:
        gym.sell(member, plan)
        gym.check_in(member)
    gym.check_in(regulars[0])  # a repeat: neither a visit nor a second person inside
    gym.check_in(gym.add_member("Stranger"))

    stats = gym.get("/checkins/stats")
    assert stats["attempts"] == 5
    assert stats["visits"] == 3
    assert stats["currently_inside"] == 3
    assert stats["denied_by_reason"] == {"NO_MEMBERSHIP": 1}
    assert len(stats["visits_per_day"]) == 30
    assert stats["visits_per_day"][-1]["date"] == str(today())
    # (Sums, not single buckets: the test may run across the turn of an hour.)
    assert sum(day["visits"] for day in stats["visits_per_day"][-2:]) == 3
    assert len(stats["visits_per_hour"]) == 24
    assert sum(hour["visits"] for hour in stats["visits_per_hour"]) == 3
    assert sum(hour["visits"] for hour in stats["peak_hours"]) == 3

    yesterday = str(today() - timedelta(days=1))
    assert gym.get("/checkins/stats", since=yesterday, until=yesterday)["visits"] == 0
    gym.get("/checkins/stats", since=str(today()), until=yesterday, expect=422)


def test_staff_can_override_a_refusal_with_a_reason(gym: Gym) -> None:
    member = gym.add_member()
    pack = gym.sell(member, gym.add_plan("visit_pack", visits=1), visits_remaining=0)
    body = {"member_id": str(member), "override": "paid for a day pass at the desk"}
    result = gym.post("/checkins/manual", body)
    assert (result["allowed"], result["reason"]) == (True, "GRANTED")
    assert result["overridden_reason"] == "NO_VISITS_LEFT"
    assert result["visits_remaining"] is None  # let in on no membership: nothing spent

    row = gym.get("/checkins", member_id=str(member))["items"][0]
    assert (row["overridden_reason"], row["note"], row["counted"]) == (
        "NO_VISITS_LEFT",
        "paid for a day pass at the desk",
        True,
    )
    assert gym.get(f"/members/{member}/memberships/{pack['id']}")["visits_remaining"] == 0
    with gym.database.session() as session:
        event = session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "checkin.manual", AuditEvent.target_id == str(member)
            )
        )
    assert event is not None
    assert event.details["overridden_reason"] == "NO_VISITS_LEFT"
    assert event.details["note"] == "paid for a day pass at the desk"
    gym.post("/checkins/manual", {"member_id": str(member), "override": ""}, expect=422)
