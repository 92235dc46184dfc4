"""Visage in French, as a French-speaking gym and its attendees meet it in Chromium with
`locale="fr-FR"`: sign-in, the dashboard with French dates, an API 422 in French with the
same code, the kiosk's refusal, the attendee selfie page; a user who switches the language on
the page keeps it after signing out and in; a French account's pages are French from their
first request in an English browser; the tenant's default language can go back to the
browser's."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, expect

from tests.conftest import TEST_PASSWORD
from tests.images import FACES_DIR
from tests.web.conftest import (
    WAIT_MS,
    Tokens,
    expect_ok,
    open_ready,
    screenshot,
    signed_in,
    wait_ready,
    watch,
)
from tests.web.test_events import new_event, small_photo, wait_until_indexed
from tests.web.test_kiosk import camera_browser, write_y4m
from visage.core.db import Database
from visage.identity.models import Role, Tenant, User

pytestmark = pytest.mark.browser

FRENCH_MONTH = re.compile(
    r"\d{1,2} (janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre"
    r"|décembre) \d{4}"
)


def sign_in(page: Page, organization: str, login: str, password: str, *, french: bool) -> None:
    labels = (
        ("Organisation", "Nom d'utilisateur ou e-mail", "Mot de passe", "Se connecter")
        if french
        else ("Organization", "Username or email", "Password", "Sign in")
    )
    page.get_by_label(labels[0]).fill(organization)
    page.get_by_label(labels[1]).fill(login)
    page.get_by_label(labels[2], exact=True).fill(password)
    page.get_by_role("button", name=labels[3]).click()


def test_a_french_gym_signs_in_and_reads_its_dashboard_in_french(
    live_server: str,
    browser: Browser,
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
) -> None:
    tenant = make_tenant("Salle Rivière")
    owner = make_user(tenant, Role.TENANT_OWNER, full_name="Odile Martin")
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = watch(page)

    page.goto(f"{live_server}/app/login")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Se connecter")
    sign_in(page, tenant.slug, owner.username, "pas le bon mot de passe", french=True)
    expect(page.locator("[data-outcome]")).to_contain_text(
        "Identifiants invalides", timeout=WAIT_MS
    )
    page.get_by_label("Mot de passe", exact=True).fill(TEST_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    expect(page).to_have_url(f"{live_server}/app/", timeout=WAIT_MS)
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
    expect(page.locator(".lead")).to_contain_text("Bienvenue, Odile Martin.", timeout=WAIT_MS)
    figures = page.locator("#stats dl.figures")
    expect(figures).to_contain_text("Présents", timeout=WAIT_MS)
    expect(figures).to_contain_text(FRENCH_MONTH)
    expect(page.get_by_role("navigation", name="Principal")).to_contain_text("Membres")
    screenshot(page, "french_dashboard")

    # The page's API calls speak French too; the error code does not change.
    answer = page.evaluate(
        """async () => {
            const result = await Visage.api("/api/v1/auth/login",
                { method: "POST", json: { password: 3 }, token: null });
            return [result.status, result.data.error.code, result.data.error.message];
        }"""
    )
    assert answer == [422, "VALIDATION_ERROR", "Certains champs sont invalides."]
    assert errors == []
    context.close()


def test_the_kiosk_refuses_in_french(
    live_server: str,
    playwright: Playwright,
    database: Database,
    make_tenant: Callable[..., Tenant],
    device_headers: Callable[[Tenant], dict[str, str]],
    tmp_path: Path,
) -> None:
    kiosk_key = device_headers(make_tenant())["X-API-Key"]  # a gym that knows no face
    chromium = camera_browser(playwright, write_y4m(FACES_DIR / "obama3.jpg", tmp_path / "d.y4m"))
    try:
        context = chromium.new_context(locale="fr-FR", viewport={"width": 800, "height": 1280})
        context.grant_permissions(["camera"], origin=live_server)
        page = context.new_page()
        errors = watch(page)
        page.goto(f"{live_server}/app/kiosk")
        expect(page.get_by_role("heading", level=1)).to_have_text("Configurer cette borne")
        page.get_by_label("Clé de la borne").fill(kiosk_key)
        page.get_by_role("button", name="Démarrer la borne").click()
        banner = page.locator("[data-kiosk-banner]")
        expect(banner).to_have_attribute("data-state", "denied", timeout=WAIT_MS)
        expect(banner).to_contain_text("Désolé, entrée refusée")
        expect(banner).to_contain_text(
            "Nous ne vous reconnaissons pas : adressez-vous à l'accueil."
        )
        expect(page.locator("[data-pin-clear]")).to_have_text("Effacer")
        expect(page.locator("label[for=kiosk-pin]")).to_have_text("Votre code PIN")
        screenshot(page, "french_kiosk_denied")
        assert errors == []
        context.close()

        # An English tablet at a gym whose default language is French speaks French too.
        french_gym = make_tenant()
        with database.session() as session:
            session.get_one(Tenant, french_gym.id).default_locale = "fr"
        tablet = chromium.new_context(locale="en-US", viewport={"width": 800, "height": 1280})
        tablet.grant_permissions(["camera"], origin=live_server)
        page = tablet.new_page()
        page.goto(f"{live_server}/app/kiosk")
        page.get_by_label("Kiosk key").fill(device_headers(french_gym)["X-API-Key"])
        page.get_by_role("button", name="Start the kiosk").click()
        banner = page.locator("[data-kiosk-banner]")
        expect(banner).to_contain_text("Désolé, entrée refusée", timeout=WAIT_MS)
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        tablet.close()
    finally:
        chromium.close()


def test_the_attendee_selfie_page_reads_in_french_with_french_dates(
    live_server: str,
    browser: Browser,
    api: httpx.Client,
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
    tokens_for: Callable[[User], Tokens],
) -> None:
    owner = tokens_for(make_user(make_tenant(), Role.TENANT_OWNER))
    body = {
        "name": "Trail des Crêtes",
        "slug": f"trail-{uuid.uuid4().hex[:8]}",
        "event_date": "2026-12-01",
    }
    event = expect_ok(api.post("/events", json=body, headers=owner.headers))
    phone = browser.new_context(
        locale="fr-FR", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = phone.new_page()
    errors = watch(page)
    page.goto(f"{live_server}/e/{event['access_code']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Trail des Crêtes", timeout=WAIT_MS)
    expect(page.locator("[data-event-date]")).to_have_text("1 décembre 2026")
    expect(page.get_by_role("heading", name="Retrouvez-moi avec un selfie")).to_be_visible()
    selfie = page.get_by_label("Prendre ou choisir un selfie")
    selfie.set_input_files(FACES_DIR / "obama3.jpg")
    expect(page.locator("[data-selfie-outcome]")).to_contain_text(
        "Cochez d'abord « J'accepte »", timeout=WAIT_MS
    )
    page.get_by_label("J'accepte cette utilisation de mon selfie").check()
    selfie.set_input_files(FACES_DIR / "obama3.jpg")
    expect(page.locator("[data-results-count]")).to_contain_text(
        "Pas encore de photo de vous", timeout=WAIT_MS
    )
    screenshot(page, "french_attendee")
    assert errors == []
    phone.close()


def test_a_language_chosen_on_the_page_is_kept_after_signing_out_and_in(
    live_server: str,
    browser: Browser,
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
) -> None:
    tenant = make_tenant()
    user = make_user(tenant, Role.STAFF, full_name="Sam Staff")
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = watch(page)
    page.goto(f"{live_server}/app/login")
    sign_in(page, tenant.slug, user.username, TEST_PASSWORD, french=False)
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard", timeout=WAIT_MS)
    wait_ready(page)  # the switch saves the choice on the account only once its handler is on

    page.get_by_role("link", name="Français").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord", timeout=WAIT_MS)
    expect(page.locator(".lead")).to_contain_text("Bienvenue, Sam Staff.", timeout=WAIT_MS)
    page.get_by_role("link", name="Se déconnecter").click()
    expect(page.locator("[data-flash]")).to_have_text("Vous êtes déconnecté(e).", timeout=WAIT_MS)
    expect(page.get_by_role("heading", level=1)).to_have_text("Se connecter")
    sign_in(page, tenant.slug, user.username, TEST_PASSWORD, french=True)
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord", timeout=WAIT_MS)
    assert errors == []
    context.close()

    # Another browser, English, no cookie: the account's saved choice still wins.
    elsewhere = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = elsewhere.new_page()
    page.goto(f"{live_server}/app/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    sign_in(page, tenant.slug, user.username, TEST_PASSWORD, french=False)
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord", timeout=WAIT_MS)
    screenshot(page, "language_kept")
    elsewhere.close()


def test_a_french_account_reads_french_from_the_first_page_in_an_english_browser(
    live_server: str,
    browser: Browser,
    database: Database,
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
) -> None:
    tenant = make_tenant()
    user = make_user(tenant, Role.STAFF, full_name="Zoé Roux")
    with database.session() as session:
        session.get_one(User, user.id).locale = "fr"
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = watch(page)
    documents: list[str] = []
    page.on(
        "request",
        lambda request: (
            documents.append(request.url) if request.resource_type == "document" else None
        ),
    )
    page.goto(f"{live_server}/app/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")

    with page.expect_response(f"{live_server}/app/", timeout=WAIT_MS) as dashboard:
        sign_in(page, tenant.slug, user.username, TEST_PASSWORD, french=False)
    assert '<html lang="fr">' in dashboard.value.text()
    wait_ready(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
    open_ready(page, f"{live_server}/app/members")
    expect(page.get_by_role("heading", level=1)).to_have_text("Membres")
    # No page was first drawn in English and then replaced (no `/app/language/fr` hop).
    assert documents == [
        f"{live_server}/app/login",
        f"{live_server}/app/",
        f"{live_server}/app/members",
    ]
    assert errors == []
    context.close()


def test_the_settings_give_the_default_language_back_to_each_browser(
    live_server: str,
    browser: Browser,
    database: Database,
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
    tokens_for: Callable[[User], Tokens],
) -> None:
    tenant = make_tenant()
    with database.session() as session:
        session.get_one(Tenant, tenant.id).default_locale = "en"
    owner = tokens_for(make_user(tenant, Role.TENANT_OWNER))
    context = signed_in(browser.new_context(locale="en-US"), owner)
    page = context.new_page()
    errors = watch(page)
    open_ready(page, f"{live_server}/app/settings")
    form = page.locator("form[data-settings=tenant]")
    language = form.get_by_label("Default language")
    expect(language).to_have_value("en", timeout=WAIT_MS)
    language.select_option(label="Each person's browser language")
    form.get_by_role("button", name="Save").click()
    expect(form.locator("[data-outcome]")).to_have_text("Saved.", timeout=WAIT_MS)
    with database.session() as session:
        assert session.get_one(Tenant, tenant.id).default_locale is None
    open_ready(page, f"{live_server}/app/settings")
    expect(
        page.locator("form[data-settings=tenant]").get_by_label("Default language")
    ).to_have_value("")
    assert errors == []
    context.close()


def test_the_event_gallery_counts_faces_in_french(
    live_server: str,
    browser: Browser,
    api: httpx.Client,
    database: Database,
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
    tokens_for: Callable[[User], Tokens],
    tmp_path: Path,
) -> None:
    user = make_user(make_tenant(), Role.TENANT_OWNER)
    with database.session() as session:
        session.get_one(User, user.id).locale = "fr"
    owner = tokens_for(user)
    event = new_event(api, owner)
    photo = small_photo(FACES_DIR / "obama.jpg", tmp_path / "podium.jpg")
    files = [("files", (photo.name, photo.read_bytes(), "image/jpeg"))]
    expect_ok(api.post(f"/events/{event['id']}/photos", files=files, headers=owner.headers))
    wait_until_indexed(api, event["id"], owner, photos=1)
    context = signed_in(browser.new_context(locale="fr-FR"), owner)
    page = context.new_page()
    errors = watch(page)
    open_ready(page, f"{live_server}/app/events/{event['id']}")
    expect(page.locator("[data-gallery] figcaption")).to_have_text(
        "podium.jpg · 1 visage", timeout=WAIT_MS
    )
    assert errors == []
    context.close()
