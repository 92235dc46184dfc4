"""`visage bench checkin`: kiosk check-in latency over HTTP, end to end, as the door sees it.

A real member is enrolled (two photos, a PIN) in a tenant whose gallery is then filled with N
synthetic templates (beside other tenants, as in `visage bench faces`); a kiosk key posts a
640x480 JPEG frame of a third photo to `POST /api/v1/checkins` on a live server. Decode,
detection, embedding, the tenant-filtered search, the membership decision and the check-in row
are all inside the measured time. The synthetic tenants are deleted at the end.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import httpx
import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from visage.access import memberships as access_memberships
from visage.access import pins
from visage.access import plans as access_plans
from visage.access.decision import PlanKind
from visage.access.schemas import MembershipCreate, PlanCreate
from visage.bench.report import DEFAULT_ACCURACY_SIZES, TABLE_NOTE, rates_table
from visage.config import Settings
from visage.core.db import Database
from visage.core.images import ImageLimits, decode_image
from visage.core.live_server import serve_in_thread
from visage.core.tenancy import TenantId
from visage.faces import bench as faces_bench
from visage.faces import service as faces_service
from visage.faces import tenant_settings
from visage.faces.decision import KioskMode
from visage.faces.models import DEFAULT_RETENTION_DAYS
from visage.identity.principal import OPERATOR, ClientInfo
from visage.identity.service import create_device
from visage.members import service as members_service

ENROLLED_PHOTOS = ("obama2.jpg", "obama3.jpg")  # the frame shows obama.jpg: another photo
DOOR_PIN = "2468"
# face_then_pin costs what face costs when the face is clear, what face_and_pin costs otherwise.
TIMED_MODES: tuple[KioskMode, ...] = ("face", "face_and_pin")

console = Console(width=140)


@contextmanager
def live_server(settings: Settings) -> Iterator[str]:
    """The real app on a free local port, in this process (its lifespan pre-warms the model)."""
    from visage.app import create_app

    # One client sends every request: the per-client limit would measure itself.
    app = create_app(settings.model_copy(update={"rate_limit_per_minute": 1_000_000}))
    with serve_in_thread(app) as base_url:
        yield base_url


def enroll_door_member(
    database: Database, tenant_id: uuid.UUID, images: Path, limits: ImageLimits
) -> str:
    """A consenting member with two photos and an unlimited plan; returns a kiosk API key."""
    operator = dataclasses.replace(OPERATOR, tenant_id=TenantId(tenant_id))
    client = ClientInfo()
    with database.session() as session:
        member = members_service.create_member(session, operator, {"full_name": "Door Member"})
        members_service.give_consent(
            session, operator, member.id, text_version="bench", method="bench"
        )
        photos = [decode_image((images / name).read_bytes(), limits) for name in ENROLLED_PHOTOS]
        faces_service.enroll(session, operator, member.id, photos)
        plan = access_plans.create_plan(
            session, operator, PlanCreate(name="Bench unlimited", kind=PlanKind.UNLIMITED)
        )
        access_memberships.create_membership(
            session, operator, member.id, MembershipCreate(plan_id=plan.id), client
        )
        pins.set_pin(session, operator, member.id, DOOR_PIN, client)
        _, api_key = create_device(session, tenant_id, "bench kiosk")
    return api_key


def set_kiosk_mode(database: Database, tenant_id: uuid.UUID, mode: KioskMode) -> None:
    operator = dataclasses.replace(OPERATOR, tenant_id=TenantId(tenant_id))
    with database.session() as session:
        tenant_settings.update_face_settings(
            session,
            operator,
            recognition_tolerance=None,
            retention_days=DEFAULT_RETENTION_DAYS,
            kiosk_mode=mode,
        )


def bench_checkin(
    images: Annotated[
        Path, typer.Option(help="Folder of the test portraits (obama*.jpg are used)")
    ] = Path("tests/data/faces"),
    templates: Annotated[
        str, typer.Option(help="Templates in the kiosk's tenant, comma-separated (try 100000)")
    ] = "1000,10000",
    requests: Annotated[int, typer.Option(min=5, help="Check-ins per gallery size")] = 40,
    accuracy_sizes: Annotated[
        str, typer.Option(help="Gallery sizes for FPIR/FNIR per kiosk mode, comma-separated")
    ] = DEFAULT_ACCURACY_SIZES,
    trials: Annotated[
        int, typer.Option(min=100, help="Strangers and members drawn per size and mode")
    ] = 20_000,
) -> None:
    """Kiosk check-in latency over HTTP (p50/p95) with N templates enrolled, and FPIR/FNIR
    per kiosk mode at N members on distances drawn from the calibrated curves."""
    from visage.bench.identification import simulate
    from visage.config import get_settings
    from visage.faces.calibration.model import shipped_score_model
    from visage.faces.cli import bench_database, bench_sizes

    settings = get_settings()
    rates = simulate(
        shipped_score_model(),
        bench_sizes(accuracy_sizes),
        fpir_target=settings.face_fpir_target,
        candidate_distance=settings.face_recognition_tolerance,
        trials=trials,
    )
    console.print(rates_table(f"Kiosk decision, {trials:,} draws per size (LFW curves)", rates))
    console.print(TABLE_NOTE)

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    sizes = bench_sizes(templates)
    database = bench_database(
        images, (*ENROLLED_PHOTOS, faces_bench.PORTRAITS[0], *faces_bench.MEAN_FACE_PORTRAITS)
    )
    frame = faces_bench.scenes(images)[0]
    table = Table(title=f"POST /api/v1/checkins, 640x480 JPEG frame, {requests} requests each")
    for column in (
        "templates in tenant",
        "all tenants",
        "search path",
        "kiosk mode",
        "p50 ms",
        "p95 ms",
        "granted",
        "backend",
    ):
        table.add_column(column)
    with faces_bench.synthetic_gallery(database, faces_bench.mean_face(images)) as gallery:
        api_key = enroll_door_member(
            database, gallery.target, images, ImageLimits.from_settings(settings)
        )
        with live_server(settings) as base_url, httpx.Client(base_url=base_url, timeout=60) as http:
            for size, mode in itertools.product(sizes, TIMED_MODES):
                gallery.grow(size)
                set_kiosk_mode(database, gallery.target, mode)
                with database.session() as session:
                    exact = faces_service.chooses_exact_search(session, gallery.target)
                latencies, granted = [], 0
                for index in range(requests + 1):
                    started = time.perf_counter()
                    response = http.post(
                        "/api/v1/checkins",
                        headers={"X-API-Key": api_key},
                        files={"image": ("frame.jpg", frame.data, "image/jpeg")},
                        data={"pin": DOOR_PIN} if mode != "face" else {},
                    )
                    elapsed_ms = (time.perf_counter() - started) * 1000
                    response.raise_for_status()
                    if index == 0:
                        continue  # warm-up: first query plans, first connection
                    latencies.append(elapsed_ms)
                    granted += response.json()["reason"] == "GRANTED"
                table.add_row(
                    f"{size:,}",
                    f"{gallery.total:,}",
                    "exact" if exact else "hnsw",
                    mode,
                    f"{np.percentile(latencies, 50):.1f}",
                    f"{np.percentile(latencies, 95):.1f}",
                    f"{granted}/{requests}",
                    settings.face_backend,
                )
    console.print(table)
