"""The guides' checks of the set-up around the service: the form of DATABASE_URL, SMTP, and
the users' composite unique indexes (FindMe's migration trap). `visage doctor` runs them;
`/api/health-check` reports the last one in FindMe's shape.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from sqlalchemy import text

from visage.config import Settings
from visage.core.db import Base, Database, is_embedded
from visage.core.migrations import NOT_UP_TO_DATE
from visage.health.checks import CheckResult

# FindMe's migration trap: emails and usernames unique per event (attendees) and per tenant
# (users), never globally. The model's unique indexes are the reference; the database must
# have each of them and no other unique index on those tables.
_TENANT_OR_EVENT_COLUMNS = ("tenant_id", "event_id")


def model_unique_indexes() -> dict[str, dict[str, str]]:
    """{table: {index name: CREATE INDEX statement}} of the users' and attendees' tables."""
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateIndex

    import visage.models_registry  # noqa: F401 - every table in Base.metadata

    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    expected: dict[str, dict[str, str]] = {}
    for table in (Base.metadata.tables[name] for name in ("users", "event_attendees")):
        expected[table.name] = {
            str(index.name): str(CreateIndex(index).compile(dialect=dialect))
            for index in table.indexes
            if index.unique
        }
    return expected


def check_unique_constraints(database: Database) -> CheckResult:
    expected = model_unique_indexes()
    with database.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT tablename, indexname, indexdef FROM pg_indexes "
                "WHERE schemaname = current_schema() AND tablename = ANY(:tables)"
            ),
            {"tables": list(expected)},
        ).all()
        event_id_column = bool(
            connection.execute(
                text(
                    "SELECT 1 FROM information_schema.columns WHERE table_schema = "
                    "current_schema() AND table_name = 'event_attendees' "
                    "AND column_name = 'event_id'"
                )
            ).scalar()
        )
    present: dict[str, set[str]] = {table: set() for table in expected}
    stray: list[str] = []
    for table, name, definition in rows:
        present[table].add(name)
        is_unique = definition.startswith("CREATE UNIQUE INDEX")
        if is_unique and name not in expected[table] and not name.startswith("pk_"):
            stray.append(name)
    composite = {
        table: sorted(
            name
            for name in present[table] & expected[table].keys()
            if any(column in expected[table][name] for column in _TENANT_OR_EVENT_COLUMNS)
        )
        for table in expected
    }
    data: dict[str, Any] = {"event_id_column_exists": event_id_column, "composite": composite}
    missing_tables = [table for table, names in present.items() if not names]
    if missing_tables:
        return CheckResult(
            "unique_constraints",
            False,
            f"Tables missing: {', '.join(missing_tables)}. {NOT_UP_TO_DATE}",
            "visage migrate",
            data,
        )
    missing = [
        statement
        for table, indexes in expected.items()
        for name, statement in indexes.items()
        if name not in present[table]
    ]
    if stray:
        return CheckResult(
            "unique_constraints",
            False,
            f"Global unique indexes left from an old schema: {', '.join(sorted(stray))} "
            "(the same email could not register at two events or tenants)",
            " ".join(f"DROP INDEX IF EXISTS {name};" for name in sorted(stray)),
            data,
        )
    if missing:
        return CheckResult(
            "unique_constraints",
            False,
            f"{len(missing)} composite unique index(es) missing",
            "; ".join(missing) + ";",
            data,
        )
    names = sorted(name for names in composite.values() for name in names)
    return CheckResult(
        "unique_constraints", True, f"Composite unique: {', '.join(names)}", "", data
    )


def check_database_url(settings: Settings) -> CheckResult:
    """The form of DATABASE_URL (reachability is `check_database`'s)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if is_embedded(settings):
        return CheckResult("database_url", True, "Not set: the embedded PostgreSQL is used")
    try:
        url = make_url(settings.database_url)
    except ArgumentError as error:
        return CheckResult(
            "database_url",
            False,
            f"DATABASE_URL cannot be parsed: {error}",
            "Use DATABASE_URL=postgresql://user:password@host:5432/database",
        )
    # libpq takes a Unix socket directory as `?host=/path` (the embedded server's form).
    socket_dir = url.query.get("host")
    problems = [part for part in ("host", "database") if not getattr(url, part)]
    if socket_dir and not url.host:
        problems.remove("host")
        if not Path(str(socket_dir)).is_dir():
            return CheckResult(
                "database_url",
                False,
                f"DATABASE_URL's socket directory {socket_dir} does not exist",
                "Use the directory PostgreSQL listens in (unix_socket_directories), or a host",
            )
    if problems:
        return CheckResult(
            "database_url",
            False,
            f"DATABASE_URL has no {' or '.join(problems)}",
            "Use DATABASE_URL=postgresql://user:password@host:5432/database",
        )
    if not url.host:  # a socket directory, checked above
        return CheckResult("database_url", True, url.render_as_string(hide_password=True))
    host = str(url.host)
    try:
        socket.getaddrinfo(host, url.port or 5432)
    except OSError:
        docker = " ('postgres' resolves only inside Docker Compose)" if host == "postgres" else ""
        return CheckResult(
            "database_url",
            False,
            f"DATABASE_URL host {host!r} does not resolve{docker}",
            "Use localhost (or the database's real host name) in DATABASE_URL",
        )
    shown = url.render_as_string(hide_password=True)
    return CheckResult("database_url", True, shown)


SMTP_TIMEOUT_SECONDS = 5


def check_smtp(settings: Settings) -> CheckResult:
    if not settings.smtp_host:
        return CheckResult(
            "smtp", True, f"Not configured: mail is written to {settings.visage_data_dir}/mail/"
        )
    import smtplib

    where = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS
        ) as smtp:
            smtp.ehlo()
            if settings.smtp_user:
                if smtp.has_extn("starttls"):
                    smtp.starttls()
                    smtp.ehlo()
                smtp.login(settings.smtp_user, settings.smtp_password)
    except smtplib.SMTPAuthenticationError as error:
        return CheckResult(
            "smtp",
            False,
            f"SMTP server {where} refused the login: {error.smtp_code}",
            "Check SMTP_USER and SMTP_PASSWORD",
        )
    except (OSError, smtplib.SMTPException) as error:
        return CheckResult(
            "smtp",
            False,
            f"Cannot reach the SMTP server at {where}: {error}",
            "Start the mail server or fix SMTP_HOST/SMTP_PORT "
            "(unset SMTP_HOST to write mail to files)",
        )
    return CheckResult("smtp", True, f"SMTP server {where} answers")
