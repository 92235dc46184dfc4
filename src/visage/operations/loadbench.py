"""`visage bench load`: many kiosks, staff, selfie-searching attendees and a photographer at
once against one `visage serve` (a subprocess with its worker, on this machine's embedded or
configured database, loopback only), for a bounded time.

Each actor is a thread with its own HTTP connection: a kiosk sends a 640x480 JPEG close-up of
the enrolled member (a real photo, cropped and scaled as a door camera frames someone at arm's
length, a little different each time) every 1.5 s, a staff user browses the member list, a
member page and the check-ins about once a second, an attendee searches an event by selfie
every 3 s, the photographer uploads a new photo every 2 s. A latency is the client's: from
sending the request to having read the answer, as the door sees it.
Printed: per-route p50/p95/p99 and errors by status, throughput, the kiosks' frame rate against
the one offered, and the CPU of the API with its workers, of the embedded database and of this
load generator (it shares the machine). Every check-in answered 200 is looked up in the
database afterwards: one missing is a lost check-in.

The server runs with the rate limit lifted: this measures the service, not the limiter.
"""

from __future__ import annotations

import io
import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx
import numpy as np
import psutil
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from visage.access.bench import enroll_door_member
from visage.access.models import Checkin
from visage.config import Settings
from visage.core.db import Database
from visage.core.images import ImageLimits
from visage.core.live_server import serve_subprocess
from visage.events.models import Photo, PhotoStatus
from visage.identity import service as identity_service
from visage.identity.models import Role
from visage.identity.principal import ClientInfo
from visage.identity.throwaway import signed_in_headers
from visage.operations.cpu_meter import CpuMeter, CpuPercents, embedded_postmaster
from visage.operations.door_frames import DoorFrames, empty_frames, kiosk_frames

KIOSK_PERIOD = 1.5
STAFF_PERIOD = 1.0
ATTENDEE_PERIOD = 3.0
UPLOAD_PERIOD = 2.0
REQUEST_TIMEOUT = 30.0
KIOSK_ROUTE = "POST /checkins (kiosk)"
# The web kiosk sends a frame every 1.5 s while idle too: the API answers FACE_001 (422).
NOBODY_ROUTE = "POST /checkins (kiosk, nobody there)"


@dataclass
class Recorder:
    """Latencies and statuses by route, shared by every actor thread."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    transport_errors: Counter[str] = field(default_factory=Counter)
    checkins: list[uuid.UUID] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, route: str, send: Callable[[], httpx.Response]) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = send()
        except httpx.HTTPError as error:
            with self.lock:
                self.transport_errors[f"{route}: {type(error).__name__}"] += 1
            return None
        elapsed_ms = (time.perf_counter() - started) * 1000
        with self.lock:
            self.latencies[route].append(elapsed_ms)
            self.statuses[route][response.status_code] += 1
        return response


@dataclass(frozen=True)
class RouteFigures:
    route: str
    requests: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: dict[int, int]


@dataclass(frozen=True)
class LoadReport:
    seconds: float
    routes: list[RouteFigures]
    throughput: float
    kiosk_frames_per_second: float
    server_cpu_percent: float  # the API and its workers, in % of one core
    database_cpu_percent: float | None  # the embedded PostgreSQL (None: an external one)
    load_cpu_percent: float  # this load generator
    machine_cpu_percent: float
    server_errors: int
    transport_errors: dict[str, int]
    checkins_answered: int
    checkins_lost: int
    photos: PhotoFigures


@dataclass(frozen=True)
class PhotoFigures:
    """The photographer's view: uploads accepted, and how many became searchable (indexed by
    the worker) before the end of the run, how fast."""

    uploaded: int
    indexed: int
    failed: int
    indexing_p50_s: float | None  # upload to indexed
    indexing_p95_s: float | None


@dataclass(frozen=True)
class Actors:
    kiosk_keys: list[str]
    staff_headers: list[dict[str, str]]
    owner_headers: dict[str, str]
    member_id: str
    event_id: str
    access_code: str


def _pacing(seed: str) -> random.Random:
    return random.Random(seed)  # noqa: S311 - jitter of the load, not a secret


def _photographer_shot(images: list[Image.Image], rng: random.Random) -> bytes:
    """A new photo each time (random crop and quality): never a duplicate upload."""
    source = rng.choice(images)
    width, height = source.size
    left, top = rng.randrange(0, width // 8 + 1), rng.randrange(0, height // 8 + 1)
    shot = source.crop((left, top, width - rng.randrange(0, width // 8 + 1), height))
    buffer = io.BytesIO()
    shot.save(buffer, format="JPEG", quality=rng.randrange(80, 95))
    return buffer.getvalue()


def prepare(
    settings: Settings, database: Database, images: Path, base_url: str, kiosks: int, staff: int
) -> Actors:
    """A tenant with a door member, the kiosks' keys, signed-in staff and an event."""
    slug = f"load-{uuid.uuid4().hex[:8]}"
    client = ClientInfo(user_agent="visage-bench-load")
    with database.session() as session:
        tenant = identity_service.create_tenant(session, name="Load test gym", slug=slug)
        tenant_id = tenant.id

        owner = signed_in_headers(session, settings, tenant_id, Role.TENANT_OWNER, client)
        staff_headers = [
            signed_in_headers(session, settings, tenant_id, Role.STAFF, client)
            for _ in range(staff)
        ]
    keys = [enroll_door_member(database, tenant_id, images, ImageLimits.from_settings(settings))]
    with database.session() as session:
        keys += [
            identity_service.create_device(session, tenant_id, f"door {n}")[1]
            for n in range(1, kiosks)
        ]
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT) as http:
        members = http.get("/api/v1/members", headers=owner).json()["items"]
        event = http.post(
            "/api/v1/events",
            json={"name": "Load race", "slug": slug, "event_date": time.strftime("%Y-%m-%d")},
            headers=owner,
        ).json()
    return Actors(keys, staff_headers, owner, members[0]["id"], event["id"], event["access_code"])


def _every(period: float, stop: threading.Event, rng: random.Random) -> Iterator[None]:
    time.sleep(rng.uniform(0, period))  # actors do not start in step
    while not stop.is_set():
        started = time.monotonic()
        yield
        stop.wait(max(0.0, period - (time.monotonic() - started)))


def _kiosk(
    http: httpx.Client, key: str, frames: DoorFrames, record: Recorder, stop: threading.Event
) -> None:
    rng = _pacing(key)
    door = rng.choice(frames.nobody)  # the kiosk's camera films one door
    for _ in _every(KIOSK_PERIOD, stop, rng):
        nobody = rng.random() < frames.nobody_share
        frame = rng.choice(door if nobody else frames.member)
        response = record.call(
            NOBODY_ROUTE if nobody else KIOSK_ROUTE,
            partial(
                http.post,
                "/api/v1/checkins",
                headers={"X-API-Key": key},
                files={"image": ("frame.jpg", frame, "image/jpeg")},
            ),
        )
        if response is not None and response.status_code == 200 and not nobody:
            with record.lock:
                record.checkins.append(uuid.UUID(response.json()["checkin_id"]))


def _staff(
    http: httpx.Client,
    headers: dict[str, str],
    member_id: str,
    record: Recorder,
    stop: threading.Event,
) -> None:
    pages = [
        ("GET /members", "/api/v1/members", {"limit": "50"}),
        ("GET /members/{id}", f"/api/v1/members/{member_id}", {}),
        ("GET /checkins", "/api/v1/checkins", {"limit": "50"}),
        ("GET /members?q=", "/api/v1/members", {"q": "Door"}),
    ]
    rng = _pacing(headers["Authorization"])
    for _ in _every(STAFF_PERIOD, stop, rng):
        route, path, params = rng.choice(pages)
        record.call(route, partial(http.get, path, params=params, headers=headers))


def _attendee(
    http: httpx.Client, actors: Actors, selfie: bytes, record: Recorder, stop: threading.Event
) -> None:
    joined = http.post("/api/v1/attendees/anonymous", json={"access_code": actors.access_code})
    headers = {"Authorization": f"Bearer {joined.json()['access_token']}"}
    for _ in _every(ATTENDEE_PERIOD, stop, _pacing(actors.access_code)):
        record.call(
            "POST /events/{id}/search",
            lambda: http.post(
                f"/api/v1/events/{actors.event_id}/search",
                files={"image": ("selfie.jpg", selfie, "image/jpeg")},
                headers=headers,
            ),
        )


def _photographer(
    http: httpx.Client,
    actors: Actors,
    images: list[Image.Image],
    record: Recorder,
    stop: threading.Event,
) -> None:
    rng = _pacing(actors.event_id)
    for _ in _every(UPLOAD_PERIOD, stop, rng):
        shot = _photographer_shot(images, rng)
        record.call(
            "POST /events/{id}/photos",
            partial(
                http.post,
                f"/api/v1/events/{actors.event_id}/photos",
                files=[("files", ("shot.jpg", shot, "image/jpeg"))],
                headers=actors.owner_headers,
            ),
        )


@contextmanager
def loaded_server(workers: int) -> Iterator[tuple[str, psutil.Process]]:
    """`visage serve` on a free loopback port with the rate limit lifted, once its model is
    loaded."""
    env = {"RATE_LIMIT_PER_MINUTE": "100000000", "API_HOST": "127.0.0.1"}
    with serve_subprocess(workers=workers, env=env, ready_path="/health/model") as served:
        yield served.base_url, psutil.Process(served.process.pid)


def run_load(
    settings: Settings,
    database: Database,
    images: Path,
    *,
    seconds: float,
    kiosks: int,
    staff: int,
    attendees: int,
    uploaders: int,
    workers: int = 1,
    nobody_share: float = 0.0,
) -> LoadReport:
    frames = DoorFrames(kiosk_frames(images), empty_frames(images), nobody_share)
    portraits = [Image.open(path).convert("RGB") for path in sorted(images.glob("*.jpg"))]
    record = Recorder()
    stop = threading.Event()
    with loaded_server(workers) as (base_url, server):
        actors = prepare(settings, database, images, base_url, kiosks, staff)
        clients: list[httpx.Client] = []

        def client() -> httpx.Client:
            http = httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT)
            clients.append(http)
            return http

        threads = [
            *(
                threading.Thread(target=_kiosk, args=(client(), key, frames, record, stop))
                for key in (actors.kiosk_keys * kiosks)[:kiosks]
            ),
            *(
                threading.Thread(
                    target=_staff, args=(client(), headers, actors.member_id, record, stop)
                )
                for headers in actors.staff_headers
            ),
            *(
                threading.Thread(
                    target=_attendee, args=(client(), actors, frames.member[0], record, stop)
                )
                for _ in range(attendees)
            ),
            *(
                threading.Thread(
                    target=_photographer, args=(client(), actors, portraits, record, stop)
                )
                for _ in range(uploaders)
            ),
        ]
        meter = CpuMeter(server, embedded_postmaster(settings)).start()
        for thread in threads:
            thread.start()
        stop.wait(seconds)
        stop.set()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - meter.started
        cpu = meter.percents()
        for http in clients:
            http.close()
    return _report(database, record, elapsed, cpu, uuid.UUID(actors.event_id))


def _photo_figures(session: Session, event_id: uuid.UUID) -> PhotoFigures:
    rows = session.execute(
        select(Photo.status, Photo.created_at, Photo.indexed_at).where(Photo.event_id == event_id)
    ).all()
    waits = [
        (indexed_at - created_at).total_seconds()
        for status, created_at, indexed_at in rows
        if status is PhotoStatus.INDEXED and indexed_at is not None
    ]
    p50, p95 = (float(np.percentile(waits, q)) if waits else None for q in (50, 95))
    failed = sum(1 for status, _, _ in rows if status is PhotoStatus.FAILED)
    return PhotoFigures(len(rows), len(waits), failed, p50, p95)


def _errors(route: str, statuses: Counter[int]) -> dict[int, int]:
    """Answers other than the expected: 4xx/5xx, and for an empty frame anything but 422."""
    if route == NOBODY_ROUTE:
        return {status: n for status, n in statuses.items() if status != 422}
    return {status: n for status, n in statuses.items() if status >= 400}


def _report(
    database: Database, record: Recorder, elapsed: float, cpu: CpuPercents, event_id: uuid.UUID
) -> LoadReport:
    with database.session() as session:
        stored = set(session.scalars(select(Checkin.id).where(Checkin.id.in_(record.checkins))))
        photos = _photo_figures(session, event_id)
    routes = []
    for route, latencies in sorted(record.latencies.items()):
        p50, p95, p99 = (float(np.percentile(latencies, q)) for q in (50, 95, 99))
        errors = _errors(route, record.statuses[route])
        routes.append(RouteFigures(route, len(latencies), p50, p95, p99, errors))
    total = sum(figures.requests for figures in routes)
    server_errors = sum(
        n for counts in record.statuses.values() for status, n in counts.items() if status >= 500
    )
    return LoadReport(
        seconds=elapsed,
        routes=routes,
        throughput=total / elapsed,
        kiosk_frames_per_second=(
            len(record.latencies[KIOSK_ROUTE]) + len(record.latencies[NOBODY_ROUTE])
        )
        / elapsed,
        server_cpu_percent=cpu.server,
        database_cpu_percent=cpu.database,
        load_cpu_percent=cpu.load,
        machine_cpu_percent=cpu.machine,
        server_errors=server_errors,
        transport_errors=dict(record.transport_errors),
        checkins_answered=len(record.checkins),
        checkins_lost=len(set(record.checkins) - stored),
        photos=photos,
    )
