"""Structured logs with request, tenant and user ids.

Readable in development, JSON in production; to stdout and a rotating logs/app.log.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

from visage.config import Settings

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
tenant_id_var: ContextVar[str | None] = ContextVar("tenant_id", default=None)
user_id_var: ContextVar[str | None] = ContextVar("user_id", default=None)

_CONTEXT = {"request_id": request_id_var, "tenant_id": tenant_id_var, "user_id": user_id_var}


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in _CONTEXT.items():
            setattr(record, name, var.get())
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in _CONTEXT:
            entry[name] = getattr(record, name, None)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class ReadableFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        context = " ".join(
            f"{name}={value}" for name in _CONTEXT if (value := getattr(record, name, None))
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
