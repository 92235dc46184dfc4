"""The request's language through the API, the pages and the emails: error messages in the
request's locale with the same codes, the saved preference, the tenant's default, the
attendee page, emails over SMTP."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import TEST_PASSWORD, TenantOwner
from tests.identity.conftest import Inbox
from tests.outbox import queued_emails
from visage.billing.models import Subscription
from visage.billing.notices import notify_payment_failed
from visage.billing.reasons import CONFIRM_WITH_BANK
from visage.billing.stripe_objects import StripeInvoice
from visage.config import Settings
from visage.core.db import Database
from visage.identity.email import EMAIL_QUEUE
from visage.identity.models import Role, Tenant, User

FRENCH = {"Accept-Language": "fr-FR,fr;q=0.9"}
ENGLISH = {"Accept-Language": "en-US,en;q=0.9"}


def _set_tenant_locale(database: Database, tenant: Tenant, locale: str | None) -> None:
    with database.session() as session:
        session.get_one(Tenant, tenant.id).default_locale = locale


def test_a_422_speaks_the_requests_language_and_keeps_its_code(client: TestClient) -> None:
    french = client.post("/api/v1/auth/login", json={"password": 3}, headers=FRENCH)
    english = client.post("/api/v1/auth/login", json={"password": 3}, headers=ENGLISH)
    assert (french.status_code, english.status_code) == (422, 422)
    assert french.json()["error"]["code"] == english.json()["error"]["code"] == "VALIDATION_ERROR"
    assert french.json()["error"]["message"] == "Certains champs sont invalides."
    assert english.json()["error"]["message"] == "Some fields are invalid."
    assert french.headers["content-language"] == "fr"


def test_domain_errors_are_translated_with_their_values(
    client: TestClient, make_tenant_owner: Callable[[], TenantOwner]
) -> None:
    refused = client.post(
        "/api/v1/auth/login", json={"username": "nobody", "password": "wrong"}, headers=FRENCH
    )
    assert refused.json()["error"] == {
        **refused.json()["error"],
        "code": "AUTH_001",
        "message": "Identifiants invalides. Connexion impossible avec les identifiants fournis.",
    }
    owner = make_tenant_owner()
    missing = client.get(f"/api/v1/members/{uuid.uuid4()}", headers={**owner.headers, **FRENCH})
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "NOT_FOUND")
    assert missing.json()["error"]["message"] == "Membre introuvable."


def test_the_saved_preference_wins_over_the_browser(
    client: TestClient, make_tenant_owner: Callable[[], TenantOwner]
) -> None:
    owner = make_tenant_owner()
    saved = client.put("/api/v1/auth/me/locale", json={"locale": "fr"}, headers=owner.headers)
    assert saved.json() == {"locale": "fr"}
    me = client.get("/api/v1/auth/me", headers={**owner.headers, **ENGLISH})
    assert (me.json()["locale"], me.headers["content-language"]) == ("fr", "fr")
    refused = client.put("/api/v1/auth/me/locale", json={"locale": "de"}, headers=owner.headers)
    assert refused.status_code == 422
    assert refused.json()["error"]["message"] == "Certains champs sont invalides."
    forgotten = client.put("/api/v1/auth/me/locale", json={"locale": None}, headers=owner.headers)
    assert forgotten.json() == {"locale": None}
    assert (
        client.get("/api/v1/auth/me", headers={**owner.headers, **ENGLISH}).headers[
            "content-language"
        ]
        == "en"
    )


def test_the_tenants_default_applies_to_people_without_a_choice(
    client: TestClient,
    make_tenant_owner: Callable[[], TenantOwner],
    make_user: Callable[..., User],
    auth_headers: Callable[[User], dict[str, str]],
) -> None:
    owner = make_tenant_owner()
    changed = client.patch(
        "/api/v1/tenants/me", json={"default_locale": "fr"}, headers=owner.headers
    )
    assert changed.json()["default_locale"] == "fr"
    staff = auth_headers(make_user(owner.tenant, Role.STAFF))
    me = client.get("/api/v1/auth/me", headers={**staff, **ENGLISH})
    assert me.headers["content-language"] == "fr"
    # A language picked on the page (the cookie) still beats the tenant's default.
    chosen = client.get(
        "/api/v1/auth/me", headers={**staff, **ENGLISH, "Cookie": "visage_locale=en"}
    )
    assert chosen.headers["content-language"] == "en"


def test_the_language_switch_remembers_the_choice_and_stays_on_the_site(
    browser_client: TestClient,
) -> None:
    switched = browser_client.get("/app/language/fr", params={"next": "/app/login?flash=x"})
    assert (switched.status_code, switched.headers["location"]) == (303, "/app/login?flash=x")
    assert "visage_locale=fr" in switched.headers["set-cookie"]
    page = browser_client.get("/app/login", headers=ENGLISH)
    assert '<html lang="fr">' in page.text
    assert "<h1>Se connecter</h1>" in page.text
    assert 'href="/app/language/en?next=%2Fapp%2Flogin"' in page.text
    away = browser_client.get("/app/language/en", params={"next": "//evil.example/"})
    assert away.headers["location"] == "/app/"


def test_the_scripts_catalog_is_served_per_locale(client: TestClient) -> None:
    french = client.get("/app/i18n/fr.json").json()
    assert french["locale"] == "fr"
    assert french["messages"]["Look at the camera"] == "Regardez la caméra"
    assert french["messages"]["We found you in {n} photo."] == [
        "Nous vous avons trouvé(e) sur {n} photo.",
        "Nous vous avons trouvé(e) sur {n} photos.",
    ]
    assert client.get("/app/i18n/de.json").status_code == 422


def test_the_attendee_page_uses_the_events_language(
    browser_client: TestClient, database: Database, make_tenant_owner: Callable[[], TenantOwner]
) -> None:
    owner = make_tenant_owner()
    event = browser_client.post(
        "/api/v1/events",
        json={"name": "Trail", "slug": "trail", "event_date": "2026-12-01", "language": "fr"},
        headers=owner.headers,
    ).json()
    german = browser_client.get(f"/e/{event['access_code']}", headers={"Accept-Language": "de"})
    assert '<html lang="fr">' in german.text
    assert "Retrouvez-moi avec un selfie" in german.text
    english = browser_client.get(f"/e/{event['access_code']}", headers=ENGLISH)
    assert '<html lang="en">' in english.text
    del database


def test_a_french_tenants_reset_email_arrives_in_french(
    client: TestClient,
    database: Database,
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
    inbox: Inbox,
    run_jobs: Callable[..., None],
) -> None:
    tenant = make_tenant("Club Rivière")
    _set_tenant_locale(database, tenant, "fr")
    user = make_user(tenant, Role.STAFF)
    asked = client.post("/api/v1/auth/password/reset", json={"email": user.email})
    assert asked.status_code == 202
    run_jobs([EMAIL_QUEUE])
    [message] = inbox.to(user.email)
    assert message["Subject"] == "Réinitialisez votre mot de passe Visage"
    body = message.get_body(("plain",)).get_content()
    assert f"Quelqu'un a demandé à réinitialiser le mot de passe de {user.username}" in body
    assert "chez Club Rivière" in body
    assert "dans les 30 minutes" in body


def test_a_failed_payment_notice_is_in_the_tenants_language(
    client: TestClient,
    database: Database,
    settings: Settings,
    make_tenant_owner: Callable[[], TenantOwner],
) -> None:
    owner = make_tenant_owner()
    _set_tenant_locale(database, owner.tenant, "fr")
    address = f"{uuid.uuid4().hex[:8]}@example.org"
    member = client.post(
        "/api/v1/members",
        json={"full_name": "Ada Lovelace", "email": address},
        headers=owner.headers,
    ).json()
    subscription = Subscription(tenant_id=owner.tenant.id, member_id=uuid.UUID(member["id"]))
    invoice = StripeInvoice.parse(
        {"id": "in_fr", "status": "open", "amount_due": 4900, "currency": "eur"}
    )
    with database.session() as session:
        sent = notify_payment_failed(
            session, settings, subscription, invoice, reason=CONFIRM_WITH_BANK
        )
    assert sent
    [args] = queued_emails(database, address)
    assert args["subject"] == "Votre paiement a échoué"
    assert args["body"] == (
        "Bonjour Ada, le paiement de 49,00\u00a0€ pour votre abonnement n'est pas passé "
        "(la banque demande au membre de confirmer le paiement). "
        f"Mettez à jour votre carte : {settings.public_base_url.rstrip('/')}/app/me"
    )


def test_every_page_renders_in_french(browser_client: TestClient) -> None:
    from visage.web.pages import SHELLS

    for path, shell in SHELLS.items():
        page = browser_client.get(path, headers=FRENCH)
        assert page.status_code == 200, path
        assert '<html lang="fr">' in page.text, path
        assert f"<title>{shell.title} · Visage</title>" not in page.text or shell.title in {
            "WhatsApp"
        }, path


def _signed_in(client: TestClient, tenant: Tenant, user: User) -> Any:
    """Signs in as `user` with an English browser; the answer."""
    answer = client.post(
        "/api/v1/auth/login",
        json={"username": user.username, "password": TEST_PASSWORD, "tenant": tenant.slug},
        headers=ENGLISH,
    )
    assert answer.status_code == 200, answer.text
    return answer


def test_signing_in_puts_the_accounts_language_in_the_cookie(
    browser_client: TestClient,
    database: Database,
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
) -> None:
    tenant = make_tenant()
    french = make_user(tenant, Role.STAFF)
    with database.session() as session:
        session.get_one(User, french.id).locale = "fr"
    signed_in = _signed_in(browser_client, tenant, french)
    assert "visage_locale=fr" in signed_in.headers["set-cookie"]
    assert signed_in.headers["content-language"] == "fr"
    # So the first signed-in page already speaks the account's language.
    page = browser_client.get("/app/", headers=ENGLISH)
    assert '<html lang="fr">' in page.text
    assert "<h1>Tableau de bord</h1>" in page.text

    # No language of its own: the cookie (the visitor's choice) stays as it is.
    undecided = _signed_in(browser_client, tenant, make_user(tenant, Role.STAFF))
    assert "set-cookie" not in undecided.headers
    assert browser_client.cookies["visage_locale"] == "fr"


def test_signing_in_keeps_a_choice_made_on_the_page_over_the_tenants_default(
    browser_client: TestClient,
    database: Database,
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
) -> None:
    tenant = make_tenant()
    _set_tenant_locale(database, tenant, "fr")
    staff = make_user(tenant, Role.STAFF)
    assert "visage_locale=fr" in _signed_in(browser_client, tenant, staff).headers["set-cookie"]
    browser_client.get("/app/language/en")
    kept = _signed_in(browser_client, tenant, staff)
    assert (kept.headers.get("set-cookie"), kept.headers["content-language"]) == (None, "en")


def test_saving_the_accounts_language_sets_this_browsers_too(
    browser_client: TestClient, make_tenant_owner: Callable[[], TenantOwner]
) -> None:
    owner = make_tenant_owner()
    saved = browser_client.put(
        "/api/v1/auth/me/locale", json={"locale": "fr"}, headers={**owner.headers, **ENGLISH}
    )
    assert "visage_locale=fr" in saved.headers["set-cookie"]
    assert '<html lang="fr">' in browser_client.get("/app/", headers=ENGLISH).text
    browser_client.put("/api/v1/auth/me/locale", json={"locale": None}, headers=owner.headers)
    assert "visage_locale" not in browser_client.cookies
    assert '<html lang="en">' in browser_client.get("/app/", headers=ENGLISH).text


def test_an_events_language_goes_back_to_the_tenants_default(
    client: TestClient, make_tenant_owner: Callable[[], TenantOwner]
) -> None:
    owner = make_tenant_owner()
    body = {"name": "Trail", "slug": "trail", "event_date": "2026-12-01", "language": "fr"}
    event = client.post("/api/v1/events", json=body, headers=owner.headers).json()
    assert event["language"] == "fr"
    cleared = client.patch(
        f"/api/v1/events/{event['id']}", json={"language": None}, headers=owner.headers
    )
    assert cleared.json()["language"] is None
    renamed = client.patch(
        f"/api/v1/events/{event['id']}",
        json={"name": "Trail 2", "slug": None},
        headers=owner.headers,
    )
    assert (renamed.json()["name"], renamed.json()["slug"]) == ("Trail 2", "trail")
