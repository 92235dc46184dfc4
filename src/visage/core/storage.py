"""Object storage for uploaded files: the data dir by default, or S3 with STORAGE_URL=s3://...

Keys are relative paths ("events/<tenant>/<event>/<photo>/original.jpg"). S3 credentials,
region and endpoint come from the standard AWS variables (AWS_ACCESS_KEY_ID, AWS_REGION,
AWS_ENDPOINT_URL_S3 for S3-compatible stores such as MinIO), read by boto3 itself.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
import threading
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlparse

from visage.config import Settings
from visage.core.errors import AppError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef


class StorageObjectMissing(AppError):
    status_code = 404
    code = "STORAGE_001"
    default_message = "The stored file is missing."


class StorageFull(AppError):
    status_code = 507
    code = "STORAGE_FULL"
    default_message = "The file could not be stored: storage is full or not writable."


# Errors of the disk, not of the request: full, over quota, over a size limit, read-only.
_STORAGE_FULL_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM}
)


class StorageConfigError(Exception):
    pass


class Storage(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes:
        """The object's bytes; StorageObjectMissing when there is none."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; absent objects are not an error (deletes are retried)."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object under `prefix/`; returns how many."""
        ...


def _checked_key(key: str) -> PurePosixPath:
    path = PurePosixPath(key)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError(f"invalid storage key {key!r}")
    return path


class FileStorage:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*_checked_key(key).parts)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        del content_type  # the filesystem keeps no metadata; callers know their formats
        path = self._path(key)
        # Written beside and renamed: a reader never sees half a file.
        partial: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as handle:
                partial = handle.name
                handle.write(data)
            os.replace(partial, path)
        except OSError as error:
            if partial is not None:
                with contextlib.suppress(OSError):
                    os.unlink(partial)
            if error.errno in _STORAGE_FULL_ERRNOS:
                raise StorageFull(details={"reason": error.strerror}) from error
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as error:
            raise StorageObjectMissing(details={"key": key}) from error

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete_prefix(self, prefix: str) -> int:
        folder = self._path(prefix)
        files = [path for path in folder.rglob("*") if path.is_file()] if folder.is_dir() else []
        shutil.rmtree(folder, ignore_errors=True)
        return len(files)


class S3Storage:
    def __init__(self, bucket: str, prefix: str = "", client: S3Client | None = None) -> None:
        import boto3

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client: S3Client = client or boto3.client("s3")

    def _key(self, key: str) -> str:
        relative = str(_checked_key(key))
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type
        )

    def get(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except self.client.exceptions.NoSuchKey as error:
            raise StorageObjectMissing(details={"key": key}) from error
        body: bytes = response["Body"].read()
        return body

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as error:
            if _error_code(error) in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    def delete_prefix(self, prefix: str) -> int:
        deleted = 0
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key(prefix) + "/"):
            keys: list[ObjectIdentifierTypeDef] = [
                {"Key": item["Key"]} for item in page.get("Contents", [])
            ]
            if keys:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys})
                deleted += len(keys)
        return deleted


def _error_code(error: Any) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def storage_from_settings(settings: Settings) -> Storage:
    """STORAGE_URL unset: `<data dir>/storage`; `file:///path` or `s3://bucket/prefix`."""
    url = settings.storage_url
    if not url:
        return FileStorage(settings.visage_data_dir / "storage")
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return FileStorage(Path(parsed.path))
    if parsed.scheme == "s3" and parsed.netloc:
        return S3Storage(parsed.netloc, parsed.path)
    raise StorageConfigError(
        f"STORAGE_URL={url!r}: use s3://bucket/prefix or file:///absolute/path (or leave unset)"
    )


_storage: Storage | None = None
_storage_lock = threading.Lock()


def get_storage() -> Storage:
    global _storage
    with _storage_lock:
        if _storage is None:
            from visage.config import get_settings

            _storage = storage_from_settings(get_settings())
        return _storage


def set_storage(storage: Storage | None) -> None:
    """Tests and tools install the storage they built (None: back to STORAGE_URL)."""
    global _storage
    with _storage_lock:
        _storage = storage
