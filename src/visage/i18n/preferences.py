"""Saved language choices: a user's preference, a tenant's default, and the locale and time
zone an account's requests and emails use."""

from __future__ import annotations

import uuid
from typing import Literal

from sqlalchemy import String, literal, select
from sqlalchemy.orm import Session

from visage.access.models import OpeningHours
from visage.i18n import context, negotiation
from visage.i18n.catalogs import DEFAULT_LOCALE
from visage.identity import audit
from visage.identity.models import Tenant, User
from visage.identity.principal import ClientInfo, Principal

LocaleCode = Literal["en", "fr"]


def tenant_timezone(session: Session, tenant_id: uuid.UUID | None) -> str:
    """The tenant's time zone (its opening hours'), UTC when it set none."""
    if tenant_id is None:
        return context.DEFAULT_TIMEZONE
    zone = session.scalar(select(OpeningHours.timezone).where(OpeningHours.tenant_id == tenant_id))
    return zone or context.DEFAULT_TIMEZONE


def adopt_principal(session: Session, principal: Principal) -> None:
    """The request's locale and time zone once the caller is known: the user's saved choice,
    else the visitor's page choice, else the tenant's default; the tenant's time zone. One
    query (it runs on every authenticated request, kiosk frames included)."""
    localization = context.current()
    user_locale = (
        select(User.locale).where(User.id == principal.id).scalar_subquery()
        if principal.kind == "user"
        else literal(None, String)
    )
    row = session.execute(
        select(user_locale, Tenant.default_locale, OpeningHours.timezone)
        .select_from(Tenant)
        .outerjoin(OpeningHours, OpeningHours.tenant_id == Tenant.id)
        .where(Tenant.id == principal.tenant_id)
    ).first()
    if row is None:  # a super admin: no tenant
        chosen = session.scalar(select(user_locale)) if principal.kind == "user" else None
        negotiation.adopt_account(localization, user_locale=chosen, tenant_locale=None)
        return
    chosen, tenant_locale, zone = row
    localization.timezone = zone or context.DEFAULT_TIMEZONE
    negotiation.adopt_account(localization, user_locale=chosen, tenant_locale=tenant_locale)


def locale_for_user(session: Session, user: User) -> str:
    """The language of an email to `user`: their choice, else their tenant's default, else
    the language of the request at hand."""
    if context.supported(user.locale):
        return user.locale or context.current_locale()
    if user.tenant_id is not None:
        tenant_locale = session.scalar(
            select(Tenant.default_locale).where(Tenant.id == user.tenant_id)
        )
        if context.supported(tenant_locale):
            return tenant_locale or context.current_locale()
    return context.current_locale()


def locale_for_tenant(session: Session, tenant_id: uuid.UUID, chosen: str | None = None) -> str:
    """`chosen` (a member's or an event's language) when set, else the tenant's default, else
    English: messages sent by jobs have no browser to ask."""
    if context.supported(chosen):
        return chosen or DEFAULT_LOCALE
    tenant_locale = session.scalar(select(Tenant.default_locale).where(Tenant.id == tenant_id))
    return context.supported(tenant_locale) or DEFAULT_LOCALE


def set_user_locale(
    session: Session, actor: Principal, locale: LocaleCode | None, client: ClientInfo
) -> User:
    """Save (or with None, forget) the signed-in user's language."""
    user = session.get_one(User, actor.id)
    if user.locale != locale:
        user.locale = locale
        audit.record_on(
            session,
            "user.locale_changed",
            user,
            actor=actor,
            client=client,
            details={"locale": locale},
        )
    return user
