"""Service-level rules that need a clock or concurrency: the member lock at the door, and
statistics grouped by the tenant's own days and hours."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest

from tests.access.conftest import Gym
from visage.access import checkin_reports, checkins, opening_hours
from visage.access.schemas import OpeningHoursIn
from visage.config import Settings
from visage.identity.principal import ClientInfo

ALL_WEEK = {
    day: [{"opens": "00:00", "closes": "00:00"}]
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
}


@pytest.mark.parametrize(
    ("window", "expected"), [(0, ["GRANTED", "NO_VISITS_LEFT"]), (60, ["GRANTED", "GRANTED"])]
)
def test_two_frames_at_once_spend_one_visit(
    gym: Gym, settings: Settings, window: int, expected: list[str]
) -> None:
    member = gym.add_member()
    membership = gym.sell(member, gym.add_plan("visit_pack", visits=1))
    configured = settings.model_copy(update={"checkin_repeat_window_minutes": window})
    start = threading.Barrier(2)
    outcomes: list[tuple[str, bool]] = []

    def check_in() -> None:
        start.wait()
        with gym.database.session() as session:
            outcome = checkins.manual_checkin(
                session, configured, gym.principal, member, ClientInfo()
            )
            outcomes.append((outcome.decision.reason.value, outcome.checkin.counted))

    threads = [threading.Thread(target=check_in) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(reason for reason, _ in outcomes) == expected
    assert sum(counted for _, counted in outcomes) == 1
    stored = gym.get(f"/members/{member}/memberships/{membership['id']}")
    assert stored["visits_remaining"] == 0


def test_stats_and_filters_use_the_tenants_days_and_hours(gym: Gym, settings: Settings) -> None:
    with gym.database.session() as session:
        hours = OpeningHoursIn.model_validate({"timezone": "Pacific/Auckland", "weekly": ALL_WEEK})
        opening_hours.set_opening_hours(session, gym.principal, hours, ClientInfo())
    early, late = gym.add_member("Early Bird"), gym.add_member("Night Owl")
    plan = gym.add_plan()
    for member in (early, late):
        gym.sell(member, plan, starts_on="2026-01-01")
    # Auckland is UTC+13 in November: 10:50Z is 23:50 on the 22nd, 11:30Z is 00:30 on the 23rd.
    moments = {
        late: datetime(2026, 11, 22, 10, 50, tzinfo=UTC),
        early: datetime(2026, 11, 22, 11, 30, tzinfo=UTC),
    }
    with gym.database.session() as session:
        for member, moment in moments.items():
            checkins.manual_checkin(
                session, settings, gym.principal, member, ClientInfo(), now=moment
            )

    with gym.database.session() as session:
        stats = checkin_reports.checkin_stats(
            session,
            settings,
            gym.principal,
            since=date(2026, 11, 22),
            until=date(2026, 11, 23),
            now=datetime(2026, 11, 22, 12, 0, tzinfo=UTC),
        )
        on_the_23rd = checkin_reports.list_checkins(
            session,
            gym.principal,
            checkin_reports.CheckinFilters(since=date(2026, 11, 23)),
            page=1,
            page_size=10,
        )
    assert stats.timezone == "Pacific/Auckland"
    assert [(d.date.day, d.visits) for d in stats.visits_per_day] == [(22, 1), (23, 1)]
    assert {h.hour: h.visits for h in stats.visits_per_hour if h.visits} == {23: 1, 0: 1}
    # Both came in within the visit duration, but only the one after local midnight is "today".
    assert stats.currently_inside == 1
    assert [name for _, name in on_the_23rd[0]] == ["Early Bird"]
