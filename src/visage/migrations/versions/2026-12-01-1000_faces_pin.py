"""Calibrated 1:N decisions and kiosk PINs: per-tenant kiosk mode and FPIR target, members'
PIN hashes, wrong-PIN attempts (rate limits), the PIN_REQUIRED / WRONG_PIN check-in reasons.

Revision ID: 0007_faces_pin
Revises: 0006_faces_hnsw
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_faces_pin"
down_revision: str | None = "0012_api_tokens"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_REASONS = ("PIN_REQUIRED", "WRONG_PIN")


def upgrade() -> None:
    op.add_column("tenant_face_settings", sa.Column("kiosk_mode", sa.String(20), nullable=True))
    op.add_column("tenant_face_settings", sa.Column("fpir_target", sa.Float(), nullable=True))
    op.create_table(
        "member_pins",
        sa.Column(
            "member_id",
            sa.Uuid(),
            sa.ForeignKey("members.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("pin_hash", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_member_pins_tenant_id", "member_pins", ["tenant_id"])
    op.create_table(
        "pin_failures",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("attempt_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=True),
        sa.Column(
            "member_id", sa.Uuid(), sa.ForeignKey("members.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )
    op.create_index("ix_pin_failures_member", "pin_failures", ["member_id", "created_at"])
    op.create_index("ix_pin_failures_device", "pin_failures", ["device_id", "created_at"])
    for reason in NEW_REASONS:
        op.execute(f"ALTER TYPE checkin_reason ADD VALUE IF NOT EXISTS '{reason}'")


def downgrade() -> None:
    # PostgreSQL cannot drop enum values; the two reasons stay, unused.
    op.drop_table("pin_failures")
    op.drop_table("member_pins")
    op.drop_column("tenant_face_settings", "fpir_target")
    op.drop_column("tenant_face_settings", "kiosk_mode")
