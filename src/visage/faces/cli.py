"""`visage keys rotate|shred`, `visage eval` and `visage bench faces`."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from visage.core.db import Database

console = Console(soft_wrap=True)
keys_app = typer.Typer(
    help="Tenants' biometric template keys (see docs/biometrics.md).", no_args_is_help=True
)

TenantOption = Annotated[str, typer.Option("--tenant", help="The tenant's slug")]


def _on_tenant_key(
    slug: str, operation: Callable[[Session, uuid.UUID], dict[str, int]], action: str
) -> dict[str, int]:
    """Run a key operation on the tenant named by `slug`, audited, in one transaction."""
    from visage.core.migrations import migrated_database
    from visage.identity import audit
    from visage.identity.models import Tenant

    with migrated_database().session() as session:
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == slug))
        if tenant_id is None:
            console.print(f"[red]No tenant with slug {slug!r}.[/red]")
            raise typer.Exit(1)
        counts = operation(session, tenant_id)
        audit.record(session, action=action, actor=None, tenant_id=tenant_id, details=counts)
    return counts


@keys_app.command("rotate")
def rotate(tenant: TenantOption) -> None:
    """Give the tenant a new template key and re-transform its templates (no images needed)."""
    from visage.faces.protection import rotate_tenant_key

    counts = _on_tenant_key(tenant, rotate_tenant_key, "biometrics.key_rotated")
    for column, rows in counts.items():
        console.print(f"{column}: {rows} re-sealed")
    console.print(f"[green]Template key of {tenant} rotated.[/green]")


@keys_app.command("shred")
def shred(
    tenant: TenantOption,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: this cannot be undone")] = False,
) -> None:
    """Destroy the tenant's template key: its templates and thumbnails become useless."""
    from visage.faces.protection import shred_tenant_key

    if not yes:
        console.print("[red]Crypto-shredding cannot be undone: add --yes to confirm.[/red]")
        raise typer.Exit(2)
    counts = _on_tenant_key(tenant, shred_tenant_key, "biometrics.key_shredded")
    for column, rows in counts.items():
        console.print(f"{column}: {rows} rows disposed of")
    console.print(f"[green]Template key of {tenant} destroyed.[/green]")


def evaluate(
    pairs: Annotated[
        Path | None, typer.Argument(help="CSV with columns file_x,file_y,Decision (Yes/No)")
    ] = None,
    images: Annotated[
        Path | None, typer.Option("--images", help="Folder the file names are relative to")
    ] = None,
    threshold: Annotated[
        float | None, typer.Option(help="Distance threshold (default FACE_RECOGNITION_TOLERANCE)")
    ] = None,
    identify: Annotated[
        Path | None,
        typer.Option(help="1:N instead: a folder per person; FPIR/FNIR per kiosk mode at N"),
    ] = None,
    sizes: Annotated[
        str, typer.Option(help="With --identify: gallery sizes, filled with synthetic members")
    ] = "1000,10000,100000",
) -> None:
    """Accuracy, false accept and false reject rates on labeled pairs; the best threshold.
    With --identify DIR: the kiosk decision's FPIR/FNIR per mode on the folder's photos."""
    from visage.config import get_settings
    from visage.core.images import ImageLimits
    from visage.faces.evaluation import PairsFileError, evaluate, read_pairs

    settings = get_settings()
    if identify is not None:
        evaluate_identification(identify, bench_sizes(sizes))
        return
    if pairs is None or images is None:
        console.print("[red]Give PAIRS.csv and --images DIR, or --identify DIR.[/red]")
        raise typer.Exit(2)
    configured = threshold if threshold is not None else settings.face_recognition_tolerance
    try:
        report = evaluate(
            read_pairs(pairs), images, configured, ImageLimits.from_settings(settings)
        )
    except (OSError, PairsFileError) as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    console.print(f"Pairs: {report.pairs}, evaluated: {report.evaluated}")
    for label, result in (("At threshold", report.at_threshold), ("Best", report.best)):
        console.print(
            f"{label} {result.threshold:.3f}: accuracy {result.accuracy:.1%}, "
            f"false accept rate {result.false_accept_rate:.1%}, "
            f"false reject rate {result.false_reject_rate:.1%}"
        )
    for name in report.no_face:
        console.print(f"No face found: {name}")
    for name in report.unreadable:
        console.print(f"Unreadable: {name}")


def evaluate_identification(directory: Path, sizes: list[int]) -> None:
    """Real probes of a folder per person against real + synthetic galleries of each size."""
    import numpy as np

    from visage.bench.identification import evaluate_probes
    from visage.bench.report import TABLE_NOTE, rates_table
    from visage.config import get_settings
    from visage.core.images import ImageLimits
    from visage.faces.calibration.measure import measure_folder
    from visage.faces.calibration.model import shipped_score_model

    if not directory.is_dir():
        console.print(f"[red]{directory} is not a folder.[/red]")
        raise typer.Exit(2)
    settings = get_settings()
    measures = [
        m
        for m in measure_folder(directory, ImageLimits.from_settings(settings))
        if m.embedding is not None
    ]
    if len({m.person for m in measures}) < 4:
        console.print("[red]Identification needs photos of at least 4 people.[/red]")
        raise typer.Exit(1)
    rates = evaluate_probes(
        shipped_score_model(),
        np.stack([m.embedding for m in measures if m.embedding is not None]).astype(np.float64),
        np.array([m.person for m in measures]),
        sizes,
        fpir_target=settings.face_fpir_target,
        candidate_distance=settings.face_recognition_tolerance,
    )
    title = f"{directory.name}: real probes, galleries filled with synthetic members"
    Console(width=160).print(rates_table(title, rates))
    console.print(TABLE_NOTE)


def bench_sizes(sizes: str) -> list[int]:
    """`--sizes 1000,10000` as sorted gallery sizes."""
    return sorted({int(size) for size in sizes.split(",") if size.strip()})


def bench_database(images: Path, portraits: Sequence[str]) -> Database:
    """The database a benchmark fills, once the portraits it needs are found and the schema is
    at head; otherwise say what to do and exit 2."""
    from visage.core.migrations import migrated_database

    if not all((images / name).is_file() for name in portraits):
        console.print(f"[red]No test portraits in {images}: pass --images tests/data/faces.[/red]")
        raise typer.Exit(2)
    return migrated_database()


def bench_faces(
    images: Annotated[
        Path, typer.Option(help="Folder of the portraits the scenes are composed of")
    ] = Path("tests/data/faces"),
    sizes: Annotated[
        str, typer.Option(help="Templates in the searched tenant, comma-separated (try 100000)")
    ] = "1000,10000",
    queries: Annotated[int, typer.Option(min=1, help="Searches per gallery size")] = 40,
    repeats: Annotated[int, typer.Option(min=1, help="Runs per scene (median)")] = 2,
) -> None:
    """Per-stage milliseconds, face_recognition for comparison, identify latency and recall."""
    from rich.table import Table

    from visage.config import get_settings
    from visage.core.images import ImageLimits
    from visage.faces import bench
    from visage.faces.pipeline import FaceAnalysis
    from visage.faces.service import identify_face

    wide = Console(width=160)
    settings = get_settings()
    gallery_sizes = bench_sizes(sizes)
    database = bench_database(images, (*bench.PORTRAITS[:1], *bench.MEAN_FACE_PORTRAITS))
    with bench.synthetic_gallery(database, bench.mean_face(images)) as gallery:
        gallery.grow(gallery_sizes[0])

        def search(face: FaceAnalysis) -> None:
            with database.session() as session:
                identify_face(session, gallery.target, face)

        stage_table = Table(title="Per stage, median ms")
        for column in ("scene", "pixels", "faces", "decode", "detect", "align", "embed"):
            stage_table.add_column(column)
        stage_table.add_column(f"search ({gallery_sizes[0]})")
        stage_table.add_column("ours total")
        stage_table.add_column("face_recognition")
        stage_table.add_column("ratio")
        peer_missing = bench.peer() is None
        limits = ImageLimits.from_settings(settings)
        runs = [
            bench.stage_run(scene, limits, search, repeats, warm_up=index == 0)
            for index, scene in enumerate(bench.scenes(images))
        ]
        for run in runs:
            ours = sum(run.ms.get(stage, 0.0) for stage in ("detect", "align", "embed"))
            stage_table.add_row(
                run.scene.name,
                f"{run.width}x{run.height}",
                str(run.faces),
                *(f"{run.ms.get(stage, 0.0):.1f}" for stage in bench.STAGES),
                f"{sum(run.ms.values()):.1f}",
                f"{run.peer_ms:.1f}" if run.peer_ms is not None else "not installed",
                f"{run.peer_ms / ours:.2f}x" if run.peer_ms is not None and ours else "-",
            )
        wide.print(stage_table)
        console.print(
            "ratio = face_recognition (face_locations + face_encodings) / ours (detect + align "
            "+ embed) on the same decoded pixels, same upsampling."
        )
        if peer_missing:
            console.print(
                "face_recognition is not installed: `pip install --no-deps face_recognition` "
                "to compare."
            )

        scale_table = Table(
            title=f"Identify among {bench.OTHER_TENANTS + 1} tenants, {queries} queries"
        )
        for column in (
            "build s (total)",
            "templates in tenant",
            "in table",
            "service path",
            "identify p50 ms",
            "p95 ms",
            "exact p50 ms",
            "hnsw p50 ms",
            f"hnsw recall@{bench.RECALL_AT}",
            "hnsw top-1 = exact",
        ):
            scale_table.add_column(column)
        face = next((r.face for r in runs if r.face is not None), None)
        if face is None:
            console.print("[red]No face found in the kiosk frame.[/red]")
            raise typer.Exit(1)
        for size in gallery_sizes:
            result = bench.scale_run(database, gallery, size, face, queries)
            scale_table.add_row(
                f"{result.build_s:.1f}",
                str(result.templates),
                str(result.total_templates),
                result.path,
                f"{result.identify_p50_ms:.1f}",
                f"{result.identify_p95_ms:.1f}",
                f"{result.exact_p50_ms:.1f}",
                f"{result.hnsw_p50_ms:.1f}",
                f"{result.hnsw_recall:.3f}",
                f"{result.hnsw_top1:.3f}",
            )
        wide.print(scale_table)


def calibrate(
    directory: Annotated[Path, typer.Argument(help="A folder per person, their photos inside")],
    output: Annotated[
        Path | None,
        typer.Option(help="Where to write the JSON (default: print a summary only)"),
    ] = None,
) -> None:
    """Measure FMR(d)/FNMR(d), the enrollment gate and multi-photo strategies on labelled photos."""
    import json

    from visage.config import get_settings
    from visage.core.images import ImageLimits
    from visage.faces.calibration.measure import calibration_document, measure_folder
    from visage.faces.calibration.model import score_model_from_json
    from visage.faces.inference.engine import get_backend

    if not directory.is_dir():
        console.print(f"[red]{directory} is not a folder.[/red]")
        raise typer.Exit(2)
    settings = get_settings()

    def progress(count: int) -> None:
        if count % 250 == 0:
            console.print(f"{count} photos measured")

    measures = measure_folder(directory, ImageLimits.from_settings(settings), progress)
    source = {
        "dataset": directory.name,
        "engine": f"dlib_face_recognition_resnet_model_v1 ({get_backend().name} backend)",
        "how": "visage calibrate DIR: every photo through the product's pipeline ('photo' "
        "detection, largest face); all same-person pairs are genuine, all others impostor",
    }
    try:
        document = calibration_document(measures, source)
    except ValueError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    model = score_model_from_json(document)
    gate = document["measurements"]["enrollment_gate"]
    console.print(
        f"{model.source['embedded']} of {len(measures)} photos embedded; genuine mean "
        f"{model.source['genuine_mean']}, impostor mean {model.source['impostor_mean']}; "
        f"enrollment gate refuses {gate['refused_share']:.1%} {gate['refused']}"
    )
    for size in (1, 100, 1_000, 10_000, 100_000):
        distance = model.acceptance_distance(size, 0.001)
        console.print(
            f"N={size}: accept within {distance:.3f}, FNIR {model.fnir(distance, size):.1%}"
        )
    if output is not None:
        output.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
        console.print(f"[green]Written to {output}.[/green]")
