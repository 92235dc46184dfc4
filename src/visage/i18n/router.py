"""The language switch, the saved preference and the scripts' catalog.

- `GET /app/language/{locale}?next=/path`: the switch on every page; remembers the choice in
  a cookie (a year) and goes back to the page. Signed-in pages also save it on the account.
- `PUT /api/v1/auth/me/locale`: the signed-in user's saved language (null forgets it), also
  put in (or taken out of) this browser's cookie.
- `GET /app/i18n/{locale}.json`: the web app's script strings, from the same catalogs.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict

from visage.core.deps import DbSession
from visage.i18n import catalogs, preferences
from visage.i18n.cookies import forget_language, remember_language
from visage.i18n.preferences import LocaleCode
from visage.identity.dependencies import Client, CurrentUser

LocaleParam = Annotated[LocaleCode, Path(description="en or fr")]

pages_router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/auth", tags=["auth"])


class LocaleChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    locale: LocaleCode | None


def _safe_next(next_path: str | None) -> str:
    """Only a path of this site: `//evil.example` and `https://...` go home."""
    if not next_path or not next_path.startswith("/") or next_path.startswith("//"):
        return "/app/"
    return next_path.replace("\\", "/")


@pages_router.get("/app/language/{locale}")
def switch_language(locale: LocaleParam, next: str | None = None) -> RedirectResponse:
    response = RedirectResponse(_safe_next(next), status_code=303)
    remember_language(response, locale)
    return response


@pages_router.get("/app/i18n/{locale}.json")
def script_catalog(locale: LocaleParam) -> JSONResponse:
    return JSONResponse(
        {"locale": locale, "messages": catalogs.js_messages(locale)},
        headers={"Cache-Control": "public, max-age=300"},
    )


@api_router.put("/me/locale")
def save_my_locale(
    body: LocaleChoice,
    session: DbSession,
    principal: CurrentUser,
    client: Client,
    response: Response,
) -> LocaleChoice:
    """Also this browser's language from now on; forgetting the choice forgets it here too."""
    user = preferences.set_user_locale(session, principal, body.locale, client)
    if user.locale:
        remember_language(response, user.locale)
    else:
        forget_language(response)
    return LocaleChoice.model_validate({"locale": user.locale})
