"""Structured logs with request, tenant and user ids.

Readable in development, JSON in production; to stdout and a rotating logs/app.log.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
from contextvars import ContextVar, Token
from datetime import UTC, datetime

from visage.config import Settings

# One mutable holder per request: values bound in a dependency (which runs in a worker thread
# with a copy of the context) stay visible to the route's and the access log's records.
_log_context: ContextVar[dict[str, str | None] | None] = ContextVar("log_context", default=None)
_FIELDS = ("request_id", "tenant_id", "user_id")


def start_log_context(request_id: str) -> Token[dict[str, str | None] | None]:
    return _log_context.set({"request_id": request_id, "tenant_id": None, "user_id": None})


def end_log_context(token: Token[dict[str, str | None] | None]) -> None:
    _log_context.reset(token)


def bind_log_context(**values: str | None) -> None:
    """Add tenant_id / user_id to every later log line of the current request or job."""
    context = _log_context.get()
    if context is not None:
        context.update(values)


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        context = _log_context.get() or {}
        for name in _FIELDS:
            setattr(record, name, context.get(name))
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in _FIELDS:
            entry[name] = getattr(record, name, None)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class ReadableFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        context = " ".join(
            f"{name}={value}" for name in _FIELDS if (value := getattr(record, name, None))
        )
        line = super().format(record)
        return f"{line} [{context}]" if context else line


def configure_logging(settings: Settings) -> None:
    formatter: logging.Formatter = (
        JsonFormatter()
        if settings.is_production
        else ReadableFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    )
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    handlers: list[logging.Handler] = [
        logging.StreamHandler(sys.stdout),
        logging.handlers.RotatingFileHandler(
            settings.log_dir / "app.log", maxBytes=10 * 1024 * 1024, backupCount=5
        ),
    ]
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_visage", False):
            root.removeHandler(handler)
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(ContextFilter())
        handler._visage = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if settings.debug else logging.INFO)
