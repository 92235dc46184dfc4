"""CPU used during a load run by the server (the API and its workers), its embedded database
and the load generator itself, which share the machine."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import psutil

from visage.config import Settings


def _tree_cpu_seconds(root: psutil.Process) -> float:
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def embedded_postmaster(settings: Settings) -> psutil.Process | None:
    """The embedded PostgreSQL's main process (its backends are its children), if it runs."""
    if settings.database_url:
        return None
    try:
        pid = int((settings.visage_data_dir / "pgdata" / "postmaster.pid").read_text().split()[0])
        return psutil.Process(pid)
    except (OSError, ValueError, IndexError, psutil.Error):
        return None


@dataclass(frozen=True)
class CpuPercents:
    server: float  # % of one core
    database: float | None
    load: float
    machine: float  # % of all cores


@dataclass(frozen=True)
class CpuMeter:
    """CPU seconds of the server, the database and this process, from a start."""

    server: psutil.Process
    database: psutil.Process | None
    started: float = field(default_factory=time.monotonic)
    marks: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def _now(self) -> tuple[float, float, float]:
        database = _tree_cpu_seconds(self.database) if self.database else 0.0
        own = psutil.Process().cpu_times()  # without its children: the server is one
        return _tree_cpu_seconds(self.server), database, own.user + own.system

    def start(self) -> CpuMeter:
        psutil.cpu_percent()  # starts the machine-wide measurement
        return CpuMeter(self.server, self.database, time.monotonic(), self._now())

    def percents(self) -> CpuPercents:
        elapsed = time.monotonic() - self.started
        server, database, load = (
            (now - mark) / elapsed * 100 for now, mark in zip(self._now(), self.marks, strict=True)
        )
        return CpuPercents(server, database if self.database else None, load, psutil.cpu_percent())
