"""The extractor collects the API's error messages where they are raised."""

from __future__ import annotations

import io

from visage.i18n.extract import extract_visage

SOURCE = b"""
from visage.core.errors import NotFound, AppError


class SlugTaken(AppError):
    default_message = "This slug is taken."


def find(slug):
    raise NotFound(f"No tenant with slug '{slug}'.")


def other():
    raise ValueError("Not an API message.")


def marked():
    return _("Marked with gettext.")
"""


def test_raised_messages_default_messages_and_gettext_calls_are_extracted() -> None:
    found = {
        message for _, _, message, _ in extract_visage(io.BytesIO(SOURCE), {"_": None}, [], {})
    }
    assert found == {
        "This slug is taken.",
        "No tenant with slug '{0}'.",
        "Marked with gettext.",
    }
