"""People in events: faces of an event grouped into people (event_people), each face's person.

Revision ID: 0008_event_people
Revises: 0006_faces_hnsw
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector

revision: str = "0008_event_people"
down_revision: str | None = "0011_publishing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_people",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("face_count", sa.Integer(), nullable=False),
        sa.Column("centroid", Vector(128), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_people_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_event_people_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_people")),
    )
    op.create_index("ix_event_people_event", "event_people", ["event_id"], unique=False)
    op.create_index(op.f("ix_event_people_tenant_id"), "event_people", ["tenant_id"], unique=False)
    op.add_column("event_photo_faces", sa.Column("person_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_event_photo_faces_person_id_event_people"),
        "event_photo_faces",
        "event_people",
        ["person_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index(
        op.f("ix_event_photo_faces_person_id"), "event_photo_faces", ["person_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_event_photo_faces_person_id"), table_name="event_photo_faces")
    op.drop_constraint(
        op.f("fk_event_photo_faces_person_id_event_people"), "event_photo_faces", type_="foreignkey"
    )
    op.drop_column("event_photo_faces", "person_id")
    op.drop_index(op.f("ix_event_people_tenant_id"), table_name="event_people")
    op.drop_index("ix_event_people_event", table_name="event_people")
    op.drop_table("event_people")
