"""event_people_tuning: people the organizer merged or split are never merged automatically.

Revision ID: 0017_event_people_tuning
Revises: 0016_attendee_channels
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_event_people_tuning"
down_revision: str | None = "0016_attendee_channels"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "event_people",
        sa.Column(
            "kept_by_organizer", sa.Boolean(), nullable=False, server_default=sa.text("false")
        ),
    )


def downgrade() -> None:
    op.drop_column("event_people", "kept_by_organizer")
