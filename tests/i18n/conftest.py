"""i18n fixtures: the identity domain's local SMTP server, and a client whose cookies stay
its own (the session-wide client must not carry a language choice into other tests)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.identity.conftest import inbox, smtp_server

__all__ = ["browser_client", "inbox", "smtp_server"]


@pytest.fixture
def browser_client(client: TestClient) -> Iterator[TestClient]:
    """Like a browser: keeps the cookies it is given, for this test only (the app and its
    database are the session client's)."""
    own = TestClient(client.app, follow_redirects=False)
    yield own
    own.close()
