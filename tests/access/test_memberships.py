"""Plans, memberships and opening hours through the API: defaults, validation, permissions,
tenant isolation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.access.conftest import Gym
from visage.identity.models import AuditEvent, Role, User


def test_plan_terms_must_fit_their_kind(gym: Gym) -> None:
    for body in (
        {"name": "Pack", "kind": "visit_pack"},
        {"name": "Term", "kind": "fixed_term"},
        {"name": "Open", "kind": "unlimited", "duration_days": 30},
        {"name": "Mixed", "kind": "fixed_term", "duration_days": 30, "visits": 5},
        {"name": "Zero", "kind": "visit_pack", "visits": 0},
    ):
        error = gym.post("/plans", body, expect=422)
        assert error["error"]["code"] == "VALIDATION_ERROR"


def test_plan_crud_names_unique_per_tenant_and_sold_plans_are_retired_not_deleted(
    gym: Gym, make_gym: Callable[[], Gym]
) -> None:
    plan = gym.post("/plans", {"name": "Ten visits", "kind": "visit_pack", "visits": 10}, 201)
    gym.post("/plans", {"name": "TEN VISITS", "kind": "unlimited"}, expect=409)
    make_gym().post("/plans", {"name": "Ten visits", "kind": "unlimited"}, 201)  # other tenant

    renamed = gym.client.patch(
        f"/api/v1/plans/{plan['id']}", json={"name": "10 visits"}, headers=gym.headers
    ).json()
    assert renamed["name"] == "10 visits"
    gym.sell(gym.add_member(), plan)
    response = gym.client.delete(f"/api/v1/plans/{plan['id']}", headers=gym.headers)
    assert response.status_code == 409
    retired = gym.client.patch(
        f"/api/v1/plans/{plan['id']}", json={"is_active": False}, headers=gym.headers
    ).json()
    assert retired["is_active"] is False
    assert plan["id"] not in {p["id"] for p in gym.get("/plans")}
    assert plan["id"] in {p["id"] for p in gym.get("/plans", include_retired="true")}
    # A retired plan cannot be sold again.
    gym.post(f"/members/{gym.add_member()}/memberships", {"plan_id": plan["id"]}, expect=409)

    unsold = gym.add_plan()
    response = gym.client.delete(f"/api/v1/plans/{unsold['id']}", headers=gym.headers)
    assert response.status_code == 204
    gym.get(f"/plans/{unsold['id']}", expect=404)


def test_membership_defaults_come_from_the_plan(gym: Gym) -> None:
    today = datetime.now(UTC).date()
    member = gym.add_member()
    term = gym.sell(member, gym.add_plan("fixed_term", duration_days=30))
    assert term["starts_on"] == str(today)
    assert term["ends_on"] == str(today + timedelta(days=29))
    assert term["visits_remaining"] is None
    assert term["status_today"] == "GRANTED"

    pack = gym.sell(member, gym.add_plan("visit_pack", visits=5, duration_days=90))
    assert (pack["visits_remaining"], pack["ends_on"]) == (5, str(today + timedelta(days=89)))
    open_ended = gym.sell(member, gym.add_plan(), starts_on=str(today + timedelta(days=7)))
    assert open_ended["ends_on"] is None
    assert open_ended["status_today"] == "NO_MEMBERSHIP"  # not started yet
    assert len(gym.get(f"/members/{member}/memberships")) == 3


def test_membership_edits_and_their_validation(gym: Gym) -> None:
    member = gym.add_member()
    month_ago = str(datetime.now(UTC).date() - timedelta(days=30))
    unlimited = gym.sell(member, gym.add_plan(), starts_on=month_ago)
    path = f"/api/v1/members/{member}/memberships/{unlimited['id']}"

    def patch(body: dict[str, object]) -> tuple[int, dict[str, object]]:
        response = gym.client.patch(path, json=body, headers=gym.headers)
        return response.status_code, response.json()

    status, body = patch({"payment_status": "overdue"})
    assert (status, body["status_today"]) == (200, "OVERDUE")
    with gym.database.session() as session:
        audited = session.scalar(
            select(AuditEvent.details).where(
                AuditEvent.action == "membership.updated", AuditEvent.target_id == unlimited["id"]
            )
        )
    assert audited == {"payment_status": "overdue"}
    status, body = patch({"ends_on": "2000-01-01"})
    assert status == 422
    status, body = patch({"visits_remaining": 3})  # not a visit pack
    assert status == 422
    yesterday = str(datetime.now(UTC).date() - timedelta(days=1))
    status, body = patch({"payment_status": "current", "ends_on": yesterday})
    assert (status, body["status_today"]) == (200, "EXPIRED")

    error = gym.post(
        f"/members/{member}/memberships",
        {"plan_id": unlimited["plan"]["id"], "starts_on": "2026-02-01", "ends_on": "2026-01-01"},
        expect=422,
    )
    assert error["error"]["code"] == "VALIDATION_ERROR"
    assert gym.client.delete(path, headers=gym.headers).status_code == 204
    assert gym.get(f"/members/{member}/memberships") == []


def test_a_planned_freeze_and_overlaps(gym: Gym) -> None:
    member = gym.add_member()
    membership = gym.sell(member, gym.add_plan())
    path = f"/members/{member}/memberships/{membership['id']}"
    start = datetime.now(UTC).date() + timedelta(days=10)
    planned = {"starts_on": str(start), "ends_on": str(start + timedelta(days=6))}
    frozen = gym.post(f"{path}/freeze", planned)
    assert frozen["status_today"] == "GRANTED"  # not yet
    assert len(frozen["freezes"]) == 1
    overlapping = {"starts_on": str(start + timedelta(days=3))}
    assert gym.post(f"{path}/freeze", overlapping, expect=409)["error"]["code"] == "CONFLICT"
    backwards = {"starts_on": str(start), "ends_on": str(start - timedelta(days=1))}
    gym.post(f"{path}/freeze", backwards, expect=422)
    assert gym.post(f"{path}/unfreeze")["freezes"] == []  # the planned one is cancelled


def test_opening_hours_roundtrip_and_validation(gym: Gym) -> None:
    assert gym.get("/tenant/opening-hours")["always_open"] is True
    week = {
        "timezone": "Europe/Amsterdam",
        "weekly": {"monday": [{"opens": "06:00", "closes": "22:00"}]},
    }
    response = gym.client.put("/api/v1/tenant/opening-hours", json=week, headers=gym.headers)
    assert response.status_code == 200, response.text
    stored = gym.get("/tenant/opening-hours")
    assert stored["timezone"] == "Europe/Amsterdam"
    assert stored["always_open"] is False
    assert stored["weekly"]["monday"] == [{"opens": "06:00:00", "closes": "22:00:00"}]

    for bad in (
        {**week, "timezone": "Mars/Olympus"},
        {**week, "weekly": {"funday": []}},
        {**week, "weekly": {"monday": [{"opens": "25:00", "closes": "22:00"}]}},
        # Found by schemathesis: an offset made the open-now check compare aware and naive times.
        {**week, "weekly": {"monday": [{"opens": "06:00Z", "closes": "22:00+02:00"}]}},
    ):
        response = gym.client.put("/api/v1/tenant/opening-hours", json=bad, headers=gym.headers)
        assert response.status_code == 422, bad
    assert gym.client.delete("/api/v1/tenant/opening-hours", headers=gym.headers).status_code == 204
    assert gym.get("/tenant/opening-hours")["always_open"] is True


def test_staff_manage_plans_memberships_and_hours_others_do_not(
    gym: Gym,
    make_user: Callable[..., User],
    auth_headers: Callable[[User], dict[str, str]],
) -> None:
    # docs/permissions.md: `memberships:manage` = plans, memberships and opening hours.
    staff = auth_headers(make_user(gym.tenant, Role.STAFF))
    photographer = auth_headers(make_user(gym.tenant, Role.PHOTOGRAPHER))
    plan_body = {"name": "Staff deal", "kind": "unlimited"}
    hours = {"timezone": "UTC", "weekly": {}}
    for headers, allowed in ((staff, True), (photographer, False)):
        created = gym.client.post("/api/v1/plans", json=plan_body, headers=headers)
        assert created.status_code == (201 if allowed else 403)
        put = gym.client.put("/api/v1/tenant/opening-hours", json=hours, headers=headers)
        assert put.status_code == (200 if allowed else 403)
    plan = gym.add_plan()
    member = gym.add_member()
    for headers, expected in ((photographer, 403), (staff, 201)):
        response = gym.client.post(
            f"/api/v1/members/{member}/memberships", json={"plan_id": plan["id"]}, headers=headers
        )
        assert response.status_code == expected
    kiosk = gym.add_device()
    assert gym.client.get("/api/v1/plans", headers=kiosk).status_code == 403


def test_other_tenants_plans_members_and_memberships_are_not_found(
    gym: Gym, make_gym: Callable[[], Gym]
) -> None:
    other = make_gym()
    their_plan = other.add_plan()
    their_member = other.add_member()
    their_membership = other.sell(their_member, their_plan)

    gym.get(f"/plans/{their_plan['id']}", expect=404)
    ours = gym.add_member()
    gym.post(f"/members/{ours}/memberships", {"plan_id": their_plan["id"]}, expect=404)
    ours_plan = gym.add_plan()
    gym.post(f"/members/{their_member}/memberships", {"plan_id": ours_plan["id"]}, expect=404)
    path = f"/members/{their_member}/memberships/{their_membership['id']}"
    gym.get(path, expect=404)
    gym.post(f"{path}/hold", {"reason": "x"}, expect=404)
    # Our member, their membership id: still not found.
    gym.get(f"/members/{ours}/memberships/{their_membership['id']}", expect=404)


def test_malformed_requests_get_a_clear_4xx(gym: Gym) -> None:
    member = gym.add_member()
    cases = [
        ("GET", "/plans/not-a-uuid", None, 422),
        ("GET", f"/members/{member}/memberships/not-a-uuid", None, 422),
        ("POST", f"/members/{member}/memberships", {"plan_id": "nope"}, 422),
        ("POST", f"/members/{member}/memberships", {"plan_id": str(member)}, 404),
        ("POST", "/checkins/manual", {"member_id": None}, 422),
        ("POST", "/checkins/manual", [], 422),
        ("GET", "/checkins?page=0", None, 422),
        ("GET", "/checkins?page_size=100000", None, 422),
        ("GET", "/checkins?since=yesterday", None, 422),
        ("GET", "/checkins?format=xml", None, 422),
        ("GET", "/checkins/stats?since=1900-01-01", None, 422),
        ("PUT", "/tenant/opening-hours", {"timezone": "UTC", "weekly": {"monday": "6-22"}}, 422),
        ("PATCH", "/plans/" + str(member), {"name": ""}, 422),
    ]
    for method, path, body, expected in cases:
        response = gym.client.request(method, f"/api/v1{path}", json=body, headers=gym.headers)
        assert response.status_code == expected, (method, path, response.text)
        assert response.json()["error"]["code"]
