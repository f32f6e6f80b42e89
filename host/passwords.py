"""Password hashing: argon2id through libpass (imported as ``passlib``)."""

from __future__ import annotations

from typing import Any

from passlib.context import CryptContext

# Cheap parameters for tests only: still argon2id, just fast. Production uses libpass's defaults.
FAST_TEST_PARAMS = {"argon2__memory_cost": 512, "argon2__time_cost": 1, "argon2__parallelism": 1}


class PasswordHasher:
    def __init__(self, **params: Any) -> None:
        self._context = CryptContext(schemes=["argon2"], argon2__type="ID", **params)
        self._dummy = self._context.hash("dummy password for timing")

    def hash(self, password: str) -> str:
        return self._context.hash(password)

    def verify(self, password: str, hashed: str) -> bool:
        try:
            return self._context.verify(password, hashed)
        except (ValueError, TypeError):
            return False

    def dummy_verify(self) -> None:
        self._context.verify("not the password", self._dummy)
