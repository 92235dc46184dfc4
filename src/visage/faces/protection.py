"""Protected biometric templates: per-tenant keys, a secret rotation, encrypted blobs.

Each tenant has a random 256-bit template key, stored wrapped (AES-GCM) by a key-encryption key
derived with HKDF from BIOMETRIC_ENCRYPTION_KEY. From the tenant key we derive
- a secret orthogonal matrix R (QR of a Gaussian matrix drawn from SHAKE-256 output): stored
  vectors are R @ embedding, so L2 distances (and accuracy) are unchanged while the same face
  in two tenants gives unrelated stored vectors;
- an AES-GCM key for blobs (face thumbnails).
Rotation re-transforms stored vectors with R_new @ R_old^T (no images needed); deleting the key
leaves stored vectors and blobs that nothing can use (crypto-shredding). See docs/biometrics.md.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from visage.config import get_settings
from visage.core.errors import AppError
from visage.faces.models import FaceTemplate, TenantKey
from visage.faces.tenant_settings import recount_gallery

KEY_BYTES = 32
NONCE_BYTES = 12
ROTATION_BATCH = 1000
_KEK_INFO = b"visage/template-kek/v1"
_ROTATION_INFO = b"visage/template-rotation/v1"
_BLOB_KEY_INFO = b"visage/template-blob-key/v1"


class TemplateKeyError(AppError):
    status_code = 500
    code = "FACE_KEY"
    default_message = "A biometric key could not be used: check BIOMETRIC_ENCRYPTION_KEY."


def hkdf(key_material: bytes, info: bytes, length: int = KEY_BYTES) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(key_material)


def key_encryption_key(biometric_encryption_key: str) -> bytes:
    return hkdf(biometric_encryption_key.encode(), _KEK_INFO)


def _gaussian_matrix(seed: bytes, dimensions: int) -> npt.NDArray[np.float64]:
    """Standard normal D x D from SHAKE-256 (Box-Muller): stable across NumPy versions."""
    count = dimensions * dimensions
    stream = hashlib.shake_256(seed).digest(count * 2 * 8)
    words = np.frombuffer(stream, dtype="<u8")
    uniform = ((words >> np.uint64(11)).astype(np.float64) + 1.0) * 2.0**-53  # (0, 1]
    radius = np.sqrt(-2.0 * np.log(uniform[:count]))
    normal = radius * np.cos(2.0 * np.pi * uniform[count:])
    return normal.reshape(dimensions, dimensions)


def secret_rotation(template_key: bytes, dimensions: int) -> npt.NDArray[np.float64]:
    """A uniformly random orthogonal matrix, determined by the tenant key."""
    q, r = np.linalg.qr(_gaussian_matrix(hkdf(template_key, _ROTATION_INFO), dimensions))
    # Fixing the signs makes Q Haar-distributed (and unique for a given key).
    return q * np.sign(np.diag(r))


@dataclass(frozen=True)
class TemplateProtector:
    """One tenant's template transform and blob cipher, at one key version."""

    tenant_id: uuid.UUID
    version: int
    rotation: npt.NDArray[np.float64] = field(repr=False)
    blob_key: bytes = field(repr=False)

    def protect(self, embeddings: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
        """R @ x for one embedding (D,) or each row of N x D."""
        vectors = np.asarray(embeddings, dtype=np.float64)
        return (vectors @ self.rotation.T).astype(np.float32)

    def _aad(self) -> bytes:
        return self.tenant_id.bytes

    def encrypt(self, data: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + AESGCM(self.blob_key).encrypt(nonce, data, self._aad())

    def decrypt(self, data: bytes) -> bytes:
        try:
            return AESGCM(self.blob_key).decrypt(
                data[:NONCE_BYTES], data[NONCE_BYTES:], self._aad()
            )
        except InvalidTag as error:
            raise TemplateKeyError("This biometric data was sealed with another key.") from error


def protector_for_key(tenant_id: uuid.UUID, version: int, template_key: bytes) -> TemplateProtector:
    return TemplateProtector(
        tenant_id=tenant_id,
        version=version,
        rotation=secret_rotation(template_key, get_settings().embedding_dimensions),
        blob_key=hkdf(template_key, _BLOB_KEY_INFO),
    )


def _wrap_aad(tenant_id: uuid.UUID, version: int) -> bytes:
    return tenant_id.bytes + version.to_bytes(4, "big")


def wrap_key(tenant_id: uuid.UUID, version: int, template_key: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    kek = key_encryption_key(get_settings().biometric_encryption_key)
    return nonce + AESGCM(kek).encrypt(nonce, template_key, _wrap_aad(tenant_id, version))


def unwrap_key(tenant_id: uuid.UUID, version: int, wrapped_key: bytes) -> bytes:
    kek = key_encryption_key(get_settings().biometric_encryption_key)
    try:
        return AESGCM(kek).decrypt(
            wrapped_key[:NONCE_BYTES], wrapped_key[NONCE_BYTES:], _wrap_aad(tenant_id, version)
        )
    except InvalidTag as error:
        raise TemplateKeyError(
            "The tenant's template key cannot be unwrapped: BIOMETRIC_ENCRYPTION_KEY changed."
        ) from error


@lru_cache(maxsize=1024)
def _unwrapped_protector(
    tenant_id: uuid.UUID, version: int, wrapped_key: bytes
) -> TemplateProtector:
    """Unwrapping and deriving the rotation cost a few ms: done once per key version.

    Keyed by the wrapped key, so a rotated or re-created key is never served from the cache.
    """
    return protector_for_key(tenant_id, version, unwrap_key(tenant_id, version, wrapped_key))


def _protector_of(row: TenantKey) -> TemplateProtector:
    return _unwrapped_protector(row.tenant_id, row.version, row.wrapped_key)


def _new_key_row(session: Session, tenant_id: uuid.UUID) -> None:
    """Create the tenant's key on first use (a concurrent first use keeps the other one)."""
    session.execute(
        insert(TenantKey)
        .values(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            version=1,
            wrapped_key=wrap_key(tenant_id, 1, os.urandom(KEY_BYTES)),
        )
        .on_conflict_do_nothing(index_elements=[TenantKey.tenant_id])
    )


def _key_row(
    session: Session, tenant_id: uuid.UUID, lock: Literal["share", "update"] | None
) -> TenantKey:
    """The tenant's key row, created on first use.

    Writers of protected data lock it shared and rotation exclusively, so nothing is ever
    stored under a key version that is being replaced.
    """
    statement = (
        select(TenantKey)
        .where(TenantKey.tenant_id == tenant_id)
        .execution_options(populate_existing=True)
    )
    if lock is not None:
        statement = statement.with_for_update(read=lock == "share")
    row = session.scalars(statement).one_or_none()
    if row is None:
        _new_key_row(session, tenant_id)
        row = session.scalars(statement).one()
    return row


def tenant_protector(
    session: Session, tenant_id: uuid.UUID, *, for_search: bool = False
) -> TemplateProtector:
    """The tenant's protector (its key is created on first use).

    `for_search=True` takes no lock: a search that races a key rotation can at worst miss
    once, while a write must never store a vector under a key being replaced.
    """
    row = _key_row(session, tenant_id, None if for_search else "share")
    return _protector_of(row)


@dataclass(frozen=True)
class _ProtectedColumn:
    model: Any
    column_name: str
    encrypted: bool  # an AES-GCM blob rather than a rotated vector


_protected_columns: list[_ProtectedColumn] = []


def register_protected_vectors(model: Any, column_name: str) -> None:
    """Declare a tenant-owned table whose `column_name` holds `protect()`ed vectors."""
    _protected_columns.append(_ProtectedColumn(model, column_name, encrypted=False))


def register_encrypted_blobs(model: Any, column_name: str) -> None:
    """Declare a tenant-owned table whose `column_name` holds `encrypt()`ed bytes (or NULL)."""
    _protected_columns.append(_ProtectedColumn(model, column_name, encrypted=True))


def _registered() -> list[_ProtectedColumn]:
    # Every domain's models, and so their registrations, are loaded.
    importlib.import_module("visage.models_registry")
    return list(_protected_columns)


def _reseal(
    session: Session, column: _ProtectedColumn, old: TemplateProtector, new: TemplateProtector
) -> int:
    """Re-transform (or re-encrypt) one column of the tenant's rows, in batches by id."""
    model, attribute = column.model, getattr(column.model, column.column_name)
    # Rows are stored as s = x @ R^T, so s_new = s_old @ R_old @ R_new^T.
    change_of_key = old.rotation @ new.rotation.T
    done, last_id = 0, None
    while True:
        statement = (
            select(model.id, attribute)
            .where(model.tenant_id == old.tenant_id, attribute.is_not(None))
            .order_by(model.id)
            .limit(ROTATION_BATCH)
        )
        if last_id is not None:
            statement = statement.where(model.id > last_id)
        rows = session.execute(statement).all()
        if not rows:
            return done
        if column.encrypted:
            values: list[Any] = [new.encrypt(old.decrypt(value)) for _, value in rows]
        else:
            stored = np.asarray([np.asarray(value) for _, value in rows], dtype=np.float64)
            values = list((stored @ change_of_key).astype(np.float32))
        changes = [
            {"id": row_id, column.column_name: value}
            for (row_id, _), value in zip(rows, values, strict=True)
        ]
        session.execute(update(model), changes)
        done += len(rows)
        last_id = rows[-1][0]


def rotate_tenant_key(session: Session, tenant_id: uuid.UUID) -> dict[str, int]:
    """Give the tenant a new key and re-seal every registered column; rows done per table."""
    row = _key_row(session, tenant_id, "update")
    old = _protector_of(row)
    new_key = os.urandom(KEY_BYTES)
    new = protector_for_key(tenant_id, row.version + 1, new_key)
    counts: dict[str, int] = {}
    for column in _registered():
        name = f"{column.model.__tablename__}.{column.column_name}"
        counts[name] = _reseal(session, column, old, new)
    row.version = new.version
    row.wrapped_key = wrap_key(tenant_id, new.version, new_key)
    session.flush()
    return counts


def shred_tenant_key(session: Session, tenant_id: uuid.UUID) -> dict[str, int]:
    """Destroy the tenant's key: its protected vectors (useless now) are deleted and its
    encrypted blobs cleared; returns rows per column.

    Copies in backups or replicas stay unusable: without the key nothing maps them back to
    face space, matches them against new probes or decrypts the blobs.
    """
    session.execute(delete(TenantKey).where(TenantKey.tenant_id == tenant_id))
    counts: dict[str, int] = {}
    # Vectors first: deleting their rows also disposes of blobs kept on the same rows.
    for column in sorted(_registered(), key=lambda c: c.encrypted):
        model, attribute = column.model, getattr(column.model, column.column_name)
        in_tenant = model.tenant_id == tenant_id
        if column.encrypted:
            statement: Any = update(model).where(in_tenant, attribute.is_not(None))
            statement = statement.values({column.column_name: None})
        else:
            statement = delete(model).where(in_tenant)
        result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            statement.execution_options(synchronize_session=False)
        )
        counts[f"{model.__tablename__}.{column.column_name}"] = result.rowcount
    recount_gallery(session, [tenant_id])
    return counts


register_protected_vectors(FaceTemplate, "embedding")
register_encrypted_blobs(FaceTemplate, "thumbnail")
