"""The identity API: auth, tenants, users, devices, audit."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, status

from visage.core.deps import DbSession
from visage.identity import service
from visage.identity.dependencies import Client, require
from visage.identity.permissions import Permission
from visage.identity.principal import Principal
from visage.identity.schemas import DeviceCreate, DeviceCreated, DeviceOut

devices_router = APIRouter(prefix="/devices", tags=["devices"])

DeviceManager = Annotated[Principal, Depends(require(Permission.DEVICES_MANAGE))]


@devices_router.post("", status_code=status.HTTP_201_CREATED)
def create_device(
    body: DeviceCreate, session: DbSession, principal: DeviceManager, client: Client
) -> DeviceCreated:
    device, api_key = service.register_device(session, principal, body.name, client)
    return DeviceCreated.model_validate(
        {**DeviceOut.model_validate(device).model_dump(), "api_key": api_key}
    )


@devices_router.get("")
def list_devices(session: DbSession, principal: DeviceManager) -> list[DeviceOut]:
    return [DeviceOut.model_validate(d) for d in service.list_devices(session, principal)]


@devices_router.delete("/{device_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_device(
    device_id: uuid.UUID, session: DbSession, principal: DeviceManager, client: Client
) -> None:
    service.revoke_device(session, principal, device_id, client)


routers = [devices_router]
