"""The catalogs stay complete: every marked string has a French translation, nothing visible
is left unmarked in templates or scripts, and the formats are the locale's."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from tests.i18n.unmarked import unmarked_in_script, unmarked_in_template
from visage.i18n import catalogs
from visage.i18n.context import gettext, ngettext, using
from visage.i18n.errors import translate_error_message
from visage.i18n.formatting import format_date, format_datetime, format_minor_units
from visage.web.rendering import STATIC_DIR, WEB_DIR, templates

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "src" / "visage"
PLACEHOLDER = re.compile(r"\{\w*\}|%\(\w+\)s")


def _extracted() -> dict[str, list[str]]:
    """What `pybabel extract -F babel.cfg` finds now, with where it was found."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _, _ in extract_from_dir(
        str(SOURCE),
        method_map,
        options_map,
        keywords={
            "_": None,
            "gettext": None,
            "ngettext": (1, 2),
            "pgettext": ((1, "c"), 2),
            "N_": None,
        },
    ):
        msgid = message if isinstance(message, str) else message[0]
        found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


def test_every_marked_string_has_a_french_translation() -> None:
    french = catalogs.read_catalog("fr")
    missing = [
        f"{msgid!r} ({', '.join(where[:2])})"
        for msgid, where in _extracted().items()
        if msgid not in french or not french[msgid].string
    ]
    assert missing == [], (
        "run pybabel extract/update (README, Translations), then translate:\n" + "\n".join(missing)
    )


def test_french_entries_are_complete_and_keep_their_placeholders() -> None:
    problems = []
    for message in catalogs.read_catalog("fr"):
        if not message.id:
            continue
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        if message.fuzzy or not all(forms):
            problems.append(f"fuzzy or empty: {ids[0]!r}")
            continue
        expected = sorted(PLACEHOLDER.findall(ids[-1]))
        for form in forms:
            if sorted(PLACEHOLDER.findall(form)) != expected:
                problems.append(f"placeholders differ: {ids[0]!r} -> {form!r}")
    assert problems == []


def test_the_english_catalog_lists_the_same_messages() -> None:
    english = {m.id for m in catalogs.read_catalog("en") if m.id}
    french = {m.id for m in catalogs.read_catalog("fr") if m.id}
    assert english == french


@pytest.mark.parametrize(
    "path", sorted((WEB_DIR / "templates").rglob("*.html")), ids=lambda path: path.name
)
def test_template_text_is_marked_for_translation(path: Path) -> None:
    assert [str(item) for item in unmarked_in_template(templates.env, path)] == []


@pytest.mark.parametrize("path", sorted(STATIC_DIR.glob("*.js")), ids=lambda path: path.name)
def test_script_text_is_marked_for_translation(path: Path) -> None:
    assert [str(item) for item in unmarked_in_script(path)] == []


def test_the_checks_catch_unmarked_text(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        '<p>{{ _("Marked") }}</p><p>Left in English</p><img alt="A picture">'
        '{{ field("name", "Label") }}'
    )
    script = tmp_path / "page.js"
    script.write_text('say(_("Marked."));\nsay("Not marked at all.");\nfetch("/api/v1/x");\n')
    assert [item.text for item in unmarked_in_template(templates.env, page)] == [
        "A picture",
        "Left in English",
        "Label",
    ]
    assert [item.text for item in unmarked_in_script(script)] == ["Not marked at all."]


def test_plural_forms_follow_each_language() -> None:
    with using("en"):
        english = [ngettext("%(num)s member", "%(num)s members", n) % {"num": n} for n in (0, 1, 2)]
    with using("fr"):
        french = [ngettext("%(num)s member", "%(num)s members", n) % {"num": n} for n in (0, 1, 2)]
    assert english == ["0 members", "1 member", "2 members"]
    assert french == ["0 membre", "1 membre", "2 membres"]


def test_dates_numbers_and_money_are_the_locales() -> None:
    moment = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    with using("fr", "Europe/Paris"):
        assert format_datetime(moment) == "1 décembre 2026, 09:30"
        assert format_date(date(2026, 12, 1)) == "1 décembre 2026"
        assert format_minor_units(4900, "eur") == "49,00\xa0€"
    with using("en", "America/New_York"):
        assert format_datetime(moment) == "December 1, 2026, 3:30 AM"
        assert format_minor_units(4900, "eur") == "€49.00"


def test_a_partly_refunded_invoice_reads_in_the_locale() -> None:
    invoice = SimpleNamespace(
        id="in_1",
        created=datetime(2026, 12, 1, 8, 30, tzinfo=UTC),
        status="paid",
        amount_paid=4900,
        amount_due=4900,
        amount_refunded=1250,
        currency="eur",
        receipt_url=None,
    )
    billing = SimpleNamespace(
        status="active",
        current_period_end=None,
        paused_until=None,
        payment_problem=None,
        invoices=[invoice],
        purchases=[],
    )
    fragment = templates.env.get_template("fragments/member_billing.html")
    with using("fr", "Europe/Paris"):
        html = fragment.render(configured=True, billing=billing, staff=False, member_id="m")
    assert "<span data-refunded>(12,50\xa0€ remboursés)</span>" in html


def test_error_messages_are_translated_with_their_values() -> None:
    with using("fr"):
        assert (
            translate_error_message("Some fields are invalid.") == "Certains champs sont invalides."
        )
        assert (
            translate_error_message("No tenant with slug 'riverside-gym'.")
            == "Aucune organisation avec le nom court 'riverside-gym'."
        )
        assert (
            translate_error_message("A message nobody wrote down.")
            == "A message nobody wrote down."
        )
    with using("en"):
        assert translate_error_message("Some fields are invalid.") == "Some fields are invalid."


def test_kiosk_reasons_and_default_messages_speak_french() -> None:
    from visage.access.decision import KIOSK_MESSAGES, Reason
    from visage.notifications.service import DEFAULT_TEXTS, NotificationKind

    with using("fr"):
        assert gettext(KIOSK_MESSAGES[Reason.EXPIRED]) == (
            "Votre abonnement a expiré : renouvelez-le à l'accueil."
        )
        subject, text = DEFAULT_TEXTS[NotificationKind.NEW_PHOTOS]
        assert gettext(subject) == "Nouvelles photos de vous"
        assert "{event_name}" in gettext(text)


def test_a_missing_or_stale_compiled_catalog_is_compiled_again() -> None:
    mo = catalogs.po_path("fr").with_suffix(".mo")
    mo.unlink(missing_ok=True)
    catalogs.reload()
    with using("fr"):
        assert gettext("Sign in") == "Se connecter"
    assert mo.exists()
    assert mo.stat().st_mtime >= catalogs.po_path("fr").stat().st_mtime
