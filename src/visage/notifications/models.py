"""What the notification hook already told whom: a repeated call with the same dedupe key
(a retried job, a periodic sweep) tells nobody twice, on any channel. Only notices that went
out are kept: one skipped (no consent yet) may go out on a later call."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from visage.core.db import Base, IdMixin, utcnow


class NotificationSent(IdMixin, Base):
    __tablename__ = "notifications_sent"
    __table_args__ = (UniqueConstraint("tenant_id", "dedupe_key"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    dedupe_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    # "member:<id>" or "attendee:<id>": a cool-down looks at the recipient's last notice.
    recipient: Mapped[str] = mapped_column(String(60))
    channel: Mapped[str] = mapped_column(String(10))
    message_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )


Index("ix_notifications_sent_recipient", NotificationSent.recipient, NotificationSent.kind)
