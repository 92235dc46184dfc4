"""faces: members, consents, tenant template keys, tenant face settings, face templates.

Revision ID: 0003_faces
Revises: 0002_identity
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector

revision: str = "0003_faces"
down_revision: str | None = "0002_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "tenant_face_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("recognition_tolerance", sa.Float(), nullable=True),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_tenant_face_settings_tenant_id_tenants"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenant_face_settings")),
    )
    op.create_table(
        "tenant_keys",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_tenant_keys_tenant_id_tenants"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_keys")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_tenant_keys_tenant_id")),
    )
    op.create_table(
        "members",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("external_ref", sa.String(length=100), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_members_tenant_id_tenants"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_members_user_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
    )
    op.create_index(op.f("ix_members_tenant_id"), "members", ["tenant_id"], unique=False)
    op.create_index("ix_members_tenant_lower_name", "members", ["tenant_id", sa.literal_column("lower(full_name)")], unique=False)
    op.create_index(op.f("ix_members_user_id"), "members", ["user_id"], unique=False)
    op.create_index("uq_members_tenant_external_ref", "members", ["tenant_id", "external_ref"], unique=True, postgresql_where=sa.text("external_ref IS NOT NULL"))
    op.create_table(
        "consents",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("text_version", sa.String(length=100), nullable=False),
        sa.Column("method", sa.String(length=50), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=True),
        sa.Column("given_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_consents_member_id_members"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"], name=op.f("fk_consents_recorded_by_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_consents_tenant_id_tenants"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["withdrawn_by"], ["users.id"], name=op.f("fk_consents_withdrawn_by_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    op.create_index(op.f("ix_consents_member_id"), "consents", ["member_id"], unique=False)
    op.create_index(op.f("ix_consents_tenant_id"), "consents", ["tenant_id"], unique=False)
    op.create_table(
        "face_templates",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("embedding", Vector(128), nullable=False),
        sa.Column("sharpness", sa.Float(), nullable=False),
        sa.Column("face_width", sa.Integer(), nullable=False),
        sa.Column("detection_score", sa.Float(), nullable=False),
        sa.Column("thumbnail", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_face_templates_member_id_members"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_face_templates_tenant_id_tenants"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_face_templates")),
    )
    op.create_index("ix_face_templates_embedding_hnsw", "face_templates", ["embedding"], unique=False, postgresql_using="hnsw", postgresql_with={"m": 16, "ef_construction": 64}, postgresql_ops={"embedding": "vector_l2_ops"})
    op.create_index(op.f("ix_face_templates_member_id"), "face_templates", ["member_id"], unique=False)
    op.create_index(op.f("ix_face_templates_tenant_id"), "face_templates", ["tenant_id"], unique=False)


def downgrade() -> None:
    op.drop_table("face_templates")
    op.drop_table("consents")
    op.drop_table("members")
    op.drop_table("tenant_keys")
    op.drop_table("tenant_face_settings")
