"""Event indexing as users see it: a real `visage serve` (API and workers, as deployed) on a
free port, a throw-away tenant and event, the photos uploaded over HTTP as the event page
sends them (one file per request, `PARALLEL_UPLOADS` at a time), and the progress endpoint
polled until every photo is indexed. The clock runs from the first upload's first byte to
the first progress answer at 100 %. The workers are warmed up first (model loaded) on a
separate event, so the figure is the steady state, not the start-up.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import httpx
import psutil
from sqlalchemy import delete, func, select

from visage.config import Settings
from visage.core.live_server import serve_subprocess
from visage.core.migrations import migrated_database
from visage.events.models import Photo
from visage.events.tasks import STAGES_LOG_PREFIX
from visage.identity import service as identity_service
from visage.identity.models import Role, Tenant
from visage.identity.throwaway import signed_in_headers

PARALLEL_UPLOADS = 4  # as the event page
POLL_SECONDS = 0.5  # the page polls every 2 s; faster polling would take CPU from the workers
INDEX_TIMEOUT_SECONDS = 1800.0
SERVICE_LOG = Path(tempfile.gettempdir()) / "visage-bench-end-to-end.log"
CONTENT_TYPES = {".png": "image/png", ".webp": "image/webp", ".heic": "image/heic"}


@dataclass(frozen=True)
class EndToEnd:
    seconds: float  # first byte to 100 % indexed
    upload_seconds: float  # first byte to the last upload answered
    faces: int
    job_seconds: float  # mean of the photos' jobs (fetch, decode, renditions, faces, store)
    stages: dict[str, float] = field(default_factory=dict)  # mean seconds of each job stage
    # CPU seconds the API, its workers and the database spent over the run: unlike the wall
    # clock, hardly changed by other work on a shared machine.
    cpu_seconds: float = 0.0


def _tree_cpu_seconds(roots: list[psutil.Process]) -> float:
    """CPU seconds of the processes and their descendants, those that ended included (their
    parent collected their times)."""
    total = 0.0
    for root in roots:
        try:
            family = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for process in family:
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system + times.children_user + times.children_system
    return total


def _database_server(settings: Settings) -> list[psutil.Process]:
    """The embedded PostgreSQL's main process (its backends are its children)."""
    pgdata = str((settings.visage_data_dir / "pgdata").resolve())
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if pgdata in cmdline and any(part.endswith("postgres") for part in cmdline[:1]):
            found.append(process)
    return found


@dataclass(frozen=True)
class Service:
    base_url: str
    processes: list[psutil.Process]  # `visage serve` (API, workers) and the database

    def cpu_seconds(self) -> float:
        return _tree_cpu_seconds(self.processes)


@contextmanager
def running_service(workers: int, settings: Settings) -> Iterator[Service]:
    """`visage serve` with `workers` workers."""
    # The bench's own polling is not what the rate limit guards against.
    env = {"RATE_LIMIT_PER_MINUTE": "1000000"}
    with serve_subprocess(workers=workers, env=env, log_path=SERVICE_LOG) as served:
        server = psutil.Process(served.process.pid)
        yield Service(served.base_url, [server, *_database_server(settings)])


@contextmanager
def throwaway_organizer(settings: Settings) -> Iterator[dict[str, str]]:
    """Authorization headers of the owner of a new tenant, deleted (with its events) after."""
    database = migrated_database()
    slug = f"bench-e2e-{uuid.uuid4().hex[:12]}"
    with database.session() as session:
        tenant_id = identity_service.create_tenant(session, name=slug, slug=slug).id
        headers = signed_in_headers(session, settings, tenant_id, Role.TENANT_OWNER)
    try:
        yield headers
    finally:
        with database.session() as session:
            session.execute(delete(Tenant).where(Tenant.id == tenant_id))


def _new_event(client: httpx.Client, name: str) -> str:
    response = client.post(
        "/api/v1/events",
        json={
            "name": name,
            "slug": f"{name}-{uuid.uuid4().hex[:8]}",
            "event_date": str(date.today()),
        },
    )
    response.raise_for_status()
    event_id: str = response.json()["id"]
    return event_id


def _upload(client: httpx.Client, event_id: str, path: Path) -> None:
    content_type = CONTENT_TYPES.get(path.suffix.lower(), "image/jpeg")
    response = client.post(
        f"/api/v1/events/{event_id}/photos",
        files=[("files", (path.name, path.read_bytes(), content_type))],
    )
    response.raise_for_status()


def _mean_stages(event_id: str) -> dict[str, float]:
    """Mean seconds of each stage of the event's jobs, from the workers' log lines."""
    with migrated_database().session() as session:
        photo_ids = {
            str(photo_id)
            for photo_id in session.scalars(
                select(Photo.id).where(Photo.event_id == uuid.UUID(event_id))
            )
        }
    totals: dict[str, list[float]] = {}
    for line in SERVICE_LOG.read_text(errors="replace").splitlines():
        _, found, rest = line.partition(f"{STAGES_LOG_PREFIX} ")
        photo_id, _, stages = rest.partition(": ")
        if not found or photo_id not in photo_ids:
            continue
        for stage in stages.split():
            name, _, seconds = stage.partition("=")
            totals.setdefault(name, []).append(float(seconds))
    return {name: sum(values) / len(values) for name, values in totals.items()}


def _mean_job_seconds(event_id: str) -> float:
    with migrated_database().session() as session:
        mean = session.scalar(
            select(func.avg(Photo.index_seconds)).where(Photo.event_id == uuid.UUID(event_id))
        )
    return float(mean or 0.0)


def _index_all(
    client: httpx.Client, event_id: str, files: list[Path], service: Service
) -> EndToEnd:
    cpu_before = service.cpu_seconds()
    started = time.perf_counter()
    with ThreadPoolExecutor(PARALLEL_UPLOADS) as lanes:
        for result in lanes.map(lambda path: _upload(client, event_id, path), files):
            del result
    uploaded = time.perf_counter() - started
    deadline = time.monotonic() + INDEX_TIMEOUT_SECONDS
    while True:
        answer = client.get(f"/api/v1/events/{event_id}/progress")
        answer.raise_for_status()
        progress = answer.json()
        if progress["total"] == len(files) and progress["percent_done"] >= 100:
            seconds = time.perf_counter() - started
            return EndToEnd(
                seconds,
                uploaded,
                progress["faces_found"],
                _mean_job_seconds(event_id),
                cpu_seconds=service.cpu_seconds() - cpu_before,
            )
        if time.monotonic() > deadline:
            raise RuntimeError(f"Indexing did not finish: {progress}")
        time.sleep(POLL_SECONDS)


def end_to_end(files: list[Path], workers: int, settings: Settings) -> EndToEnd:
    """Upload `files` to a new event of a running service and wait for 100 % indexed."""
    with (
        throwaway_organizer(settings) as headers,
        running_service(workers, settings) as service,
        httpx.Client(base_url=service.base_url, headers=headers, timeout=300) as client,
    ):
        _index_all(client, _new_event(client, "bench-warm-up"), files[: 2 * workers], service)
        event_id = _new_event(client, "bench")
        measured = _index_all(client, event_id, files, service)
        return replace(measured, stages=_mean_stages(event_id))
