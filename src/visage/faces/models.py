"""Tenant template keys, per-tenant face settings and protected face templates."""

from __future__ import annotations

import uuid
from datetime import datetime

from pgvector.sqlalchemy import Vector
from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String, func
from sqlalchemy.orm import Mapped, mapped_column

from visage.core.db import Base, IdMixin, TimestampMixin, utcnow

# The column's dimension; start-up refuses a backend whose EMBEDDING_DIMENSIONS differs.
TEMPLATE_DIMENSIONS = 128

# BIPA's outer limit: biometric data is destroyed 3 years after the last interaction.
DEFAULT_RETENTION_DAYS = 3 * 365


class TenantKey(IdMixin, TimestampMixin, Base):
    """A tenant's random template key, wrapped (AES-GCM) by BIOMETRIC_ENCRYPTION_KEY.

    Deleting the row makes every template and thumbnail of the tenant useless (crypto-shredding).
    """

    __tablename__ = "tenant_keys"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), unique=True
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)


class TenantFaceSettings(TimestampMixin, Base):
    """What a tenant may change about recognition (its threshold and its retention period),
    and the size of its gallery."""

    __tablename__ = "tenant_face_settings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    # None: FACE_RECOGNITION_TOLERANCE applies.
    recognition_tolerance: Mapped[float | None] = mapped_column(Float)
    retention_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_RETENTION_DAYS)
    # None: face_then_pin once face alone cannot keep the target at the tenant's size.
    kiosk_mode: Mapped[str | None] = mapped_column(String(20))
    # None: FACE_FPIR_TARGET applies.
    fpir_target: Mapped[float | None] = mapped_column(Float)
    # Not settings: the gallery's size, recounted in the transaction of every enrollment and
    # erasure (tenant_settings.recount_gallery), so a kiosk frame reads it with the row above
    # instead of counting the tenant's templates.
    enrolled_members: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    enrolled_templates: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class FaceTemplate(IdMixin, Base):
    """One enrolled face of a member: its protected embedding, quality and encrypted thumbnail."""

    __tablename__ = "face_templates"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    # The embedding after the tenant's secret rotation; never the raw embedding.
    embedding: Mapped[list[float]] = mapped_column(Vector(TEMPLATE_DIMENSIONS))
    sharpness: Mapped[float] = mapped_column(Float)
    face_width: Mapped[int] = mapped_column(Integer)
    detection_score: Mapped[float] = mapped_column(Float)
    # The aligned face chip as JPEG, AES-GCM encrypted with a key derived from the tenant key.
    thumbnail: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )


Index(
    "ix_face_templates_embedding_hnsw",
    FaceTemplate.embedding,
    postgresql_using="hnsw",
    postgresql_with={"m": 32, "ef_construction": 128},
    postgresql_ops={"embedding": "vector_l2_ops"},
)
