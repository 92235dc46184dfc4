"""Passwords (argon2id), access tokens (JWT) and opaque secrets (hashed at rest)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from visage.core.errors import NotAuthenticated

JWT_ALGORITHM = "HS256"  # pinned: tokens naming any other algorithm are refused
JWT_AUDIENCE = "visage-api"
ACCESS_TOKEN_TYPE = "access"

# OWASP's first recommended argon2id configuration: m=19 MiB, t=2, p=1.
_password_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the user does not exist, so both paths cost the same time.
_DUMMY_HASH = _password_hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _password_hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _password_hasher.verify(password_hash or _DUMMY_HASH, password) and bool(
            password_hash
        )
    except (VerificationError, InvalidHashError):
        return False


def new_opaque_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    """Opaque tokens (refresh, reset, API keys) are stored as SHA-256: random, so not guessable."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_access_token(
    secret_key: str,
    *,
    subject: uuid.UUID,
    expires_minutes: int,
    claims: dict[str, Any] | None = None,
) -> str:
    now = datetime.now(UTC)
    payload: dict[str, Any] = {
        "sub": str(subject),
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=expires_minutes),
        "aud": JWT_AUDIENCE,
        "type": ACCESS_TOKEN_TYPE,
        "jti": uuid.uuid4().hex,
        **(claims or {}),
    }
    return jwt.encode(payload, secret_key, algorithm=JWT_ALGORITHM)


def decode_access_token(
    secret_key: str, token: str, *, token_type: str = ACCESS_TOKEN_TYPE
) -> dict[str, Any]:
    """The verified claims; tokens of any other `type` (attendee passes, photo links) fail."""
    try:
        payload: dict[str, Any] = jwt.decode(
            token,
            secret_key,
            algorithms=[JWT_ALGORITHM],
            audience=JWT_AUDIENCE,
            options={"require": ["exp", "nbf", "aud", "sub", "type"]},
        )
    except jwt.ExpiredSignatureError as error:
        # The words of the guides ("Token expired"), with their fix.
        raise NotAuthenticated(
            "Token expired: get a new one with POST /api/v1/auth/refresh "
            '{"refresh_token": "..."} or sign in again.',
            details={"reason": type(error).__name__},
        ) from error
    except jwt.PyJWTError as error:
        raise NotAuthenticated(details={"reason": type(error).__name__}) from error
    if payload.get("type") != token_type:
        raise NotAuthenticated(details={"reason": "wrong token type"})
    return payload
