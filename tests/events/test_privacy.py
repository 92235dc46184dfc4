"""Kept selfie templates expire with their event; attendees can delete their account."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.events.conftest import register
from visage.core.db import Database
from visage.events.models import Event, SelfieSubscription
from visage.events.tasks import purge_expired_templates
from visage.identity.models import AuditEvent


def _keep_template(
    database: Database, event: dict[str, Any], attendee_id: str, *, days: int
) -> None:
    with database.session() as session:
        owner = session.get(Event, uuid.UUID(event["id"]))
        assert owner is not None
        session.add(
            SelfieSubscription(
                tenant_id=owner.tenant_id,
                event_id=uuid.UUID(event["id"]),
                attendee_id=uuid.UUID(attendee_id),
                embedding=[0.0] * 128,
                expires_at=datetime.now(UTC) + timedelta(days=days),
            )
        )


def test_expired_templates_are_purged_and_audited(
    client: TestClient, database: Database, make_event: Callable[..., dict[str, Any]]
) -> None:
    past, current = make_event(), make_event()
    gone = register(client, past["access_code"], "ann@example.com", "ann")
    stays = register(client, current["access_code"], "ann@example.com", "ann")
    _keep_template(database, past, gone["attendee"]["id"], days=-1)
    _keep_template(database, current, stays["attendee"]["id"], days=30)

    purge_expired_templates(timestamp=0)

    gone_me = client.get(
        "/api/v1/attendees/me", headers={"Authorization": f"Bearer {gone['access_token']}"}
    ).json()
    stays_me = client.get(
        "/api/v1/attendees/me", headers={"Authorization": f"Bearer {stays['access_token']}"}
    ).json()
    assert (gone_me["has_selfie_template"], stays_me["has_selfie_template"]) == (False, True)
    with database.session() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.action == "events.selfie_templates_expired")
        ).all()
    assert actions


def test_attendee_deletes_their_account(
    client: TestClient, make_event: Callable[..., dict[str, Any]]
) -> None:
    event = make_event()
    attendee = register(client, event["access_code"], "gone@example.com", "gone")
    headers = {"Authorization": f"Bearer {attendee['access_token']}"}
    assert client.delete("/api/v1/attendees/me", headers=headers).status_code == 204
    login = client.post(
        "/api/v1/attendees/login",
        json={
            "access_code": event["access_code"],
            "login": "gone@example.com",
            "password": "a long attendee password",
        },
    )
    assert login.status_code == 401
    assert client.get("/api/v1/attendees/me", headers=headers).status_code == 404
