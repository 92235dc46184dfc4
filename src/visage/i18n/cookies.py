"""The language cookie (`visage_locale`): written by the language switch, by sign-in with the
account's language and by saving the account's language, so that a page knows it from its
first request (the pages' session token is in the tab, never in a cookie)."""

from __future__ import annotations

from starlette.responses import Response

from visage.i18n import context, negotiation


def remember_language(response: Response, locale: str) -> None:
    response.set_cookie(
        negotiation.LOCALE_COOKIE,
        locale,
        max_age=negotiation.LOCALE_COOKIE_MAX_AGE,
        samesite="lax",
        httponly=False,  # the scripts read it to keep the account's choice in step
    )


def forget_language(response: Response) -> None:
    response.delete_cookie(negotiation.LOCALE_COOKIE, samesite="lax", httponly=False)


def remember_account_language(response: Response) -> None:
    """After sign-in: the account's language (the user's saved choice, else the tenant's
    default, see `negotiation.adopt_account`) becomes the browser's, so the first signed-in
    page already speaks it. An account without one leaves the cookie as it is."""
    localization = context.current()
    if localization.from_account:
        remember_language(response, localization.locale)
