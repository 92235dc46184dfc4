"""attendees choose how they hear about new photos (email or WhatsApp, with consent);
messages to attendees; the notification hook's record of what it sent; an index for its sweep
of refused check-ins.

Revision ID: 0016_attendee_channels
Revises: 0015_plan_prices
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_attendee_channels"
down_revision: str | None = "0015_plan_prices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "event_attendees",
        sa.Column("notice_channel", sa.String(10), server_default="email", nullable=False),
    )
    op.add_column("event_attendees", sa.Column("phone", sa.String(20), nullable=True))
    op.add_column(
        "event_attendees",
        sa.Column("channel_chosen_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column("event_attendees", sa.Column("channel_source", sa.String(50), nullable=True))
    op.add_column("messages", sa.Column("attendee_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_messages_attendee_id_event_attendees"),
        "messages",
        "event_attendees",
        ["attendee_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index(op.f("ix_messages_attendee_id"), "messages", ["attendee_id"])
    op.create_table(
        "notifications_sent",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("recipient", sa.String(60), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_notifications_sent_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_notifications_sent_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications_sent")),
        sa.UniqueConstraint(
            "tenant_id", "dedupe_key", name=op.f("uq_notifications_sent_tenant_id_dedupe_key")
        ),
    )
    op.create_index(op.f("ix_notifications_sent_tenant_id"), "notifications_sent", ["tenant_id"])
    op.create_index(
        "ix_notifications_sent_recipient", "notifications_sent", ["recipient", "kind"]
    )
    op.create_index(
        "ix_checkins_refused_time",
        "checkins",
        ["created_at"],
        postgresql_where=sa.text("NOT allowed"),
    )


def downgrade() -> None:
    op.drop_index("ix_checkins_refused_time", table_name="checkins")
    op.drop_table("notifications_sent")
    op.drop_index(op.f("ix_messages_attendee_id"), table_name="messages")
    op.drop_constraint(
        op.f("fk_messages_attendee_id_event_attendees"), "messages", type_="foreignkey"
    )
    op.drop_column("messages", "attendee_id")
    for column in ("channel_source", "channel_chosen_at", "phone", "notice_channel"):
        op.drop_column("event_attendees", column)
