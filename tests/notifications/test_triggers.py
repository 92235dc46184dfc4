"""The triggers other domains leave to the sweeps: "membership expiring" and "check-in denied
for payment" reach opted-in members on WhatsApp through the hook, once each however often the
sweep runs; members with nothing to hear about get nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx

from tests.contracts.waha import WahaContract
from tests.messaging.conftest import Gym, ok, sent_to
from visage.notifications.tasks import tell_denied_checkins, tell_expiring_memberships


def _plan(api: httpx.Client, gym: Gym) -> dict[str, Any]:
    plan: dict[str, Any] = ok(
        api.post(
            "/api/v1/plans", json={"name": "Monthly", "kind": "unlimited"}, headers=gym.headers
        ),
        201,
    )
    return plan


def _sell(api: httpx.Client, gym: Gym, member: dict[str, Any], **fields: Any) -> None:
    body = {
        key: value.isoformat() if isinstance(value, date) else value
        for key, value in fields.items()
    }
    ok(
        api.post(f"/api/v1/members/{member['id']}/memberships", json=body, headers=gym.headers),
        201,
    )


def _to(waha: WahaContract, member: dict[str, Any]) -> list[str]:
    return [item["text"] for item in sent_to(waha, member["digits"])]


def test_membership_expiring_once_and_only_when_nothing_continues_it(
    api: httpx.Client,
    waha: WahaContract,
    gym: Gym,
    opted_in_member: Callable[..., dict[str, Any]],
    process: Callable[[], None],
) -> None:
    plan, today = _plan(api, gym), date.today()
    ending = opted_in_member("Ending Soon")
    renewed = opted_in_member("Already Renewed")
    later = opted_in_member("Ends Later")
    lapsed = opted_in_member("Lapsed Payment")
    soon = today + timedelta(days=3)
    _sell(api, gym, ending, plan_id=plan["id"], starts_on=today, ends_on=soon)
    _sell(api, gym, renewed, plan_id=plan["id"], starts_on=today, ends_on=soon)
    _sell(api, gym, renewed, plan_id=plan["id"], starts_on=soon + timedelta(days=1))
    _sell(api, gym, later, plan_id=plan["id"], starts_on=today, ends_on=today + timedelta(days=30))
    _sell(
        api, gym, lapsed, plan_id=plan["id"], starts_on=today, ends_on=soon, payment_status="lapsed"
    )
    for _ in range(2):  # the hourly sweep, run again
        tell_expiring_memberships(timestamp=0)
        process()
    [notice] = _to(waha, ending)
    assert notice.startswith(f"Hi Ending, your membership ends on {soon.isoformat()}")
    assert "/app/me" in notice
    assert _to(waha, renewed) == _to(waha, later) == _to(waha, lapsed) == []


def test_checkin_denied_for_payment_once_a_day(
    api: httpx.Client,
    waha: WahaContract,
    gym: Gym,
    opted_in_member: Callable[..., dict[str, Any]],
    process: Callable[[], None],
) -> None:
    plan = _plan(api, gym)
    overdue = opted_in_member("Owes Money")
    expired = opted_in_member("Long Gone")
    let_in = opted_in_member("Let In")
    _sell(api, gym, overdue, plan_id=plan["id"], payment_status="overdue")
    _sell(api, gym, let_in, plan_id=plan["id"], payment_status="overdue")
    yesterday = date.today() - timedelta(days=1)
    _sell(
        api,
        gym,
        expired,
        plan_id=plan["id"],
        starts_on=yesterday - timedelta(days=30),
        ends_on=yesterday,
    )
    for member in (overdue, overdue, expired):  # two tries at the door, and an expiry
        refused = ok(
            api.post(
                "/api/v1/checkins/manual", json={"member_id": member["id"]}, headers=gym.headers
            )
        )
        assert refused["allowed"] is False
    overridden = ok(
        api.post(
            "/api/v1/checkins/manual",
            json={"member_id": let_in["id"], "override": "paid cash at the desk"},
            headers=gym.headers,
        )
    )
    assert overridden["allowed"] is True
    for _ in range(2):  # the minute sweep, run again
        tell_denied_checkins(timestamp=0)
        process()
    [notice] = _to(waha, overdue)
    assert notice.startswith("Hi Owes, we could not let you in because a payment is due")
    assert _to(waha, expired) == _to(waha, let_in) == []
