"""The identity API: auth, tenants, users, kiosk devices, audit log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel

from visage.core.deps import AppSettings, DbSession
from visage.core.paging import Page, Paging, page_of
from visage.i18n.context import N_, gettext
from visage.i18n.cookies import remember_account_language
from visage.identity import api_tokens, auth, management, service
from visage.identity.dependencies import Client, CurrentUser, require
from visage.identity.models import Role
from visage.identity.permissions import ROLE_PERMISSIONS, Permission
from visage.identity.principal import Principal
from visage.identity.schemas import (
    Accepted,
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenOut,
    AuditEventOut,
    DeviceCreate,
    DeviceCreated,
    DeviceOut,
    EmailRequest,
    LoginRequest,
    MeOut,
    PasswordResetConfirm,
    RefreshRequest,
    TenantCreate,
    TenantOut,
    TenantUpdate,
    TokenPair,
    TokenRequest,
    UserCreate,
    UserOut,
    UserUpdate,
)

TenantAdmin = Annotated[Principal, Depends(require(Permission.TENANTS_MANAGE))]
TenantReader = Annotated[Principal, Depends(require(Permission.TENANT_READ))]
TenantEditor = Annotated[Principal, Depends(require(Permission.TENANT_UPDATE))]
UserReader = Annotated[Principal, Depends(require(Permission.USERS_READ))]
UserManager = Annotated[Principal, Depends(require(Permission.USERS_MANAGE))]
DeviceManager = Annotated[Principal, Depends(require(Permission.DEVICES_MANAGE))]
AuditReader = Annotated[Principal, Depends(require(Permission.AUDIT_READ))]


def _tokens(issued: service.IssuedTokens) -> TokenPair:
    return TokenPair(
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        expires_in=issued.expires_in,
    )


CreatedT = TypeVar("CreatedT", bound=BaseModel)


def _shown_once(
    created: type[CreatedT], out: type[BaseModel], row: object, **secret: str
) -> CreatedT:
    """A new object's answer with its secret (API token, kiosk key), which is stored hashed."""
    return created.model_validate({**out.model_validate(row).model_dump(), **secret})


# --- auth ----------------------------------------------------------------------------------

auth_router = APIRouter(prefix="/auth", tags=["auth"])


@auth_router.post("/login")
def login(
    body: LoginRequest,
    session: DbSession,
    settings: AppSettings,
    client: Client,
    response: Response,
) -> TokenPair:
    """Sets the language cookie to the account's language: the first page after signing in
    already speaks it."""
    issued = auth.login(
        session,
        settings,
        username=body.username,
        email=body.email,
        password=body.password,
        tenant_slug=body.tenant,
        client=client,
    )
    remember_account_language(response)
    return _tokens(issued)


@auth_router.post("/refresh")
def refresh(
    body: RefreshRequest, session: DbSession, settings: AppSettings, client: Client
) -> TokenPair:
    return _tokens(auth.refresh(session, settings, body.refresh_token, client))


@auth_router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(session: DbSession, principal: CurrentUser, client: Client) -> None:
    auth.logout(session, principal, client)


@auth_router.get("/me")
def me(session: DbSession, principal: CurrentUser) -> MeOut:
    user, tenant = management.profile(session, principal)
    assert principal.role is not None  # users always have one
    return MeOut.model_validate(
        {
            **UserOut.model_validate(user).model_dump(),
            "locale": user.locale,
            "tenant": TenantOut.model_validate(tenant) if tenant else None,
            "permissions": sorted(p.value for p in ROLE_PERMISSIONS[principal.role]),
        }
    )


_ACCEPTED_TEXT = N_("If an account matches, an email is on its way.")


@auth_router.post("/password/reset", status_code=status.HTTP_202_ACCEPTED)
def request_password_reset(
    body: EmailRequest, session: DbSession, settings: AppSettings, client: Client
) -> Accepted:
    auth.request_password_reset(session, settings, body.email, body.tenant, client)
    return Accepted(detail=gettext(_ACCEPTED_TEXT))


@auth_router.post("/password/reset/confirm", status_code=status.HTTP_204_NO_CONTENT)
def confirm_password_reset(body: PasswordResetConfirm, session: DbSession, client: Client) -> None:
    auth.confirm_password_reset(session, body.token, body.new_password, client)


@auth_router.post("/verify-email", status_code=status.HTTP_204_NO_CONTENT)
def verify_email(body: TokenRequest, session: DbSession, client: Client) -> None:
    auth.verify_email(session, body.token, client)


@auth_router.post("/resend-verification", status_code=status.HTTP_202_ACCEPTED)
def resend_verification(body: EmailRequest, session: DbSession, settings: AppSettings) -> Accepted:
    auth.resend_verification(session, settings, body.email, body.tenant)
    return Accepted(detail=gettext(_ACCEPTED_TEXT))


@auth_router.post("/tokens", status_code=status.HTTP_201_CREATED)
def create_api_token(
    body: ApiTokenCreate, session: DbSession, principal: CurrentUser, client: Client
) -> ApiTokenCreated:
    api_token, token = api_tokens.create_api_token(
        session, principal, name=body.name, expires_in_days=body.expires_in_days, client=client
    )
    return _shown_once(ApiTokenCreated, ApiTokenOut, api_token, token=token)


@auth_router.get("/tokens")
def list_api_tokens(session: DbSession, principal: CurrentUser) -> list[ApiTokenOut]:
    return [ApiTokenOut.model_validate(t) for t in api_tokens.list_api_tokens(session, principal)]


@auth_router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_api_token(
    token_id: uuid.UUID, session: DbSession, principal: CurrentUser, client: Client
) -> None:
    api_tokens.revoke_api_token(session, principal, token_id, client)


# --- tenants -------------------------------------------------------------------------------

tenants_router = APIRouter(prefix="/tenants", tags=["tenants"])


@tenants_router.post("", status_code=status.HTTP_201_CREATED)
def create_tenant(
    body: TenantCreate, session: DbSession, principal: TenantAdmin, client: Client
) -> TenantOut:
    tenant = management.add_tenant(
        session,
        principal,
        name=body.name,
        slug=body.slug,
        client=client,
        default_locale=body.default_locale,
    )
    return TenantOut.model_validate(tenant)


@tenants_router.get("")
def list_tenants(
    session: DbSession,
    principal: TenantAdmin,
    paging: Paging,
    search: Annotated[str | None, Query(max_length=100)] = None,
    active: bool | None = None,
) -> Page[TenantOut]:
    tenants, total = management.list_tenants(session, search=search, active=active, paging=paging)
    return page_of([TenantOut.model_validate(t) for t in tenants], total, paging)


@tenants_router.get("/me")
def my_tenant(session: DbSession, principal: TenantReader) -> TenantOut:
    return TenantOut.model_validate(management.my_tenant(session, principal))


@tenants_router.patch("/me")
def update_my_tenant(
    body: TenantUpdate, session: DbSession, principal: TenantEditor, client: Client
) -> TenantOut:
    changes = body.model_dump(exclude_unset=True)
    return TenantOut.model_validate(
        management.update_tenant(session, principal, principal.tenant(), changes, client)
    )


@tenants_router.get("/{tenant_id}")
def get_tenant(tenant_id: uuid.UUID, session: DbSession, principal: TenantAdmin) -> TenantOut:
    return TenantOut.model_validate(management.get_tenant(session, tenant_id))


@tenants_router.patch("/{tenant_id}")
def update_tenant(
    tenant_id: uuid.UUID,
    body: TenantUpdate,
    session: DbSession,
    principal: TenantAdmin,
    client: Client,
) -> TenantOut:
    changes = body.model_dump(exclude_unset=True)
    return TenantOut.model_validate(
        management.update_tenant(session, principal, tenant_id, changes, client)
    )


def _set_tenant_active(
    session: DbSession, principal: Principal, tenant_id: uuid.UUID, client: Client, active: bool
) -> TenantOut:
    return TenantOut.model_validate(
        management.update_tenant(session, principal, tenant_id, {"is_active": active}, client)
    )


@tenants_router.post("/{tenant_id}/suspend")
def suspend_tenant(
    tenant_id: uuid.UUID, session: DbSession, principal: TenantAdmin, client: Client
) -> TenantOut:
    return _set_tenant_active(session, principal, tenant_id, client, active=False)


@tenants_router.post("/{tenant_id}/activate")
def activate_tenant(
    tenant_id: uuid.UUID, session: DbSession, principal: TenantAdmin, client: Client
) -> TenantOut:
    return _set_tenant_active(session, principal, tenant_id, client, active=True)


# --- users ---------------------------------------------------------------------------------

users_router = APIRouter(prefix="/users", tags=["users"])


@users_router.post("", status_code=status.HTTP_201_CREATED)
def create_user(
    body: UserCreate,
    session: DbSession,
    settings: AppSettings,
    principal: UserManager,
    client: Client,
) -> UserOut:
    fields = body.model_dump(exclude_unset=True)
    fields.setdefault("role", body.role)
    user = management.add_user(session, settings, principal, fields, client)
    return UserOut.model_validate(user)


@users_router.get("")
def list_users(
    session: DbSession,
    principal: UserReader,
    paging: Paging,
    role: Role | None = None,
    active: bool | None = None,
    search: Annotated[str | None, Query(max_length=100)] = None,
    tenant_id: uuid.UUID | None = None,
) -> Page[UserOut]:
    users, total = management.list_users(
        session,
        principal,
        role=role,
        active=active,
        search=search,
        tenant_id=tenant_id,
        paging=paging,
    )
    return page_of([UserOut.model_validate(u) for u in users], total, paging)


@users_router.get("/{user_id}")
def get_user(user_id: uuid.UUID, session: DbSession, principal: UserReader) -> UserOut:
    return UserOut.model_validate(management.get_user(session, principal, user_id))


@users_router.patch("/{user_id}")
def update_user(
    user_id: uuid.UUID,
    body: UserUpdate,
    session: DbSession,
    settings: AppSettings,
    principal: CurrentUser,
    client: Client,
) -> UserOut:
    changes = body.model_dump(exclude_unset=True)
    user = management.update_user(session, settings, principal, user_id, changes, client)
    return UserOut.model_validate(user)


@users_router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_user(
    user_id: uuid.UUID, session: DbSession, principal: UserManager, client: Client
) -> None:
    management.delete_user(session, principal, user_id, client)


@users_router.post("/{user_id}/activate")
def activate_user(
    user_id: uuid.UUID, session: DbSession, principal: UserManager, client: Client
) -> UserOut:
    return UserOut.model_validate(
        management.set_user_active(session, principal, user_id, True, client)
    )


@users_router.post("/{user_id}/deactivate")
def deactivate_user(
    user_id: uuid.UUID, session: DbSession, principal: UserManager, client: Client
) -> UserOut:
    return UserOut.model_validate(
        management.set_user_active(session, principal, user_id, False, client)
    )


# --- kiosk devices -------------------------------------------------------------------------

devices_router = APIRouter(prefix="/devices", tags=["devices"])


@devices_router.post("", status_code=status.HTTP_201_CREATED)
def create_device(
    body: DeviceCreate, session: DbSession, principal: DeviceManager, client: Client
) -> DeviceCreated:
    device, api_key = service.register_device(session, principal, body.name, client)
    return _shown_once(DeviceCreated, DeviceOut, device, api_key=api_key)


@devices_router.get("")
def list_devices(session: DbSession, principal: DeviceManager) -> list[DeviceOut]:
    return [DeviceOut.model_validate(d) for d in service.list_devices(session, principal)]


@devices_router.delete("/{device_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_device(
    device_id: uuid.UUID, session: DbSession, principal: DeviceManager, client: Client
) -> None:
    service.revoke_device(session, principal, device_id, client)


# --- audit log -----------------------------------------------------------------------------

audit_router = APIRouter(prefix="/audit", tags=["audit"])


@audit_router.get("")
def list_audit_events(
    session: DbSession,
    principal: AuditReader,
    paging: Paging,
    action: Annotated[str | None, Query(max_length=100)] = None,
    actor_id: uuid.UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    tenant_id: uuid.UUID | None = None,
) -> Page[AuditEventOut]:
    events, total = management.list_audit_events(
        session,
        principal,
        action=action,
        actor_id=actor_id,
        since=since,
        until=until,
        tenant_id=tenant_id,
        paging=paging,
    )
    return page_of([AuditEventOut.model_validate(e) for e in events], total, paging)


routers = [auth_router, tenants_router, users_router, devices_router, audit_router]
