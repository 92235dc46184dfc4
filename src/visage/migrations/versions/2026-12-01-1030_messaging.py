"""messaging tables: WhatsApp sessions, messages, webhook events, consent, opt-outs, templates,
settings, contact check cache.

Revision ID: 0010_messaging
Revises: 0006_faces_hnsw
Create Date: 2026-12-01
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010_messaging"
down_revision: str | None = "0007_faces_pin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    ]


def _tenant(table: str) -> list[Any]:
    return [
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f(f"fk_{table}_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
    ]


def _tenant_index(table: str) -> None:
    op.create_index(op.f(f"ix_{table}_tenant_id"), table, ["tenant_id"])


def upgrade() -> None:
    op.create_table(
        "whatsapp_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        *_tenant("whatsapp_sessions"),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("me", sa.String(100), nullable=True),
        sa.Column("qr_png", sa.LargeBinary(), nullable=True),
        sa.Column("qr_fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "status_changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_sessions")),
        sa.UniqueConstraint("name", name=op.f("uq_whatsapp_sessions_name")),
    )
    _tenant_index("whatsapp_sessions")
    op.create_table(
        "message_templates",
        sa.Column("id", sa.Uuid(), nullable=False),
        *_tenant("message_templates"),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_templates")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_message_templates_tenant_id_name")),
    )
    _tenant_index("message_templates")
    op.create_table(
        "messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        *_tenant("messages"),
        sa.Column("session_id", sa.Uuid(), nullable=True),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("direction", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("chat_id", sa.String(100), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_history", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("provider_message_id", sa.String(200), nullable=True),
        sa.Column("provider_message_key", sa.String(200), nullable=True),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("template_id", sa.Uuid(), nullable=True),
        sa.Column("error_code", sa.String(40), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["whatsapp_sessions.id"],
            name=op.f("fk_messages_session_id_whatsapp_sessions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_messages_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["message_templates.id"],
            name=op.f("fk_messages_template_id_message_templates"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    _tenant_index("messages")
    op.create_index(op.f("ix_messages_session_id"), "messages", ["session_id"])
    op.create_index(op.f("ix_messages_member_id"), "messages", ["member_id"])
    op.create_index(op.f("ix_messages_status"), "messages", ["status"])
    op.create_index("ix_messages_provider_key", "messages", ["provider_message_key"])
    op.create_index("ix_messages_tenant_created", "messages", ["tenant_id", "created_at"])
    op.create_index(
        "uq_messages_tenant_idempotency_key",
        "messages",
        ["tenant_id", "idempotency_key"],
        unique=True,
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.create_table(
        "messaging_webhook_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("envelope_id", sa.String(200), nullable=False),
        sa.Column("event", sa.String(50), nullable=False),
        sa.Column("session_name", sa.String(100), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messaging_webhook_events")),
        sa.UniqueConstraint("envelope_id", name=op.f("uq_messaging_webhook_events_envelope_id")),
    )
    op.create_table(
        "messaging_preferences",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        *_tenant("messaging_preferences"),
        sa.Column("whatsapp", sa.Boolean(), nullable=False),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("source", sa.String(50), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_messaging_preferences_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
            name=op.f("fk_messaging_preferences_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_messaging_preferences")),
    )
    _tenant_index("messaging_preferences")
    op.create_table(
        "messaging_opt_outs",
        sa.Column("id", sa.Uuid(), nullable=False),
        *_tenant("messaging_opt_outs"),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("word", sa.String(50), nullable=False),
        sa.Column(
            "opted_out_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messaging_opt_outs")),
        sa.UniqueConstraint("tenant_id", "phone", name=op.f("uq_messaging_opt_outs_tenant_id_phone")),
    )
    _tenant_index("messaging_opt_outs")
    op.create_table(
        "messaging_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("quiet_start_hour", sa.Integer(), nullable=False),
        sa.Column("quiet_end_hour", sa.Integer(), nullable=False),
        sa.Column("min_interval_seconds", sa.Float(), nullable=True),
        sa.Column("hourly_cap", sa.Integer(), nullable=True),
        sa.Column("opt_out_words", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_messaging_settings_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_messaging_settings")),
    )
    op.create_table(
        "messaging_contact_checks",
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("exists", sa.Boolean(), nullable=False),
        sa.Column("chat_id", sa.String(100), nullable=True),
        sa.Column(
            "checked_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("phone", name=op.f("pk_messaging_contact_checks")),
    )


def downgrade() -> None:
    for table in (
        "messaging_contact_checks",
        "messaging_settings",
        "messaging_opt_outs",
        "messaging_preferences",
        "messaging_webhook_events",
        "messages",
        "message_templates",
        "whatsapp_sessions",
    ):
        op.drop_table(table)
