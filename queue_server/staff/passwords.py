"""Password hashing: argon2id through argon2-cffi. Nothing here logs, returns or keeps a password.

Parameters: OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane), about 50 ms on the
development machine and a few hundred on a Raspberry Pi; they are written into each hash,
so raising them later rehashes each account at its next login (`needs_rehash`). At most
MAX_PARALLEL verifications run at once: eight Flask threads each taking 19 MiB on a 1 GB
box would be an easy way to starve the server.
"""

from __future__ import annotations

import secrets
import threading
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MAX_PARALLEL = 2
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_SLOTS = threading.BoundedSemaphore(MAX_PARALLEL)


def hash_secret(secret: str) -> str:
    with _SLOTS:
        return _HASHER.hash(secret)


def verify_secret(stored: str | None, secret: str) -> bool:
    """Whether `secret` matches `stored`. With no stored hash (unknown account) the same work is
    done against a throwaway hash, so the time taken does not tell which accounts exist."""
    with _SLOTS:
        try:
            return _HASHER.verify(stored or _throwaway(), secret) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def needs_rehash(stored: str) -> bool:
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


@cache
def _throwaway() -> str:
    return _HASHER.hash(secrets.token_urlsafe(16))
