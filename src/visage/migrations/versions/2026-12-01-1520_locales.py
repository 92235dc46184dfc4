"""locales: users' chosen language, tenants' default, events' language (issue 18).

Each is "en", "fr" or NULL (NULL: the next rung decides — the tenant's default, then the
browser). The API accepts only the locales Visage has catalogs for.

Revision ID: 0014_locales
Revises: 0017_event_people_tuning
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_locales"
down_revision: str | None = "0017_event_people_tuning"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (("users", "locale"), ("tenants", "default_locale"), ("events", "language"))


def upgrade() -> None:
    for table, column in COLUMNS:
        op.add_column(table, sa.Column(column, sa.String(length=8), nullable=True))


def downgrade() -> None:
    for table, column in COLUMNS:
        op.drop_column(table, column)
