"""`visage`: serve, worker, migrate, doctor, and each domain's commands."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from visage.config import ConfigError, Settings, get_settings

app = typer.Typer(
    help="Visage: face check-in and event photos for gyms, clubs and events.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console(soft_wrap=True)


def _settings_or_exit() -> Settings:
    try:
        return get_settings()
    except ConfigError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error


# Workers started by `serve` share its cores: their indexing (a whole photo at a time) yields
# the CPU to the API's requests, a kiosk frame first, and takes what they leave.
SERVE_WORKER_NICENESS = 10


def _start_serve_worker() -> None:
    """Workers started by `serve` run at a lower CPU priority and get SIGTERM when it exits,
    however it exits: uvicorn re-raises the signal that stopped it, so a `finally` in `serve`
    alone can leave orphans."""
    os.nice(SERVE_WORKER_NICENESS)
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _exit_if_port_taken(settings: Settings) -> None:
    """uvicorn would only log `[Errno 98] Address already in use`: name the holder and the fix."""
    from visage.health.checks import check_port

    result = check_port(settings)
    if not result.ok or result.data.get("pid"):
        in_use = "Address already in use"
        detail = result.detail if in_use in result.detail else f"{result.detail}: {in_use}"
        console.print(f"[red]{detail}[/red]")
        console.print(f"     fix: {result.fix}")
        raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default API_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default API_PORT)")] = None,
    workers: Annotated[int, typer.Option(help="Background workers to start beside the API")] = 1,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development)")] = False,
) -> None:
    """Run the API and, by default, one background worker."""
    import uvicorn

    from visage.core.db import get_database
    from visage.core.logging import configure_logging

    if port is not None:  # as API_PORT: the workers and PUBLIC_BASE_URL's default follow it
        os.environ["API_PORT"] = str(port)
    settings = _settings_or_exit()
    _exit_if_port_taken(
        settings.model_copy(
            update={"api_host": host or settings.api_host, "api_port": port or settings.api_port}
        )
    )
    configure_logging(settings)
    get_database()  # start (or join) the embedded database before the worker does
    if settings.face_threads == 0:
        # The API and each worker run inference at the same time: share the cores between
        # them instead of letting every process claim all of them.
        settings.face_threads = max(1, (os.cpu_count() or 1) // (workers + 1))
        os.environ["FACE_THREADS"] = str(settings.face_threads)
    worker_processes = [
        subprocess.Popen(
            [sys.executable, "-m", "visage", "worker"],
            env=os.environ.copy(),
            preexec_fn=_start_serve_worker,  # noqa: PLW1509 - only a nice value and a prctl flag
        )
        for _ in range(workers)
    ]
    console.print(
        f"Visage on http://{host or settings.api_host}:{port or settings.api_port} "
        f"(docs at /api/v1/docs), {workers} worker(s)"
    )
    # uvicorn re-raises the SIGTERM that stopped it; as SystemExit it unwinds through the
    # `finally` below and atexit, which stops the embedded database when we are its last user.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        uvicorn.run(
            "visage.app:create_app",
            factory=True,
            host=host or settings.api_host,
            port=port or settings.api_port,
            reload=reload,
            log_config=None,
            # The app applies FORWARDED_ALLOW_IPS itself (uvicorn would trust 127.0.0.1).
            proxy_headers=False,
        )
    finally:
        for process in worker_processes:
            process.terminate()
        for process in worker_processes:
            process.wait(timeout=30)


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(help="Jobs run at once by this worker")] = 1,
    queue: Annotated[list[str] | None, typer.Option(help="Only these queues")] = None,
) -> None:
    """Run a background worker; start any number, on any machine sharing the database."""
    from visage.core.jobs import connected_app, run_worker
    from visage.core.logging import configure_logging
    from visage.events.tasks import PHOTO_QUEUE
    from visage.faces.inference.engine import load_backend

    settings = _settings_or_exit()
    configure_logging(settings)
    job_app = connected_app(settings)
    if not queue or PHOTO_QUEUE in queue:
        # The model loads before the first job, not inside it: the first photo uploaded after
        # a start is indexed as fast as the next (loading took ~2-8 s of its job).
        load_backend(settings)

    async def run() -> None:
        async with job_app.open_async():
            await run_worker(job_app, settings, concurrency=concurrency, queues=queue)

    asyncio.run(run())


@app.command()
def migrate() -> None:
    """Upgrade the database schema to head."""
    from visage.core.db import get_database
    from visage.core.migrations import current_revision, upgrade_to_head

    settings = _settings_or_exit()
    database = get_database()
    before = current_revision(database.engine)
    upgrade_to_head(database.engine)
    after = current_revision(database.engine)
    console.print(
        f"Database at {after}"
        + (" (was " + str(before) + ")" if before != after else " (already at head)")
    )
    del settings


@app.command()
def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Check everything the troubleshooting guides check; exit 1 on any failure."""
    from visage.core.db import get_database
    from visage.health.checks import CheckResult, check_python, doctor_checks

    try:
        settings = get_settings()
    except ConfigError as error:
        results = [
            check_python(),
            CheckResult("settings", False, str(error), "Fix the variable named above"),
        ]
    else:
        results = doctor_checks(settings, get_database, serving=False)
    failed = [result for result in results if not result.ok]
    if as_json:
        typer.echo(
            json.dumps({"ok": not failed, "checks": [r.as_dict() for r in results]}, indent=2)
        )
    else:
        for result in results:
            mark = "[green]PASS[/green]" if result.ok else "[red]FAIL[/red]"
            console.print(f"{mark} {result.name}: {result.detail}")
            if not result.ok and result.fix:
                console.print(f"     fix: {result.fix}")
    raise typer.Exit(1 if failed else 0)


def _register_domain_commands() -> None:
    from visage.access.bench import bench_checkin
    from visage.bench.people import bench_people
    from visage.bench.photos import bench_photos
    from visage.billing.cli import billing_app
    from visage.events.cli import events_app
    from visage.faces.cli import bench_faces, calibrate, evaluate, keys_app
    from visage.faces.inference.onnx_bench_cli import bench_engine
    from visage.identity.cli import tenants_app, users_app
    from visage.operations import cli as operations_cli
    from visage.publishing.cli import social_app

    app.add_typer(users_app, name="users")
    app.add_typer(tenants_app, name="tenants")
    app.add_typer(events_app, name="events")
    app.add_typer(keys_app, name="keys")
    app.add_typer(social_app, name="social")
    app.add_typer(billing_app, name="billing")
    app.command("eval")(evaluate)
    app.command("calibrate")(calibrate)
    bench_app = typer.Typer(help="Throughput benchmarks.", no_args_is_help=True)
    bench_app.command("photos")(bench_photos)
    bench_app.command("faces")(bench_faces)
    bench_app.command("engine")(bench_engine)
    bench_app.command("checkin")(bench_checkin)
    bench_app.command("people")(bench_people)
    app.add_typer(bench_app, name="bench")
    operations_cli.register(app, bench_app)


_register_domain_commands()


def main() -> None:
    """The `visage` command: a database it cannot use (unreachable, or external and behind the
    code's schema) gets a message and its fix, not a traceback."""
    from sqlalchemy.exc import OperationalError

    from visage.core.migrations import SchemaNotAtHead

    try:
        app()
    except SchemaNotAtHead as error:
        _exit_with_fix(str(error), "visage migrate")
    except OperationalError as error:
        _exit_with_fix(
            f"Cannot reach the database: {error.orig}",
            "check DATABASE_URL, then run `visage doctor`",
        )


def _exit_with_fix(problem: str, fix: str) -> NoReturn:
    console.print(f"[red]{problem.strip()}[/red]")
    console.print(f"     fix: {fix}")
    raise SystemExit(2)
