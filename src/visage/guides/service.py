"""FindMe's health check, computed from the schema Visage's models declare. No FastAPI here."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from visage.core.db import Database
from visage.events.models import Attendee
from visage.guides.schemas import FindMeDatabase, FindMeHealth, FindMeModel
from visage.health.setup_checks import check_unique_constraints, model_unique_indexes

ATTENDEES = "event_attendees"
ALL_PASSED = "All checks passed"


def _model_state() -> FindMeModel:
    """FindMe's "model" half: does the code declare what the migration must have created."""
    per_event = [
        name for name, ddl in model_unique_indexes()[ATTENDEES].items() if "event_id" in ddl
    ]
    return FindMeModel(
        has_event_id_field="event_id" in Attendee.__table__.c, has_table_args=bool(per_event)
    )


def findme_health(database: Database) -> FindMeHealth:
    """FindMe's `/api/health-check`: `healthy` when the database answers, has the attendees'
    `event_id` and both per-event unique indexes, and no global one is left over."""
    model = _model_state()
    try:
        constraints = check_unique_constraints(database)
        with database.engine.connect() as connection:
            user_count = connection.execute(
                text(f"SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM {ATTENDEES})")
            ).scalar_one()
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        return FindMeHealth(
            status="degraded",
            database=FindMeDatabase(
                connected=False,
                event_id_column_exists=False,
                composite_constraints=[],
                user_count=None,
            ),
            model=model,
            message=f"Database unavailable: {reason}",
        )
    healthy = constraints.ok and model.has_event_id_field and model.has_table_args
    message = ALL_PASSED if healthy else f"{constraints.detail}. Fix: {constraints.fix}"
    return FindMeHealth(
        status="healthy" if healthy else "degraded",
        database=FindMeDatabase(
            connected=True,
            event_id_column_exists=constraints.data["event_id_column_exists"],
            composite_constraints=constraints.data["composite"][ATTENDEES],
            user_count=int(user_count),
        ),
        model=model,
        message=message,
    )
