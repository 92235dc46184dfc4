"""`visage bench faces`: where the milliseconds of a face search go, and how search scales.

1. Per stage (decode, detect, align, embed, search) for a 640x480 kiosk frame and a 12 MP
   event photo, composed from the test portraits; the same pixels through the
   `face_recognition` library (face_locations + face_encodings) for a ratio.
2. Identify latency with N synthetic templates in one tenant among several tenants, and the
   recall of the tenant-filtered HNSW search against exact search. The synthetic tenants are
   deleted at the end.
"""

from __future__ import annotations

import io
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image
from sqlalchemy import delete, insert, text

from visage.core.db import Database, utcnow
from visage.core.images import ImageLimits, decode_image
from visage.faces import service
from visage.faces.calibration.face_space import FaceSpace
from visage.faces.calibration.model import shipped_calibration
from visage.faces.inference.base import MIN_FACE_WIDTH, DetectionMode
from visage.faces.models import TEMPLATE_DIMENSIONS, FaceTemplate
from visage.faces.pipeline import FaceAnalysis, StageTimer, analyze, analyze_largest, largest
from visage.faces.protection import tenant_protector
from visage.faces.tenant_settings import recount_gallery
from visage.identity.models import Tenant
from visage.members.models import Member

PORTRAITS = ("obama.jpg", "biden.jpg", "hopper.jpg", "obama2.jpg", "obama3.jpg")
OTHER_TENANTS = 3
RECALL_AT = 10
STAGES = ("decode", "detect", "align", "embed", "search")
INSERT_BATCH = 2000
# Synthetic members are drawn around the mean face of a few real portraits from the face space
# calibrated on LFW (faces/calibration/face_space.py): two of them are 0.81 +- 0.10 apart and
# two photos of one 0.37, as real people are, so the search meets the crowding a real gallery
# has (the former isotropic draw put everyone 0.85 +- 0.03 apart, nobody within 0.6).
MEAN_FACE_PORTRAITS = ("obama.jpg", "biden.jpg", "hopper.jpg", "astronaut.png")

Vectors = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Scene:
    name: str
    data: bytes  # JPEG as a client would send it
    mode: DetectionMode


@dataclass(frozen=True)
class StageRun:
    scene: Scene
    width: int
    height: int
    faces: int
    ms: dict[str, float]  # median per stage
    peer_ms: float | None  # face_recognition: face_locations + face_encodings
    face: FaceAnalysis | None  # the largest face found


@dataclass(frozen=True)
class ScaleRun:
    build_s: float  # inserting the synthetic templates so far (the HNSW index kept up to date)
    templates: int
    total_templates: int
    path: str  # what the service chose: exact or hnsw
    identify_p50_ms: float
    identify_p95_ms: float
    exact_p50_ms: float
    hnsw_p50_ms: float
    hnsw_recall: float  # share of the exact top RECALL_AT members the index also returns
    hnsw_top1: float  # share of searches where both agree on the nearest member (identify)


def _portrait(images_dir: Path, name: str, height: int) -> Image.Image:
    portrait = Image.open(images_dir / name).convert("RGB")
    return portrait.resize((portrait.width * height // portrait.height, height))


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def scenes(images_dir: Path) -> list[Scene]:
    frame = Image.new("RGB", (640, 480), (200, 200, 190))
    person = _portrait(images_dir, PORTRAITS[0], 420)
    frame.paste(person, ((640 - person.width) // 2, 30))
    photo = Image.new("RGB", (4000, 3000), (170, 180, 190))
    for index, name in enumerate(PORTRAITS):
        portrait = _portrait(images_dir, name, 1100)
        photo.paste(portrait, (80 + index * 780, 300 + (index % 2) * 1400))
    return [
        Scene("kiosk frame 640x480", _jpeg(frame), "kiosk"),
        Scene("event photo 12 MP", _jpeg(photo), "photo"),
    ]


def peer() -> Any:
    """The `face_recognition` package, or None when not installed (a dev-only benchmark peer)."""
    try:
        import face_recognition
    except ImportError:
        return None
    return face_recognition


def stage_run(
    scene: Scene,
    limits: ImageLimits,
    search: Callable[[FaceAnalysis], None],
    repeats: int,
    *,
    warm_up: bool = False,
) -> StageRun:
    """Median milliseconds per stage over `repeats` runs (after one untimed run if `warm_up`:
    first-use costs such as the tenant key and the connection pool)."""
    samples: list[dict[str, float]] = []
    peer_samples: list[float] = []
    peer_library = peer()
    image = decode_image(scene.data, limits)
    faces: list[FaceAnalysis] = []
    for run in range(repeats + warm_up):
        timer = StageTimer()
        with timer.stage("decode"):
            image = decode_image(scene.data, limits)
        faces = analyze(image.rgb, scene.mode, timer=timer)
        with timer.stage("search"):
            if faces:
                search(largest(faces))
        if warm_up and run == 0:
            continue
        samples.append(timer.ms)
        if peer_library is not None:
            start = time.perf_counter()
            locations = peer_library.face_locations(image.rgb, number_of_times_to_upsample=1)
            peer_library.face_encodings(image.rgb, locations, num_jitters=1, model="small")
            peer_samples.append((time.perf_counter() - start) * 1000)
    medians = {stage: statistics.median(s[stage] for s in samples) for stage in samples[0]}
    return StageRun(
        scene=scene,
        width=image.rgb.shape[1],
        height=image.rgb.shape[0],
        faces=len(faces),
        ms=medians,
        peer_ms=statistics.median(peer_samples) if peer_samples else None,
        face=largest(faces) if faces else None,
    )


@dataclass(frozen=True)
class FaceCount:
    """Faces a pipeline found, and how many are wide enough for a search to match."""

    found: int = 0
    recognizable: int = 0  # at least MIN_FACE_WIDTH wide

    def __add__(self, other: FaceCount) -> FaceCount:
        return FaceCount(self.found + other.found, self.recognizable + other.recognizable)

    @classmethod
    def of_widths(cls, widths: list[int]) -> FaceCount:
        return cls(len(widths), sum(width >= MIN_FACE_WIDTH for width in widths))


def mean_face(images_dir: Path) -> Vectors:
    """The mean embedding of a few real people: where synthetic members are drawn around."""
    faces = []
    for name in MEAN_FACE_PORTRAITS:
        rgb = np.asarray(Image.open(images_dir / name).convert("RGB"))
        face = analyze_largest(rgb, "kiosk")
        if face is None:
            raise ValueError(f"No face found in {images_dir / name}")
        faces.append(face.embedding)
    center: Vectors = np.mean(faces, axis=0).astype(np.float32)
    return center


class SyntheticGallery:
    """One target tenant and a few others, filled with random templates that look like real
    ones (around `center`, the mean face, protected by each tenant's key), deleted on exit."""

    def __init__(self, database: Database, center: Vectors, seed: int = 20261122) -> None:
        self.database = database
        self.center = center
        self.rng = np.random.default_rng(seed)
        self.target = uuid.uuid4()
        self.others = [uuid.uuid4() for _ in range(OTHER_TENANTS)]
        self.target_vectors = np.zeros((0, TEMPLATE_DIMENSIONS), dtype=np.float32)
        self.target_people = np.zeros((0, TEMPLATE_DIMENSIONS))  # offsets from the centre
        self.space = FaceSpace.from_json(shipped_calibration()["face_space"])
        # Distances do not depend on the basis the face space is drawn in: any rotation.
        self.basis = np.linalg.qr(self.rng.normal(size=(TEMPLATE_DIMENSIONS,) * 2))[0]
        self.total = 0
        self.build_seconds = 0.0

    @property
    def tenants(self) -> list[uuid.UUID]:
        return [self.target, *self.others]

    def create(self) -> None:
        with self.database.session() as session:
            for tenant_id in self.tenants:
                slug = f"bench-{tenant_id.hex[:12]}"
                session.add(Tenant(id=tenant_id, name=slug, slug=slug))

    def drop(self) -> None:
        with self.database.session() as session:
            session.execute(delete(Tenant).where(Tenant.id.in_(self.tenants)))

    def _embedding(self, people: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """One photo of each person, as the embedder would place it."""
        photos = self.center + self.space.photos(self.rng, people) @ self.basis.T
        return np.asarray(photos, dtype=np.float64)

    def _insert(self, tenant_id: uuid.UUID, count: int) -> Vectors:
        people = self.space.members(self.rng, count)
        if tenant_id == self.target:
            self.target_people = np.concatenate([self.target_people, people])
        with self.database.session() as session:
            vectors = tenant_protector(session, tenant_id).protect(self._embedding(people))
        for start in range(0, count, INSERT_BATCH):
            batch = vectors[start : start + INSERT_BATCH]
            member_ids = [uuid.uuid4() for _ in batch]
            # Regulars, recognized recently: identification needs no write (see mark_seen).
            seen = utcnow()
            with self.database.session() as session:
                session.execute(
                    insert(Member),
                    [
                        {
                            "id": m,
                            "tenant_id": tenant_id,
                            "full_name": "synthetic",
                            "is_active": True,
                            "last_seen_at": seen,
                        }
                        for m in member_ids
                    ],
                )
                session.execute(
                    insert(FaceTemplate),
                    [
                        {
                            "id": uuid.uuid4(),
                            "tenant_id": tenant_id,
                            "member_id": m,
                            "embedding": v,
                            "sharpness": 100.0,
                            "face_width": 150,
                            "detection_score": 1.0,
                        }
                        for m, v in zip(member_ids, batch, strict=True)
                    ],
                )
        self.total += count
        return vectors

    def grow(self, target_templates: int) -> None:
        """Fill the target tenant up to `target_templates`; the others share as many."""
        missing = target_templates - len(self.target_vectors)
        if missing <= 0:
            return
        start = time.perf_counter()
        self.target_vectors = np.concatenate(
            [self.target_vectors, self._insert(self.target, missing)]
        )
        for tenant_id in self.others:
            self._insert(tenant_id, missing // OTHER_TENANTS)
        with self.database.session() as session:
            recount_gallery(session, self.tenants)
        with self.database.engine.begin() as connection:
            connection.execute(text("ANALYZE members, face_templates"))
        self.build_seconds += time.perf_counter() - start

    def probes(self, count: int) -> Vectors:
        """Stored-space probes: new 'photos' of enrolled synthetic members."""
        picks = self.rng.choice(len(self.target_vectors), size=count, replace=False)
        with self.database.session() as session:
            protector = tenant_protector(session, self.target)
            return protector.protect(self._embedding(self.target_people[picks]))


@contextmanager
def synthetic_gallery(database: Database, center: Vectors) -> Iterator[SyntheticGallery]:
    gallery = SyntheticGallery(database, center)
    gallery.create()
    try:
        yield gallery
    finally:
        gallery.drop()


def _timed_ms(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def scale_run(
    database: Database, gallery: SyntheticGallery, size: int, face: FaceAnalysis, queries: int
) -> ScaleRun:
    """Grow the gallery to `size` templates in the target tenant, then search it."""
    gallery.grow(size)
    probes = gallery.probes(queries)
    with database.session() as session:
        rotation = tenant_protector(session, gallery.target).rotation
        path_exact = service.chooses_exact_search(session, gallery.target)

    def identify(probe: Vectors) -> None:
        # The probe as the embedder would give it, before the tenant's rotation.
        embedding = (probe.astype(np.float64) @ rotation).astype(np.float32)
        with database.session() as session:
            service.identify_face(session, gallery.target, replace(face, embedding=embedding))

    def nearest(probe: Vectors, exact: bool) -> list[uuid.UUID]:
        with database.session() as session:
            found = service.nearest_members(
                session, gallery.target, probe, members=RECALL_AT, exact=exact
            )
        return [candidate.member_id for candidate in found]

    identify_ms = [_timed_ms(partial(identify, probe)) for probe in probes]
    exact_ms, hnsw_ms, recalls, top1 = [], [], [], []
    for probe in probes:
        start = time.perf_counter()
        truth = nearest(probe, exact=True)
        exact_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        found = nearest(probe, exact=False)
        hnsw_ms.append((time.perf_counter() - start) * 1000)
        recalls.append(len(set(truth) & set(found)) / len(truth))
        top1.append(float(found[:1] == truth[:1]))
    return ScaleRun(
        build_s=gallery.build_seconds,
        templates=len(gallery.target_vectors),
        total_templates=gallery.total,
        path="exact" if path_exact else "hnsw",
        identify_p50_ms=_percentile(identify_ms, 50),
        identify_p95_ms=_percentile(identify_ms, 95),
        exact_p50_ms=_percentile(exact_ms, 50),
        hnsw_p50_ms=_percentile(hnsw_ms, 50),
        hnsw_recall=float(np.mean(recalls)),
        hnsw_top1=float(np.mean(top1)),
    )
