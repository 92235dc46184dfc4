"""Tenant isolation (BOLA), checked over the whole route table, every domain's routes included.

Every route with an id in its path is called by tenant B's owner and by a kiosk key of
tenant B, with ids of tenant A's objects: the answer is 404 (or a refusal that does not depend
on the object: the same for a random id), never 2xx. Routes added later are covered without
touching this file: tenant A's objects are made by the API's own create endpoints (`POST` on
the collection path, with a minimal body built from the OpenAPI schema) or by the small
registry below; an id no one can make is replaced by a random one, which must give 404, not 500.
Routes that name objects in the query or the JSON body instead are called by tenant B's owner
with tenant A's ids and with random ones: the answers must be the same.
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
from visage.events.models import TEMPLATE_DIMENSIONS, Person, Photo
from visage.identity import service
from visage.identity.dependencies import CurrentPrincipal
from visage.identity.models import Role, Tenant, User
from visage.messaging.models import Message, WhatsAppSession
from visage.publishing.models import Platform, Post, SocialAccount

ID_PARAM = re.compile(r"\{(\w+)\}")
ENUM_VARIANTS = 4
# Not 503: the honest answer when an outside service is down (named in the body).
SERVER_ERRORS = {500, 501, 502, 504}


def _is_id(name: str) -> bool:
    return name == "id" or name.endswith("_id")


def _names_objects(name: str) -> bool:
    return _is_id(name) or name.endswith("_ids")


@dataclass
class Setup:
    tenant_a: Tenant
    headers_a: dict[str, str]
    headers_b: dict[str, str]
    device_b: dict[str, str]
    database: Database
    make_user: Callable[..., User]


# Ids the API cannot make for itself (or makes only through flows a test cannot drive: photo
# uploads, face clustering, OAuth, WAHA): rows of tenant A written directly. Each maker gets
# the walk's `id_for`, so a nested object belongs to the parent the walk puts in the path.
Maker = Callable[[Setup, Callable[[str], str]], str]


def _user_of_a(setup: Setup, _: Callable[[str], str]) -> str:
    return str(setup.make_user(setup.tenant_a, Role.MEMBER).id)


def _device_of_a(setup: Setup, _: Callable[[str], str]) -> str:
    with setup.database.session() as session:
        device, _key = service.create_device(session, setup.tenant_a.id, "Tenant A kiosk")
    return str(device.id)


def _row_of_a(setup: Setup, model: type[Any], **fields: Any) -> str:
    with setup.database.session() as session:
        row = model(tenant_id=setup.tenant_a.id, **fields)
        session.add(row)
        session.flush()
        return str(row.id)


def _photo_of_a(setup: Setup, id_for: Callable[[str], str]) -> str:
    return _row_of_a(
        setup,
        Photo,
        event_id=uuid.UUID(id_for("event_id")),
        filename="a.jpg",
        content_hash=uuid.uuid4().hex,
        format="jpeg",
        size_bytes=1,
        width=1,
        height=1,
    )


def _person_of_a(setup: Setup, id_for: Callable[[str], str]) -> str:
    event_id = uuid.UUID(id_for("event_id"))
    return _row_of_a(setup, Person, event_id=event_id, centroid=[0.0] * TEMPLATE_DIMENSIONS)


def _whatsapp_session_of_a(setup: Setup, _: Callable[[str], str]) -> str:
    name = f"a-{uuid.uuid4().hex[:12]}"
    return _row_of_a(setup, WhatsAppSession, name=name, label="Tenant A phone")


def _message_of_a(setup: Setup, _: Callable[[str], str]) -> str:
    fields = {"direction": "outbound", "phone": "33612345678", "text": "Hi", "status": "sent"}
    return _row_of_a(setup, Message, **fields)


def _social_account_of_a(setup: Setup, _: Callable[[str], str]) -> str:
    return _row_of_a(
        setup,
        SocialAccount,
        platform=Platform.BLUESKY,
        external_id=f"did:plc:{uuid.uuid4().hex}",
        username="tenant-a.bsky.social",
        access_token=b"sealed",
    )


def _post_of_a(setup: Setup, _: Callable[[str], str]) -> str:
    return _row_of_a(setup, Post, text="Tenant A's post")


REGISTRY: dict[str, Maker] = {
    "tenant_id": lambda s, _: str(s.tenant_a.id),
    "user_id": _user_of_a,
    "device_id": _device_of_a,
    "photo_id": _photo_of_a,
    "person_id": _person_of_a,
    "session_id": _whatsapp_session_of_a,
    "message_id": _message_of_a,
    "account_id": _social_account_of_a,
    "post_id": _post_of_a,
}


@dataclass
class BodyBuilder:
    """A minimal JSON body satisfying an OpenAPI schema: required fields only."""

    spec: dict[str, Any]
    id_for: Callable[[str], str]
    # Which value of each enum to use: another variant may pass a cross-field rule.
    variant: int = 0
    # Also the optional fields that name other objects (`*_id`, `*_ids`), one id each.
    with_references: bool = False

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
            wanted = [
                key
                for key in properties
                if key in schema.get("required", [])
                or (self.with_references and _names_objects(key))
            ]
            return {key: self.build(properties[key], key) for key in wanted}
        if kind == "array":
            count = schema.get("minItems", 0)
            if self.with_references and name.endswith("_ids"):
                count, name = max(count, 1), name.removesuffix("s")
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
            value = REGISTRY[name](self.setup, self.id_for)
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


def _json_body(operation: dict[str, Any]) -> dict[str, Any] | None:
    content = operation.get("requestBody", {}).get("content", {})
    schema: dict[str, Any] | None = content.get("application/json", {}).get("schema")
    return schema


def walk_references(
    client: TestClient, setup: Setup, *, only: Callable[[str], bool] = lambda _: True
) -> tuple[list[str], int]:
    """Routes without an id in the path that name objects in the query or the JSON body
    (`POST /messages {member_id}`, `GET /checkins?member_id=`): tenant B's owner naming
    tenant A's objects gets what a random id gets: the same status, and for a read the same
    answer (nothing of A's)."""
    spec = client.app.openapi()  # type: ignore[attr-defined]
    objects = TenantAObjects(client, spec, setup)
    failures: list[str] = []
    checked = 0
    for path, operations in spec["paths"].items():
        if ID_PARAM.search(path) or not only(path):
            continue  # the path walk covers ids in the path
        for method, operation in operations.items():
            query = [
                p["name"]
                for p in operation.get("parameters", [])
                if p["in"] == "query" and _names_objects(p["name"])
            ]
            schema = _json_body(operation)
            random_body = a_body = None
            if schema is not None:
                fresh = BodyBuilder(spec, lambda _: str(uuid.uuid4()), with_references=True)
                random_body = fresh.build(schema)
                a_body = BodyBuilder(spec, objects.id_for, with_references=True).build(schema)
            if not query and a_body == random_body:
                continue  # names no object
            checked += 1

            def answer(body: Any, id_for: Callable[[str], str]) -> tuple[int, Any]:
                params = {name: id_for(name.removesuffix("s")) for name in query}  # noqa: B023
                response = client.request(
                    method,  # noqa: B023
                    path,  # noqa: B023
                    params=params,
                    json=body,
                    headers=setup.headers_b,
                )
                if not response.headers.get("content-type", "").startswith("application/json"):
                    return response.status_code, response.text
                answered = response.json()
                if isinstance(answered, dict) and "error" in answered:
                    return response.status_code, answered["error"]["code"]  # not its request id
                return response.status_code, answered

            label = f"{method.upper()} {path}"
            for_random = answer(random_body, lambda _: str(uuid.uuid4()))
            for_a = answer(a_body, objects.id_for)
            if {for_random[0], for_a[0]} & SERVER_ERRORS:
                failures.append(f"{label}: a server error ({for_random[0]}, {for_a[0]})")
            elif for_a[0] != for_random[0] or (method == "get" and for_a != for_random):
                failures.append(
                    f"{label} naming tenant A's objects: {for_a} (random: {for_random})"
                )
    return failures, checked


def test_other_tenants_objects_answer_404(client: TestClient, setup: Setup) -> None:
    failures, objects, checked = walk(client, setup)
    assert checked > 20
    # The identity objects must always be real, or the walk proves little for them.
    assert set(REGISTRY) <= objects.made.keys()
    assert not failures, "\n".join(failures)
    print(f"isolation: {checked} routes; made {sorted(objects.made)}")
    print(f"isolation: random ids for {sorted(objects.unmakeable)}")


@pytest.mark.usefixtures("outside_world")
def test_naming_other_tenants_objects_in_a_body_or_query_changes_nothing(
    client: TestClient, setup: Setup
) -> None:
    failures, checked = walk_references(client, setup)
    print(f"isolation: {checked} routes naming objects in the query or body")
    assert checked > 10
    assert not failures, "\n".join(failures)


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


def test_the_reference_walk_catches_a_query_that_ignores_the_tenant(
    settings: Settings, setup: Setup
) -> None:
    leaky = APIRouter()

    @leaky.get("/leaky-names")
    def name_of_any_user(
        user_id: uuid.UUID, session: DbSession, _: CurrentPrincipal
    ) -> dict[str, str | None]:
        user = session.get(User, user_id)  # no tenant scope: the bug the walk must catch
        return {"username": user.username if user else None}

    app = create_app(settings, prewarm=False)
    app.include_router(leaky, prefix="/api/v1")
    failures, checked = walk_references(TestClient(app), setup, only=lambda p: "leaky" in p)
    assert checked == 1
    assert len(failures) == 1
    assert failures[0].startswith("GET /api/v1/leaky-names naming tenant A's objects: (200, {")
