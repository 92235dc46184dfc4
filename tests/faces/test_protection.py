"""The template transform keeps distances, differs per key, and blobs are bound to their key."""

from __future__ import annotations

import os
import uuid

import numpy as np
import pytest

from visage.faces.protection import KEY_BYTES, TemplateKeyError, protector_for_key


@pytest.fixture(scope="module")
def embeddings() -> np.ndarray:
    rng = np.random.default_rng(7)
    return (rng.normal(size=(20, 128)) * 0.12).astype(np.float32)


def test_rotation_preserves_distances_and_is_deterministic(embeddings: np.ndarray) -> None:
    key, tenant = os.urandom(KEY_BYTES), uuid.uuid4()
    protector = protector_for_key(tenant, 1, key)
    protected = protector.protect(embeddings)
    original = np.linalg.norm(embeddings[:, None] - embeddings[None], axis=-1)
    kept = np.linalg.norm(protected[:, None] - protected[None], axis=-1)
    np.testing.assert_allclose(kept, original, atol=1e-5)
    np.testing.assert_array_equal(protector_for_key(tenant, 1, key).protect(embeddings), protected)
    np.testing.assert_allclose(protector.protect(embeddings[0]), protected[0])


def test_two_keys_give_unrelated_vectors(embeddings: np.ndarray) -> None:
    first = protector_for_key(uuid.uuid4(), 1, os.urandom(KEY_BYTES)).protect(embeddings)
    second = protector_for_key(uuid.uuid4(), 1, os.urandom(KEY_BYTES)).protect(embeddings)
    same_face_across_keys = np.linalg.norm(first - second, axis=1)
    different_faces_within_key = np.linalg.norm(first[:-1] - first[1:], axis=1)
    # The same face under two keys is as far apart as two different faces under one.
    assert same_face_across_keys.min() > 0.5 * different_faces_within_key.mean()


def test_blobs_only_open_with_their_tenant_key() -> None:
    key, tenant = os.urandom(KEY_BYTES), uuid.uuid4()
    sealed = protector_for_key(tenant, 1, key).encrypt(b"thumbnail bytes")
    assert b"thumbnail" not in sealed
    assert protector_for_key(tenant, 1, key).decrypt(sealed) == b"thumbnail bytes"
    with pytest.raises(TemplateKeyError):
        protector_for_key(tenant, 1, os.urandom(KEY_BYTES)).decrypt(sealed)
    with pytest.raises(TemplateKeyError):
        protector_for_key(uuid.uuid4(), 1, key).decrypt(sealed)
