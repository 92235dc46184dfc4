"""pydantic's per-field messages in a `VALIDATION_ERROR`'s `details`: French for a French
request, pydantic's English otherwise, with the same `field` and `type` either way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TenantOwner
from visage.i18n.context import using
from visage.i18n.validation import field_message

FRENCH = {"Accept-Language": "fr-FR,fr;q=0.9"}
ENGLISH = {"Accept-Language": "en-US,en;q=0.9"}


def _details(response: Any) -> dict[str, tuple[str, str]]:
    assert response.status_code == 422, response.text
    return {d["field"]: (d["type"], d["message"]) for d in response.json()["error"]["details"]}


def test_a_members_fields_are_refused_in_french_with_the_same_types(
    client: TestClient, make_tenant_owner: Callable[[], TenantOwner]
) -> None:
    owner = make_tenant_owner()
    body = {"full_name": "", "email": "not-an-address", "phone": "x", "is_active": "maybe", "x": 1}
    french = _details(
        client.post("/api/v1/members", json=body, headers={**owner.headers, **FRENCH})
    )
    english = _details(
        client.post("/api/v1/members", json=body, headers={**owner.headers, **ENGLISH})
    )
    assert french == {
        "body.full_name": ("string_too_short", "Au moins 1 caractère"),
        "body.email": ("value_error", "Adresse e-mail invalide"),
        "body.phone": ("string_pattern_mismatch", "Pas au format attendu"),
        "body.is_active": ("bool_parsing", "true ou false est attendu"),
        "body.x": ("extra_forbidden", "Champ inconnu : non autorisé ici"),
    }
    assert {field: kind for field, (kind, _) in english.items()} == {
        field: kind for field, (kind, _) in french.items()
    }
    assert english["body.full_name"][1] == "String should have at least 1 character"
    assert english["body.x"][1] == "Extra inputs are not permitted"


def test_limits_choices_and_our_own_rules_read_in_french(
    client: TestClient, make_tenant_owner: Callable[[], TenantOwner]
) -> None:
    owner = make_tenant_owner()
    headers = {**owner.headers, **FRENCH}
    plan = {"name": "x" * 201, "kind": "visit_pack", "visits": 0}
    assert _details(client.post("/api/v1/plans", json=plan, headers=headers)) == {
        "body.name": ("string_too_long", "Au plus 200 caractères"),
        "body.visits": ("greater_than_equal", "Doit être au moins 1"),
    }
    rule = {"name": "Ten visits", "kind": "visit_pack"}
    assert _details(client.post("/api/v1/plans", json=rule, headers=headers)) == {
        "body": ("value_error", "une carte de visites a besoin de `visits`")
    }
    locale = client.put("/api/v1/auth/me/locale", json={"locale": "de"}, headers=headers)
    assert _details(locale) == {"body.locale": ("literal_error", "Valeur attendue : 'en' ou 'fr'")}
    assert _details(client.post("/api/v1/auth/login", json={}, headers=FRENCH)) == {
        "body.password": ("missing", "Champ obligatoire")
    }
    page = client.get("/api/v1/members", params={"page": "two"}, headers=headers)
    assert _details(page) == {"query.page": ("int_parsing", "Un nombre entier est attendu")}


def _error(kind: str, english: str, **ctx: object) -> dict[str, Any]:
    return {"type": kind, "msg": english, "ctx": ctx}


@pytest.mark.parametrize(
    ("error", "french"),
    [
        (
            _error("greater_than", "Input should be greater than 0.5", gt=0.5),
            "Doit être supérieur à 0,5",
        ),
        (
            _error(
                "too_long",
                "List should have at most 2 items after validation, not 3",
                max_length=2,
                actual_length=3,
            ),
            "Au plus 2 éléments",
        ),
        (
            _error("enum", "Input should be 'a', 'b' or 'c'", expected="'a', 'b' or 'c'"),
            "Valeur attendue : 'a', 'b' ou 'c'",
        ),
        (
            _error(
                "value_error", "Value error, not one of ours", error=ValueError("not one of ours")
            ),
            "Valeur invalide : not one of ours",
        ),
        (_error("some_new_type", "Something pydantic says"), "Something pydantic says"),
    ],
    ids=["number", "list", "enum", "unknown-rule", "unknown-type"],
)
def test_each_kind_of_error_reads_in_french(error: dict[str, Any], french: str) -> None:
    with using("fr"):
        assert field_message(error) == french
    with using("en"):
        assert field_message(error) == error["msg"]
