"""Links to Visage's card page (where Stripe Checkout is not available): a signed, short-lived
token naming the tenant, member, SetupIntent and the plan to subscribe to (none: the card
only replaces the one the member pays with), so the member needs no account."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from visage.config import Settings
from visage.core.security import create_access_token, decode_access_token
from visage.core.tenancy import TenantId

CARD_LINK_TYPE = "billing_card"
CARD_LINK_MINUTES = 60


@dataclass(frozen=True)
class CardLink:
    tenant_id: TenantId
    member_id: uuid.UUID
    plan_id: uuid.UUID | None
    setup_intent: str


def issue(
    settings: Settings,
    *,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    plan_id: uuid.UUID | None,
    setup_intent: str,
) -> str:
    claims = {
        "type": CARD_LINK_TYPE,
        "tenant": str(tenant_id),
        "plan": str(plan_id) if plan_id else None,
        "seti": setup_intent,
    }
    return create_access_token(
        settings.secret_key, subject=member_id, expires_minutes=CARD_LINK_MINUTES, claims=claims
    )


def read(settings: Settings, token: str) -> CardLink:
    """The link's contents; NotAuthenticated when forged, expired or of another kind."""
    claims = decode_access_token(settings.secret_key, token, token_type=CARD_LINK_TYPE)
    return CardLink(
        tenant_id=TenantId(uuid.UUID(claims["tenant"])),
        member_id=uuid.UUID(claims["sub"]),
        plan_id=uuid.UUID(claims["plan"]) if claims.get("plan") else None,
        setup_intent=str(claims["seti"]),
    )
