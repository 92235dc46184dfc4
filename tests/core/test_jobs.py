"""Jobs are enqueued in the caller's transaction and run by a real worker."""

from collections.abc import Callable

import pytest
from sqlalchemy import text

from visage.core.db import Database, get_database
from visage.core.jobs import enqueue, jobs


@jobs.task(name="tests.record_marker")
def record_marker(marker: str) -> None:
    with get_database().session() as session:
        session.execute(text("INSERT INTO test_job_markers (marker) VALUES (:m)"), {"m": marker})


@pytest.fixture(scope="module", autouse=True)
def marker_table(database: Database) -> None:
    with database.session() as session:
        session.execute(text("CREATE TABLE IF NOT EXISTS test_job_markers (marker text)"))


def _jobs_for(database: Database, marker: str) -> int:
    with database.session() as session:
        return (
            session.scalar(
                text("SELECT count(*) FROM procrastinate_jobs WHERE args->>'marker' = :m"),
                {"m": marker},
            )
            or 0
        )


def _markers(database: Database, marker: str) -> int:
    with database.session() as session:
        return (
            session.scalar(
                text("SELECT count(*) FROM test_job_markers WHERE marker = :m"), {"m": marker}
            )
            or 0
        )


def test_rolled_back_transaction_leaves_no_job(database: Database) -> None:
    class Abort(Exception):
        pass

    def enqueue_then_fail() -> None:
        with database.session() as session:
            enqueue(session, record_marker, marker="rolled-back")
            raise Abort

    with pytest.raises(Abort):
        enqueue_then_fail()
    assert _jobs_for(database, "rolled-back") == 0


def test_committed_job_is_run_by_a_worker(
    database: Database, run_jobs: Callable[..., None]
) -> None:
    with database.session() as session:
        enqueue(session, record_marker, marker="committed")
    assert _jobs_for(database, "committed") == 1
    run_jobs()
    assert _markers(database, "committed") == 1
    with database.session() as session:
        status = session.scalar(
            text("SELECT status::text FROM procrastinate_jobs WHERE args->>'marker' = 'committed'")
        )
    assert status == "succeeded"
