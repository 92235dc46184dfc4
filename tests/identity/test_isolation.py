"""Tenant isolation, checked over the whole route table.

Every route with an id in its path is called by tenant B's owner and by a kiosk key of
tenant B, with ids of tenant A's objects: the answer is 404 (or a refusal that does not depend
on the object: the same for a random id), never 2xx. Routes added later are covered without
touching this file: tenant A's objects are made by the API's own create endpoints (`POST` on
the collection path, with a minimal body built from the OpenAPI schema) or by the small
registry below; an id no one can make is replaced by a random one, which must give 404, not 500.
"""

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from visage.app import create_app
from visage.config import Settings
from visage.core.db import Database
from visage.core.deps import DbSession
from visage.core.errors import NotFound
from visage.events.models import Event, Photo, Visibility
from visage.identity import service
from visage.identity.dependencies import CurrentPrincipal
from visage.identity.models import Role, Tenant, User

ID_PARAM = re.compile(r"\{(\w+)\}")
ENUM_VARIANTS = 4


def _is_id(name: str) -> bool:
    return name == "id" or name.endswith("_id")


@dataclass
class Setup:
    tenant_a: Tenant
    headers_a: dict[str, str]
    headers_b: dict[str, str]
    device_b: dict[str, str]
    database: Database
    make_user: Callable[..., User]


# Ids the API cannot make for itself (or makes only through flows a test cannot drive).
REGISTRY: dict[str, Callable[[Setup], str]] = {
    "tenant_id": lambda s: str(s.tenant_a.id),
    "user_id": lambda s: str(s.make_user(s.tenant_a, Role.MEMBER).id),
}


def _device_of_a(setup: Setup) -> str:
    with setup.database.session() as session:
        device, _ = service.create_device(session, setup.tenant_a.id, "Tenant A kiosk")
    return str(device.id)


REGISTRY["device_id"] = _device_of_a


def _photo_of_a(setup: Setup) -> str:
    """Photos come only from multipart uploads: one row of tenant A, enough to be refused."""
    with setup.database.session() as session:
        event = Event(
            tenant_id=setup.tenant_a.id,
            name="Tenant A event",
            slug=f"a-{uuid.uuid4().hex[:8]}",
            event_date=date.today(),
            visibility=Visibility.PUBLIC,
            access_code=uuid.uuid4().hex[:10].upper(),
            expires_at=datetime.now(UTC),
        )
        session.add(event)
        session.flush()
        photo = Photo(
            tenant_id=setup.tenant_a.id,
            event_id=event.id,
            filename="a.jpg",
            content_hash=uuid.uuid4().hex,
            format="jpeg",
            size_bytes=1,
            width=1,
            height=1,
        )
        session.add(photo)
        session.flush()
        return str(photo.id)


REGISTRY["photo_id"] = _photo_of_a


@dataclass
class BodyBuilder:
    """A minimal JSON body satisfying an OpenAPI schema: required fields only."""

    spec: dict[str, Any]
    id_for: Callable[[str], str]
    # Which value of each enum to use: another variant may pass a cross-field rule.
    variant: int = 0

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            schema = self.spec["components"]["schemas"][name]
        for key in ("anyOf", "oneOf", "allOf"):
            if key in schema:
                options = [o for o in schema[key] if o.get("type") != "null"]
                return self._resolve(options[0])
        return schema

    def build(self, schema: dict[str, Any], name: str = "") -> Any:
        schema = self._resolve(schema)
        if "enum" in schema:
            return schema["enum"][self.variant % len(schema["enum"])]
        if "const" in schema:
            return schema["const"]
        kind = schema.get("type", "object")
        if kind == "object":
            properties = schema.get("properties", {})
            return {key: self.build(properties[key], key) for key in schema.get("required", [])}
        if kind == "array":
            count = schema.get("minItems", 0)
            return [self.build(schema.get("items", {}), name) for _ in range(count)]
        if kind == "integer":
            return max(int(schema.get("minimum", 1)), int(schema.get("exclusiveMinimum", 0)) + 1)
        if kind == "number":
            return float(schema.get("minimum", 1))
        if kind == "boolean":
            return True
        return self._string(schema, name)

    def _string(self, schema: dict[str, Any], name: str) -> str:
        text_format = schema.get("format")
        if text_format == "uuid":
            return self.id_for(name) if _is_id(name) else str(uuid.uuid4())
        if text_format == "email":
            return f"iso-{uuid.uuid4().hex[:10]}@example.com"
        if text_format == "date":
            return date.today().isoformat()
        if text_format == "date-time":
            return datetime.now(UTC).isoformat()
        value = "iso" + uuid.uuid4().hex  # lower-case letters and digits: fits slugs and names
        minimum, maximum = schema.get("minLength", 1), schema.get("maxLength", len(value))
        return value.ljust(minimum, "x")[: max(maximum, minimum)]


@dataclass
class TenantAObjects:
    """Ids of tenant A's objects, made once per id name."""

    client: TestClient
    spec: dict[str, Any]
    setup: Setup
    made: dict[str, str] = field(default_factory=dict)
    unmakeable: set[str] = field(default_factory=set)
    _making: set[str] = field(default_factory=set)

    def id_for(self, name: str) -> str:
        if name in self.made:
            return self.made[name]
        value = None
        if name in REGISTRY:
            value = REGISTRY[name](self.setup)
        elif name not in self._making:
            self._making.add(name)
            value = self._create_through_api(name)
            self._making.discard(name)
        if value is None:
            self.unmakeable.add(name)
            return str(uuid.uuid4())
        self.made[name] = value
        return value

    def _create_through_api(self, name: str) -> str | None:
        for path in self.spec["paths"]:
            marker = "/{" + name + "}"
            if marker not in path:
                continue
            collection = path[: path.index(marker)]
            create = self.spec["paths"].get(collection, {}).get("post")
            content = (create or {}).get("requestBody", {}).get("content", {})
            if create is None or (content and "application/json" not in content):
                continue
            url = ID_PARAM.sub(lambda m: self.id_for(m.group(1)), collection)
            for variant in range(ENUM_VARIANTS):
                body = None
                if content:
                    builder = BodyBuilder(self.spec, self.id_for, variant)
                    body = builder.build(content["application/json"]["schema"])
                response = self.client.post(url, json=body, headers=self.setup.headers_a)
                if response.status_code in {200, 201} and isinstance(response.json(), dict):
                    created = response.json().get("id")
                    return str(created) if created else None
                if response.status_code != 422:
                    break
        return None


@pytest.fixture
def setup(
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
    auth_headers: Callable[[User], dict[str, str]],
    device_headers: Callable[[Tenant], dict[str, str]],
    database: Database,
) -> Setup:
    tenant_a, tenant_b = make_tenant(), make_tenant()
    return Setup(
        tenant_a=tenant_a,
        headers_a=auth_headers(make_user(tenant_a, Role.TENANT_OWNER)),
        headers_b=auth_headers(make_user(tenant_b, Role.TENANT_OWNER)),
        device_b=device_headers(tenant_b),
        database=database,
        make_user=make_user,
    )


def _routes_with_ids(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in spec["paths"].items():
        if any(_is_id(name) for name in ID_PARAM.findall(path)):
            for method, operation in operations.items():
                yield path, method, operation


def walk(
    client: TestClient, setup: Setup, *, only: Callable[[str], bool] = lambda _: True
) -> tuple[list[str], TenantAObjects, int]:
    """Call every id route as tenant B's owner and kiosk; the problems found."""
    spec = client.app.openapi()  # type: ignore[attr-defined]
    objects = TenantAObjects(client, spec, setup)
    failures: list[str] = []
    checked = 0
    for path, method, operation in _routes_with_ids(spec):
        if not only(path):
            continue
        names = ID_PARAM.findall(path)
        a_values = {n: objects.id_for(n) if _is_id(n) else "iso-value" for n in names}
        random_values = {n: str(uuid.uuid4()) if _is_id(n) else "iso-value" for n in names}
        content = operation.get("requestBody", {}).get("content", {})
        body = None
        if "application/json" in content:
            body = BodyBuilder(spec, lambda _: str(uuid.uuid4())).build(
                content["application/json"]["schema"]
            )

        def status(values: dict[str, str], headers: dict[str, str]) -> int:
            url = ID_PARAM.sub(lambda m: values[m.group(1)], path)  # noqa: B023
            return client.request(method, url, json=body, headers=headers).status_code  # noqa: B023

        label = f"{method.upper()} {path}"
        checked += 1
        for who, headers, refusals in (
            ("tenant B's user", setup.headers_b, {404}),
            ("tenant B's kiosk", setup.device_b, {401, 403, 404}),
        ):
            for_random = status(random_values, headers)
            for_a = status(a_values, headers)
            if for_random >= 500 or 200 <= for_random < 300:
                failures.append(f"{label} as {who}, random id: {for_random}")
            # A refusal that does not depend on the object (permission, payload) is no leak.
            if for_a not in refusals and for_a != for_random:
                failures.append(
                    f"{label} as {who}, tenant A's object: {for_a} (random: {for_random})"
                )
    return failures, objects, checked


def test_other_tenants_objects_answer_404(client: TestClient, setup: Setup) -> None:
    failures, objects, checked = walk(client, setup)
    assert checked > 20
    # The identity objects must always be real, or the walk proves little for them.
    assert {"tenant_id", "user_id", "device_id"} <= objects.made.keys()
    assert not failures, "\n".join(failures)
    print(f"isolation: {checked} routes; made {sorted(objects.made)}")
    print(f"isolation: random ids for {sorted(objects.unmakeable)}")


def test_the_walk_catches_a_route_that_ignores_the_tenant(settings: Settings, setup: Setup) -> None:
    leaky = APIRouter()

    @leaky.get("/leaky-users/{user_id}")
    def read_any_user(
        user_id: uuid.UUID, session: DbSession, _: CurrentPrincipal
    ) -> dict[str, str]:
        user = session.get(User, user_id)  # no tenant scope: the bug the walk must catch
        if user is None:
            raise NotFound()
        return {"username": user.username}

    app = create_app(settings, prewarm=False)
    app.include_router(leaky, prefix="/api/v1")
    failures, _, checked = walk(TestClient(app), setup, only=lambda path: "leaky" in path)
    assert checked == 1
    assert failures == [
        f"GET /api/v1/leaky-users/{{user_id}} as tenant B's {who}, tenant A's object: 200 "
        "(random: 404)"
        for who in ("user", "kiosk")
    ]
