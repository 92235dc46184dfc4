"""The password policy: length bounds and a list of common passwords (zxcvbn's 30,000)."""

from __future__ import annotations

from functools import lru_cache

from zxcvbn.frequency_lists import FREQUENCY_LISTS

from visage.identity.errors import WeakPassword
from visage.identity.schemas import PASSWORD_MAX_LENGTH

PASSWORD_MIN_LENGTH = 8


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def check_password_policy(password: str, *, identifiers: tuple[str, ...] = ()) -> None:
    """Refuse a password too short, too long, common, or equal to the account's names."""
    problem = None
    if len(password) < PASSWORD_MIN_LENGTH:
        problem = f"use at least {PASSWORD_MIN_LENGTH} characters"
    elif len(password) > PASSWORD_MAX_LENGTH:
        problem = f"use at most {PASSWORD_MAX_LENGTH} characters"
    elif password.lower() in _common_passwords():
        problem = "this password is too common; choose another"
    elif password.lower() in {name.lower() for name in identifiers if name}:
        problem = "the password may not be your username or email"
    if problem:
        raise WeakPassword(
            f"Password refused: {problem}.",
            details=[{"field": "password", "message": problem, "type": "password_policy"}],
        )
