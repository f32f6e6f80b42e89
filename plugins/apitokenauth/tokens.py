"""The token format and its keyed digest.

``apt_`` + 33 random base62 characters (~196 bits) + a 6-character base62 CRC32 of the random part.
The prefix lets secret scanners find leaked tokens; the checksum tells a mistyped token or a password
from a token without reading the database. Only HMAC-SHA256(server secret, token) is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import zlib

PREFIX = "apt_"
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
RANDOM_LENGTH = 33  # 33 * log2(62) = 196.5 bits
CHECKSUM_LENGTH = 6  # 62**6 > 2**32
TOKEN_LENGTH = len(PREFIX) + RANDOM_LENGTH + CHECKSUM_LENGTH
_ALPHABET_SET = frozenset(ALPHABET)


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, rem = divmod(number, 62)
        digits.append(ALPHABET[rem])
    return "".join(reversed(digits))


def checksum(random_part: str) -> str:
    return _base62(zlib.crc32(random_part.encode("ascii")), CHECKSUM_LENGTH)


def generate() -> str:
    random_part = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return PREFIX + random_part + checksum(random_part)


def looks_like_token(secret: str) -> bool:
    """True when ``secret`` has the token shape and a valid checksum (no database read)."""
    if len(secret) != TOKEN_LENGTH or not secret.startswith(PREFIX):
        return False
    body = secret[len(PREFIX) :]
    if not _ALPHABET_SET.issuperset(body):
        return False
    random_part, check = body[:RANDOM_LENGTH], body[RANDOM_LENGTH:]
    return hmac.compare_digest(checksum(random_part), check)


def digest(secret_key: bytes, token: str) -> str:
    return hmac.new(secret_key, token.encode("ascii"), hashlib.sha256).hexdigest()
