"""Encrypted delivery: the new token encrypted to the creator's OpenPGP public key (pysequoia)."""

from __future__ import annotations

import warnings
from datetime import datetime, timezone

import pysequoia

MAX_KEY_CHARS = 64 * 1024


class InvalidPublicKey(ValueError):
    pass


def encrypt_to(armored_key: str, plaintext: str) -> str:
    """ASCII-armoured OpenPGP message of ``plaintext`` for ``armored_key``; InvalidPublicKey if unusable."""
    if len(armored_key) > MAX_KEY_CHARS:
        raise InvalidPublicKey(f"is longer than {MAX_KEY_CHARS} characters")
    text = armored_key.strip()
    if "PRIVATE KEY BLOCK" in text:
        raise InvalidPublicKey("is a private key: send only the public key")
    if not text.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----"):
        raise InvalidPublicKey("must be an ASCII-armoured OpenPGP public key (-----BEGIN PGP PUBLIC KEY BLOCK-----)")
    try:
        cert = pysequoia.Cert.from_bytes(text.encode("utf-8"))
    except Exception as exc:  # the library raises RuntimeError/ValueError with a Rust backtrace
        raise InvalidPublicKey(f"cannot be read: {_reason(exc)}") from None
    if _has_secret_keys(cert):  # a private key relabelled as a public one: refuse, do not use it
        raise InvalidPublicKey("holds secret key material: send only the public key")
    if cert.is_revoked:
        raise InvalidPublicKey("is revoked")
    expiration = cert.expiration
    if expiration is not None and expiration <= datetime.now(timezone.utc):
        raise InvalidPublicKey("has expired")
    try:
        message = pysequoia.encrypt(recipients=[cert], bytes=plaintext.encode("ascii"))
    except Exception as exc:
        raise InvalidPublicKey(f"cannot be used to encrypt: {_reason(exc)}") from None
    return message.decode("ascii") if isinstance(message, bytes) else str(message)


def _reason(exc: Exception) -> str:
    return str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__


def _has_secret_keys(cert: pysequoia.Cert) -> bool:
    with warnings.catch_warnings():  # pysequoia deprecates the property in favour of its Tsk type
        warnings.simplefilter("ignore", DeprecationWarning)
        return bool(cert.has_secret_keys)
