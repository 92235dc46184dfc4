"""Migration 0020: purchases made before it get what is known to be refunded of them."""

from __future__ import annotations

import uuid
from datetime import date

from alembic import command
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session

from tests.guides.databases import scratch_database
from visage.access.models import Membership, Plan, PlanKind
from visage.billing.models import InvoiceRefund
from visage.config import Settings
from visage.core.db import Database
from visage.core.migrations import alembic_config
from visage.identity.models import AuditEvent, Tenant
from visage.members.models import Member


def test_the_migration_keeps_what_was_refunded_of_earlier_purchases(
    database: Database, settings: Settings
) -> None:
    del database  # the embedded server runs
    with scratch_database(settings, revision="0019_gallery_counts") as url:
        engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
        tenant_id = uuid.uuid4()
        # Paid by an invoice refunded in part; by a PaymentIntent refunded in full; by one
        # not refunded.
        references = {"in_part": 700, "pi_full": 2000, "pi_kept": 0}
        try:
            with Session(engine) as session, session.begin():
                session.add(Tenant(id=tenant_id, name="Gym", slug=f"gym-{tenant_id.hex}"))
                session.flush()
                member = Member(tenant_id=tenant_id, full_name="Bought before")
                plan = Plan(tenant_id=tenant_id, name="Ten days", kind=PlanKind.FIXED_TERM)
                session.add_all([member, plan])
                session.flush()
                for reference in references:
                    membership = Membership(
                        tenant_id=tenant_id,
                        member_id=member.id,
                        plan_id=plan.id,
                        starts_on=date(2026, 11, 1),
                    )
                    session.add(membership)
                    session.flush()
                    session.execute(
                        text(
                            "INSERT INTO billing_purchases (id, tenant_id, member_id, plan_id, "
                            "membership_id, stripe_reference, amount_cents, currency) VALUES "
                            "(:id, :tenant, :member, :plan, :membership, :ref, 2000, 'eur')"
                        ),
                        {
                            "id": uuid.uuid4(),
                            "tenant": tenant_id,
                            "member": member.id,
                            "plan": plan.id,
                            "membership": membership.id,
                            "ref": reference,
                        },
                    )
                session.add(
                    InvoiceRefund(
                        stripe_invoice_id="in_part", tenant_id=tenant_id, amount_refunded_cents=700
                    )
                )
                session.add(
                    AuditEvent(
                        tenant_id=tenant_id,
                        action="billing.purchase_refunded",
                        details={"stripe_reference": "pi_full", "charge_id": "ch_1"},
                    )
                )
            with engine.begin() as connection:
                config = alembic_config()
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
            with engine.connect() as connection:
                rows = connection.execute(
                    text("SELECT stripe_reference, amount_refunded_cents FROM billing_purchases")
                ).all()
        finally:
            engine.dispose()
    assert dict(rows) == references
