"""`visage backup PATH` / `visage restore PATH`: the database (embedded or external) dumped with
pg_dump from one snapshot, every stored photo file that snapshot refers to, the schema revision,
and (in development) the generated secrets without which the biometric templates cannot be
opened again.

A backup folder holds `manifest.json` (revision, counts, every file's SHA-256), `database.dump`
(pg_dump's custom format) and `storage/<key>`. Restore goes into an empty database only (a fresh
data dir for the embedded one), then upgrades the schema if the backup is older than the code.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, inspect, select, text

from visage import __version__
from visage.config import Settings
from visage.core.db import Database, is_embedded, libpq_url
from visage.core.migrations import head_revision, upgrade_to_head
from visage.core.storage import Storage, StorageObjectMissing, storage_from_settings
from visage.events import media
from visage.events.links import photo_key
from visage.events.models import Photo
from visage.models_registry import Base
from visage.operations.pgtools import run_postgres_program

MANIFEST = "manifest.json"
DUMP = "database.dump"
STORAGE_DIR = "storage"
SECRETS = "secrets.json"
FORMAT_VERSION = 1
RENDITIONS = (media.ORIGINAL, media.THUMBNAIL, media.PREVIEW)


def counted_tables() -> list[str]:
    """Counted into the manifest and compared after a restore: every table of every domain
    (a domain added later is counted without touching this module), and the job queue."""
    return sorted([*Base.metadata.tables, "procrastinate_jobs"])


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    revision: str | None
    counts: dict[str, int]
    files: int
    missing_files: list[str]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def table_counts(connection: Connection) -> dict[str, int]:
    present = set(inspect(connection).get_table_names())
    return {
        table: int(connection.scalar(text(f'SELECT count(*) FROM "{table}"')) or 0)
        for table in counted_tables()
        if table in present
    }


def _photo_keys(connection: Connection) -> Iterator[str]:
    for photo in connection.execute(
        select(Photo.id, Photo.tenant_id, Photo.event_id, Photo.format)
    ).mappings():
        for rendition in RENDITIONS:
            yield photo_key(Photo(**photo), rendition)


def _empty_folder(path: Path) -> None:
    if path.exists() and any(path.iterdir()):
        raise BackupError(f"{path} is not empty: back up into a new folder")
    path.mkdir(parents=True, exist_ok=True)


def backup(settings: Settings, database: Database, path: Path) -> BackupSummary:
    """One snapshot for everything: pg_dump joins the transaction that lists the photos."""
    _empty_folder(path)
    storage = storage_from_settings(settings)
    snapshot_options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    with (
        database.engine.connect().execution_options(**snapshot_options) as connection,
        connection.begin(),
    ):
        snapshot = connection.scalar(text("SELECT pg_export_snapshot()"))
        revision = connection.scalar(text("SELECT version_num FROM alembic_version"))
        counts = table_counts(connection)
        keys = list(_photo_keys(connection))
        run_postgres_program(
            "pg_dump",
            "--format=custom",
            f"--snapshot={snapshot}",
            "--no-owner",
            f"--file={path / DUMP}",
            f"--dbname={libpq_url(settings)}",
        )
    files, missing = _copy_out(storage, keys, path / STORAGE_DIR)
    secrets_file = settings.visage_data_dir / SECRETS
    if secrets_file.exists():
        shutil.copy2(secrets_file, path / SECRETS)
    manifest = {
        "format": FORMAT_VERSION,
        "visage_version": __version__,
        "created_at": datetime.now(UTC).isoformat(),
        "database": "embedded" if is_embedded(settings) else "external",
        "revision": revision,
        "counts": counts,
        "files": files,
        "missing_files": missing,
        "secrets_included": secrets_file.exists(),
    }
    (path / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return BackupSummary(path, revision, counts, len(files), missing)


def _copy_out(storage: Storage, keys: list[str], folder: Path) -> tuple[dict[str, str], list[str]]:
    files: dict[str, str] = {}
    missing: list[str] = []
    for key in keys:
        try:
            data = storage.get(key)
        except StorageObjectMissing:
            missing.append(key)  # deleted since the snapshot, or lost before it
            continue
        target = folder / key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        files[key] = _sha256(data)
    return files, missing


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise BackupError(f"{path} is not a Visage backup (no readable {MANIFEST})") from error
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"Backup format {manifest.get('format')} is not supported")
    return manifest


def restore(settings: Settings, path: Path) -> BackupSummary:
    """Into an empty database only; the storage gets every file back, checked by its hash."""
    manifest = read_manifest(path)
    database = Database(settings)
    try:
        with database.engine.connect() as connection:
            if "alembic_version" in inspect(connection).get_table_names():
                raise BackupError(
                    "The database is not empty: restore into a fresh VISAGE_DATA_DIR "
                    "(or an empty DATABASE_URL database)"
                )
        _restore_secrets(settings, path, manifest)
        run_postgres_program(
            "pg_restore",
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={libpq_url(settings)}",
            str(path / DUMP),
        )
        if manifest["revision"] != head_revision():
            upgrade_to_head(database.engine)
        with database.engine.connect() as connection:
            counts = table_counts(connection)
    finally:
        database.dispose()
    storage = storage_from_settings(settings)
    for key, digest in manifest["files"].items():
        data = (path / STORAGE_DIR / key).read_bytes()
        if _sha256(data) != digest:
            raise BackupError(f"{key} in the backup does not match its SHA-256: backup damaged")
        storage.put(key, data, "application/octet-stream")
    return BackupSummary(
        path, manifest["revision"], counts, len(manifest["files"]), manifest["missing_files"]
    )


def _restore_secrets(settings: Settings, path: Path, manifest: dict[str, Any]) -> None:
    """The development secrets come back with the data they protect (replacing those a fresh
    data dir generated); production secrets live in the environment and are never in a backup."""
    if not manifest.get("secrets_included"):
        return
    target = settings.visage_data_dir / SECRETS
    backed_up = json.loads((path / SECRETS).read_text())
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path / SECRETS, target)
    target.chmod(0o600)
    for name, value in backed_up.items():
        attribute = name.lower()
        if hasattr(settings, attribute) and not settings.is_production:
            setattr(settings, attribute, value)
