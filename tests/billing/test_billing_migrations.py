"""Billing migrations carry what was there before them: 0020, what is known to be refunded of
earlier purchases; 0021, the payment reasons written in English before reasons were codes."""

from __future__ import annotations

import uuid
from datetime import date

from alembic import command
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.orm import Session

from tests.guides.databases import scratch_database
from visage.access.models import Membership, Plan, PlanKind
from visage.billing import reasons
from visage.billing.models import InvoiceRefund
from visage.config import Settings
from visage.core.db import Database
from visage.core.migrations import alembic_config
from visage.identity.models import AuditEvent, Tenant
from visage.members.models import Member


def sold_memberships(session: Session, how_many: int) -> list[dict[str, uuid.UUID]]:
    """A new tenant's member with `how_many` memberships of one plan: what each sale row names
    (its tenant, member, plan and membership)."""
    tenant_id = uuid.uuid4()
    session.add(Tenant(id=tenant_id, name="Gym", slug=f"gym-{tenant_id.hex}"))
    session.flush()
    member = Member(tenant_id=tenant_id, full_name="Bought before")
    plan = Plan(tenant_id=tenant_id, name="Ten days", kind=PlanKind.FIXED_TERM)
    session.add_all([member, plan])
    session.flush()
    sales = []
    for _ in range(how_many):
        membership = Membership(
            tenant_id=tenant_id, member_id=member.id, plan_id=plan.id, starts_on=date(2026, 11, 1)
        )
        session.add(membership)
        session.flush()
        sales.append(
            {"tenant": tenant_id, "member": member.id, "plan": plan.id, "membership": membership.id}
        )
    return sales


def upgrade_to(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def test_the_migration_keeps_what_was_refunded_of_earlier_purchases(
    database: Database, settings: Settings
) -> None:
    del database  # the embedded server runs
    with scratch_database(settings, revision="0019_gallery_counts") as url:
        engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
        # Paid by an invoice refunded in part; by a PaymentIntent refunded in full; by one
        # not refunded.
        references = {"in_part": 700, "pi_full": 2000, "pi_kept": 0}
        try:
            with Session(engine) as session, session.begin():
                sales = sold_memberships(session, len(references))
                for reference, sale in zip(references, sales, strict=True):
                    session.execute(
                        text(
                            "INSERT INTO billing_purchases (id, tenant_id, member_id, plan_id, "
                            "membership_id, stripe_reference, amount_cents, currency) VALUES "
                            "(:id, :tenant, :member, :plan, :membership, :ref, 2000, 'eur')"
                        ),
                        {"id": uuid.uuid4(), "ref": reference, **sale},
                    )
                tenant_id = sales[0]["tenant"]
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
            upgrade_to(engine, "head")
            with engine.connect() as connection:
                rows = connection.execute(
                    text("SELECT stripe_reference, amount_refunded_cents FROM billing_purchases")
                ).all()
        finally:
            engine.dispose()
    assert dict(rows) == references


def test_the_migration_keeps_the_payment_reasons_written_before_it(
    database: Database, settings: Settings
) -> None:
    del database  # the embedded server runs
    written = "First payment not completed: the card was declined. (Your card was declined.)"
    problems = {"sub_declined": written, "sub_fine": None}
    with scratch_database(settings, revision="0020_purchase_refunds") as url:
        engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
        try:
            with Session(engine) as session, session.begin():
                sales = sold_memberships(session, len(problems))
                for (subscription_id, problem), sale in zip(problems.items(), sales, strict=True):
                    session.execute(
                        text(
                            "INSERT INTO billing_subscriptions (id, tenant_id, member_id, "
                            "plan_id, membership_id, stripe_subscription_id, status, "
                            "cancel_at_period_end, payment_problem, created_at, updated_at) "
                            "VALUES (:id, :tenant, :member, :plan, :membership, :sub, "
                            "'incomplete', false, :problem, now(), now())"
                        ),
                        {"id": uuid.uuid4(), "sub": subscription_id, "problem": problem, **sale},
                    )
            upgrade_to(engine, "0021_payment_reasons")
            with engine.connect() as connection:
                kept = dict(
                    connection.execute(
                        text(
                            "SELECT stripe_subscription_id, payment_reason "
                            "FROM billing_subscriptions"
                        )
                    ).all()
                )
        finally:
            engine.dispose()
    assert kept == {"sub_declined": {"code": "as_written", "text": written}, "sub_fine": None}
    assert reasons.describe(kept["sub_declined"]) == written
