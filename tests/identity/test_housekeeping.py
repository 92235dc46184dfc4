"""The daily job deletes unusable credentials and old login attempts, and nothing else."""

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from procrastinate.periodic import PeriodicDeferrer
from sqlalchemy import select, text, update

from visage.core.db import Database
from visage.core.jobs import connected_app, enqueue
from visage.identity import service
from visage.identity.models import LoginAttempt, LoginOutcome, LoginSession, Role, Tenant, User
from visage.identity.principal import ClientInfo
from visage.identity.tasks import purge_expired_credentials


def test_purge_keeps_live_sessions_and_recent_attempts(
    database: Database,
    settings,
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
    run_jobs: Callable[..., None],
) -> None:
    user = make_user(make_tenant(), Role.STAFF)
    long_ago = datetime.now(UTC) - timedelta(days=120)
    with database.session() as session:
        for _ in range(2):
            service.start_session(session, settings, user, ClientInfo())
        session.add_all(
            [
                LoginAttempt(account_key=user.username, outcome=LoginOutcome.SUCCESS, success=True),
                LoginAttempt(
                    account_key=user.username,
                    outcome=LoginOutcome.WRONG_PASSWORD,
                    success=False,
                    created_at=long_ago,
                ),
            ]
        )
    with database.session() as session:
        sessions = session.scalars(
            select(LoginSession.id).where(LoginSession.user_id == user.id)
        ).all()
        assert len(sessions) == 2
        session.execute(
            update(LoginSession).where(LoginSession.id == sessions[1]).values(revoked_at=long_ago)
        )
        enqueue(session, purge_expired_credentials, timestamp=int(time.time()))
    run_jobs(["maintenance"])
    with database.session() as session:
        left = session.scalars(select(LoginSession.id).where(LoginSession.user_id == user.id)).all()
        attempts = session.scalars(
            select(LoginAttempt.outcome).where(LoginAttempt.account_key == user.username)
        ).all()
    assert left == [sessions[0]]
    assert attempts == [LoginOutcome.SUCCESS]


def test_the_worker_app_defers_the_daily_job(database: Database, settings) -> None:
    """What a worker's periodic deferrer does when the job falls due (daily at 03:41)."""
    app = connected_app(settings)
    [periodic] = [
        p
        for p in app.periodic_registry.periodic_tasks.values()
        if p.task is purge_expired_credentials
    ]
    due_at = int(time.time()) - 3600 * 24 * 365  # a tick no earlier run has deferred

    async def defer() -> None:
        async with app.open_async():
            await PeriodicDeferrer(registry=app.periodic_registry).defer_jobs([(periodic, due_at)])

    asyncio.run(defer())
    with database.session() as session:
        queued = session.scalar(
            text(
                "SELECT count(*) FROM procrastinate_jobs "
                "WHERE task_name = 'identity.purge_expired_credentials' "
                "AND (args->>'timestamp')::bigint = :due"
            ),
            {"due": due_at},
        )
    assert queued == 1
