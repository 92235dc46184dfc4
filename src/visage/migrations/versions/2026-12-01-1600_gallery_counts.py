"""gallery counts: each tenant's enrolled members and templates kept on its face settings row,
so a kiosk frame no longer counts the gallery (docs/decisions.md, "The gallery's size").

Tenants with templates get their row (defaults for the settings) with today's counts.

Revision ID: 0019_gallery_counts
Revises: 0018_billing_action_required
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_gallery_counts"
down_revision: str | None = "0018_billing_action_required"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("enrolled_members", "enrolled_templates")
DEFAULT_RETENTION_DAYS = 3 * 365  # faces/models.py at this revision


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column(
            "tenant_face_settings",
            sa.Column(column, sa.Integer(), nullable=False, server_default="0"),
        )
    op.execute(
        sa.text(
            """
            INSERT INTO tenant_face_settings
                (tenant_id, retention_days, enrolled_members, enrolled_templates)
            SELECT tenant_id, :retention_days, count(DISTINCT member_id), count(*)
            FROM face_templates GROUP BY tenant_id
            ON CONFLICT (tenant_id) DO UPDATE SET
                enrolled_members = excluded.enrolled_members,
                enrolled_templates = excluded.enrolled_templates
            """
        ).bindparams(retention_days=DEFAULT_RETENTION_DAYS)
    )


def downgrade() -> None:
    for column in COLUMNS:
        op.drop_column("tenant_face_settings", column)
