"""Messaging figures on the existing /metrics: messages by status, webhook signature failures."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import REGISTRY, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from visage.core.db import get_database
from visage.messaging.models import Message

WEBHOOK_VERIFICATION_FAILURES = Counter(
    "visage_messaging_webhook_verification_failures",
    "Webhook deliveries refused for a missing or wrong X-Webhook-Hmac",
)


class MessagesByStatus(Collector):
    """Counted in the database at scrape time, so every API replica reports the same."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "visage_messages",
            "WhatsApp messages by direction and status",
            labels=["direction", "status"],
        )
        try:
            with get_database().session() as session:
                rows = session.execute(
                    select(Message.direction, Message.status, func.count()).group_by(
                        Message.direction, Message.status
                    )
                ).all()
        except Exception:  # metrics stay available while the database is down
            rows = []
        for direction, status, count in rows:
            family.add_metric([direction, status], count)
        yield family


_collector = MessagesByStatus()
if _collector not in getattr(REGISTRY, "_collector_to_names", {}):
    REGISTRY.register(_collector)
