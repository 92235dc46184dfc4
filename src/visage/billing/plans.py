"""Plans with their prices: the plan API (`/api/v1/plans`) carries `price_cents`, `currency`,
`billing_interval`, `trial_days` and `setup_fee_cents`. The plan's own rules stay in the access
service; pricing it (and its Stripe product and price) is `service.set_price`, the one rule that
`PUT /plans/{id}/price` also calls."""

from __future__ import annotations

import uuid

from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session

from visage.access import plans as access_plans
from visage.access.models import Plan
from visage.access.schemas import PlanCreate, PlanUpdate
from visage.billing import service
from visage.billing.gateway import StripeGateway
from visage.billing.models import PlanPrice
from visage.billing.schemas import (
    PlanPriceFields,
    PricedPlanCreate,
    PricedPlanOut,
    PricedPlanUpdate,
    PriceIn,
)
from visage.config import Settings
from visage.core.errors import ValidationFailed
from visage.identity.principal import Principal

PRICE_COLUMNS = (
    "price_cents",
    "currency",
    "billing_interval",
    "trial_days",
    "setup_fee_cents",
    "stripe_product_id",
    "stripe_price_id",
)


def plan_out(plan: Plan, price: PlanPrice | None) -> PricedPlanOut:
    out = PricedPlanOut.model_validate(plan)
    if price is not None:
        out = out.model_copy(update={name: getattr(price, name) for name in PRICE_COLUMNS})
    return out


def _price_of(session: Session, plan: Plan) -> PlanPrice | None:
    return session.get(PlanPrice, plan.id)


def _priced(
    session: Session,
    settings: Settings,
    principal: Principal,
    plan: Plan,
    terms: PlanPriceFields,
    *,
    renamed: bool,
) -> PricedPlanOut:
    """Apply the price terms sent (merged over the current price); a renamed priced plan
    renames its Stripe product."""
    sent = terms.price_terms_sent()
    current = _price_of(session, plan)
    if not sent and not (renamed and current is not None):
        return plan_out(plan, current)
    merged: dict[str, object] = {}
    if current is not None:
        merged = {
            "price_cents": current.price_cents,
            "currency": current.currency,
            "billing_interval": current.billing_interval,
            "trial_days": current.trial_days,
            "setup_fee_cents": current.setup_fee_cents,
        }
    merged |= {name: value for name, value in sent.items() if value is not None or current}
    if merged.get("price_cents") is None:
        raise ValidationFailed(
            "`price_cents` is needed to price a plan.",
            details=[{"field": "price_cents", "message": "required with the other price terms"}],
        )
    try:
        price_in = PriceIn.model_validate(
            {name: value for name, value in merged.items() if value is not None}
        )
    except PydanticValidationError as error:
        problems = [{"field": "price", "message": item["msg"]} for item in error.errors()]
        raise ValidationFailed(problems[0]["message"], details=problems) from error
    price = service.set_price(session, principal, StripeGateway(settings), plan.id, price_in)
    return plan_out(plan, price)


def create_plan(
    session: Session, settings: Settings, principal: Principal, data: PricedPlanCreate
) -> PricedPlanOut:
    plan_fields = data.model_dump(include=set(PlanCreate.model_fields))
    plan = access_plans.create_plan(session, principal, PlanCreate(**plan_fields))
    return _priced(session, settings, principal, plan, data, renamed=False)


def update_plan(
    session: Session,
    settings: Settings,
    principal: Principal,
    plan_id: uuid.UUID,
    data: PricedPlanUpdate,
) -> PricedPlanOut:
    plan_fields = data.model_dump(include=set(PlanUpdate.model_fields) & data.model_fields_set)
    before = access_plans.get_plan(session, principal, plan_id).name
    plan = access_plans.update_plan(session, principal, plan_id, PlanUpdate(**plan_fields))
    return _priced(session, settings, principal, plan, data, renamed=plan.name != before)


def get_plan(session: Session, principal: Principal, plan_id: uuid.UUID) -> PricedPlanOut:
    plan = access_plans.get_plan(session, principal, plan_id)
    return plan_out(plan, _price_of(session, plan))


def list_plans(
    session: Session, principal: Principal, *, include_retired: bool
) -> list[PricedPlanOut]:
    plans = access_plans.list_plans(session, principal, include_retired=include_retired)
    prices = {price.plan_id: price for price in service.list_prices(session, principal)}
    return [plan_out(plan, prices.get(plan.id)) for plan in plans]
