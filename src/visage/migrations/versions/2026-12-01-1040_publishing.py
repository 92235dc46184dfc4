"""Social publishing (AllIN): connected accounts, OAuth attempts, posts and their
per-account deliveries, publicity consents, AI credits.

Revision ID: 0011_publishing
Revises: 0006_faces_hnsw
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011_publishing"
down_revision: str | None = "0010_messaging"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ai_credit_periods",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("credits_limit", sa.Integer(), nullable=False),
        sa.Column("credits_used", sa.Integer(), nullable=False),
        sa.Column("alert_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_ai_credit_periods_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_credit_periods")),
        sa.UniqueConstraint("tenant_id", "period_start", name="uq_ai_credit_periods_tenant_period"),
    )
    op.create_table(
        "publishing_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("monthly_ai_credits", sa.Integer(), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_publishing_settings_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_publishing_settings")),
    )
    op.create_table(
        "ai_generations",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("period_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("provider", sa.String(length=30), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["ai_credit_periods.id"],
            name=op.f("fk_ai_generations_period_id_ai_credit_periods"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_ai_generations_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_ai_generations_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_generations")),
    )
    op.create_index(
        op.f("ix_ai_generations_tenant_id"), "ai_generations", ["tenant_id"], unique=False
    )
    op.create_table(
        "scheduled_posts",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("photo_ids", postgresql.ARRAY(sa.UUID()), nullable=False),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "scheduled",
                "publishing",
                "published",
                "failed",
                "unknown",
                name="post_status",
            ),
            nullable=False,
        ),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_scheduled_posts_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_scheduled_posts_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_posts")),
    )
    op.create_index(
        "ix_scheduled_posts_status_due",
        "scheduled_posts",
        ["status", "scheduled_for"],
        unique=False,
    )
    op.create_index(
        op.f("ix_scheduled_posts_tenant_id"), "scheduled_posts", ["tenant_id"], unique=False
    )
    op.create_table(
        "social_accounts",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column(
            "platform",
            sa.Enum(
                "x", "facebook", "instagram", "linkedin", "mastodon", "bluesky", name="social_platform"
            ),
            nullable=False,
        ),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("username", sa.String(length=200), nullable=False),
        sa.Column(
            "status", sa.Enum("ACTIVE", "EXPIRED", name="social_account_status"), nullable=False
        ),
        sa.Column("access_token", sa.LargeBinary(), nullable=False),
        sa.Column("refresh_token", sa.LargeBinary(), nullable=True),
        sa.Column("token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scopes", sa.String(length=500), nullable=False),
        sa.Column("last_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("connected_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["connected_by"],
            ["users.id"],
            name=op.f("fk_social_accounts_connected_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_social_accounts_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_social_accounts")),
        sa.UniqueConstraint("tenant_id", "platform", "external_id", name="uq_social_accounts_ext"),
    )
    op.create_index(
        "idx_social_accounts_status",
        "social_accounts",
        ["status"],
        unique=False,
        postgresql_where=sa.text("status = 'ACTIVE'"),
    )
    op.create_index(
        op.f("ix_social_accounts_tenant_id"), "social_accounts", ["tenant_id"], unique=False
    )
    op.create_table(
        "social_oauth_attempts",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column(
            "platform", postgresql.ENUM(name="social_platform", create_type=False), nullable=False
        ),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("code_verifier", sa.LargeBinary(), nullable=False),
        sa.Column("redirect_uri", sa.String(length=500), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_social_oauth_attempts_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_social_oauth_attempts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_social_oauth_attempts")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_social_oauth_attempts_state_hash")),
    )
    op.create_index(
        op.f("ix_social_oauth_attempts_tenant_id"),
        "social_oauth_attempts",
        ["tenant_id"],
        unique=False,
    )
    op.create_table(
        "post_deliveries",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("post_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending", "publishing", "published", "failed", "unknown", name="delivery_status"
            ),
            nullable=False,
        ),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("publish_attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("last_error_code", sa.String(length=50), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempt_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("platform_post_id", sa.String(length=200), nullable=True),
        sa.Column("platform_url", sa.String(length=500), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["social_accounts.id"],
            name=op.f("fk_post_deliveries_account_id_social_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["scheduled_posts.id"],
            name=op.f("fk_post_deliveries_post_id_scheduled_posts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_post_deliveries_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_deliveries")),
        sa.UniqueConstraint("post_id", "account_id", name="uq_post_deliveries_post_account"),
    )
    op.create_index(
        "ix_post_deliveries_due", "post_deliveries", ["status", "next_attempt_at"], unique=False
    )
    op.create_index(
        op.f("ix_post_deliveries_tenant_id"), "post_deliveries", ["tenant_id"], unique=False
    )
    op.create_table(
        "publicity_consents",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("attendee_id", sa.Uuid(), nullable=True),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["attendee_id"],
            ["event_attendees.id"],
            name=op.f("fk_publicity_consents_attendee_id_event_attendees"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_publicity_consents_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_publicity_consents_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publicity_consents")),
        sa.UniqueConstraint("attendee_id", name=op.f("uq_publicity_consents_attendee_id")),
        sa.UniqueConstraint("member_id", name=op.f("uq_publicity_consents_member_id")),
    )
    op.create_index(
        op.f("ix_publicity_consents_tenant_id"), "publicity_consents", ["tenant_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_publicity_consents_tenant_id"), table_name="publicity_consents")
    op.drop_table("publicity_consents")
    op.drop_index(op.f("ix_post_deliveries_tenant_id"), table_name="post_deliveries")
    op.drop_index("ix_post_deliveries_due", table_name="post_deliveries")
    op.drop_table("post_deliveries")
    op.drop_index(op.f("ix_social_oauth_attempts_tenant_id"), table_name="social_oauth_attempts")
    op.drop_table("social_oauth_attempts")
    op.drop_index(op.f("ix_social_accounts_tenant_id"), table_name="social_accounts")
    op.drop_index(
        "idx_social_accounts_status",
        table_name="social_accounts",
        postgresql_where=sa.text("status = 'ACTIVE'"),
    )
    op.drop_table("social_accounts")
    op.drop_index(op.f("ix_scheduled_posts_tenant_id"), table_name="scheduled_posts")
    op.drop_index("ix_scheduled_posts_status_due", table_name="scheduled_posts")
    op.drop_table("scheduled_posts")
    op.drop_index(op.f("ix_ai_generations_tenant_id"), table_name="ai_generations")
    op.drop_table("ai_generations")
    op.drop_table("publishing_settings")
    op.drop_table("ai_credit_periods")
    for enum_type in ("delivery_status", "post_status", "social_account_status", "social_platform"):
        op.execute(f"DROP TYPE IF EXISTS {enum_type}")
