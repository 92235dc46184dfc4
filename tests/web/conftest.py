"""Browser tests: a real `visage serve` (API + one worker) on the test database, driven by
Debian's Chromium through Playwright. No browser is ever downloaded."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.publishing.conftest import x_api, x_state  # noqa: F401 - the X contract server
from visage.config import Settings
from visage.core.db import Database
from visage.core.live_server import serve_subprocess
from visage.identity import service as identity_service
from visage.identity.models import User
from visage.identity.principal import ClientInfo

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
# Generous: CI runs this on 2 shared cores, with face inference in the loop.
WAIT_MS = 60_000


@contextmanager
def visage_serve(extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """`visage serve` (API + one worker) in a subprocess on the test run's embedded database,
    with `extra_env` added to its environment; yields its base URL."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with serve_subprocess(env=extra_env, log_path=ARTIFACTS / "server.log") as served:
        yield served.base_url


@pytest.fixture(scope="package")
def live_server(database: Database, x_api: str) -> Iterator[str]:  # noqa: F811
    """`visage serve` in a subprocess, sharing the test run's embedded database, with X
    pointed at its contract server (the publishing pages connect and post there). Stopped once
    this folder's tests are done: its worker would otherwise take the jobs of the tests that
    run after them (messages, posts) and run them with this server's settings."""
    del database  # started and migrated first, so the server only joins it
    env = {
        "X_CLIENT_ID": "x-client",
        "X_CLIENT_SECRET": "x-secret",
        "X_AUTHORIZE_URL": f"{x_api}/i/oauth2/authorize",
        "X_TOKEN_URL": f"{x_api}/2/oauth2/token",
        "X_API_BASE_URL": x_api,
    }
    with visage_serve(env) as base_url:
        yield base_url


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    """The driver for this folder's tests only. While it is open, Playwright's sync API marks
    its event loop as running in this thread (between calls too), so any `asyncio.run` here,
    and any other sync Playwright, fails: closing it as the last browser test ends hands the
    thread back clean to the tests that run after these in the same process."""
    with sync_playwright() as driver:
        yield driver


def launch_chromium(playwright: Playwright, *extra_args: str) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args])


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = launch_chromium(playwright)
    yield chromium
    chromium.close()


@dataclass
class Tokens:
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


@pytest.fixture
def tokens_for(settings: Settings, database: Database) -> Callable[[User], Tokens]:
    """A fresh login session of `user` (what the sign-in page would get)."""

    def issue(user: User) -> Tokens:
        with database.session() as db_session:
            issued = identity_service.start_session(db_session, settings, user, ClientInfo())
        return Tokens(issued.access_token, issued.refresh_token)

    return issue


def signed_in(context: BrowserContext, tokens: Tokens) -> BrowserContext:
    """Pages of `context` start with the session the sign-in page stores."""
    access, refresh = json.dumps(tokens.access_token), json.dumps(tokens.refresh_token)
    context.add_init_script(
        f"sessionStorage.setItem('visage.access_token', {access});"
        f"sessionStorage.setItem('visage.refresh_token', {refresh});"
    )
    return context


@pytest.fixture
def api(live_server: str) -> Iterator[httpx.Client]:
    """The running server's JSON API, for setting up what a test does not click through."""
    with httpx.Client(base_url=f"{live_server}/api/v1", timeout=120) as client:
        yield client


def expect_ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def wait_ready(page: Page) -> None:
    """Wait until the signed-in page shown knows its user and its handlers are attached: a
    click before that does nothing, and a slow machine makes that window long. After a click
    that navigates, first wait for something of the new page: the old one was ready too."""
    page.locator("body[data-ready]").wait_for(state="attached", timeout=WAIT_MS)


def open_ready(page: Page, url: str) -> None:
    """Open a signed-in page and wait until it is ready to be clicked (`wait_ready`)."""
    page.goto(url)
    wait_ready(page)


def watch(page: Page) -> list[str]:
    """Script errors of the page, to assert there were none."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
