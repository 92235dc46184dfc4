"""OAuth tokens at rest: AES-GCM under a key derived (HKDF) from BIOMETRIC_ENCRYPTION_KEY,
like the biometric template keys, bound to the tenant so a row copied elsewhere cannot be
opened."""

from __future__ import annotations

import os
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from visage.config import get_settings
from visage.faces.protection import NONCE_BYTES, hkdf
from visage.publishing.errors import AccountExpired

_TOKEN_KEY_INFO = b"visage/social-token-key/v1"


def _key() -> bytes:
    return hkdf(get_settings().biometric_encryption_key.encode(), _TOKEN_KEY_INFO)


def seal(tenant_id: uuid.UUID, secret: str) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(_key()).encrypt(nonce, secret.encode(), tenant_id.bytes)


def unseal(tenant_id: uuid.UUID, sealed: bytes) -> str:
    try:
        plain = AESGCM(_key()).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], tenant_id.bytes)
    except InvalidTag as error:
        raise AccountExpired(
            "This account's token cannot be opened (BIOMETRIC_ENCRYPTION_KEY changed): reconnect."
        ) from error
    return plain.decode()
