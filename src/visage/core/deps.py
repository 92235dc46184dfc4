"""FastAPI dependencies shared by every router: settings and the request's unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from visage.config import Settings, get_settings
from visage.core.db import get_database


def _session() -> Iterator[Session]:
    # scope="function" below: the commit happens before the response is sent, so a client
    # never sees success for a write that failed to commit.
    with get_database().session() as session:
        yield session


DbSession = Annotated[Session, Depends(_session, scope="function")]
AppSettings = Annotated[Settings, Depends(get_settings)]
