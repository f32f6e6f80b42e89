"""Encrypted delivery: the new token encrypted to the creator's OpenPGP public key (pysequoia)."""

from __future__ import annotations

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
        message = pysequoia.encrypt(recipients=[cert], bytes=plaintext.encode("ascii"))
    except Exception as exc:  # the library raises RuntimeError/ValueError with a Rust backtrace
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise InvalidPublicKey(f"cannot be used to encrypt: {reason}") from None
    return message.decode("ascii") if isinstance(message, bytes) else str(message)
