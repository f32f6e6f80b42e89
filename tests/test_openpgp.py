"""Contract §2.2 ``publicKey``: the new token is returned encrypted to the caller's OpenPGP public key, and a
key that cannot be used is a 400 that creates nothing. The tests decrypt with the matching private key."""

from __future__ import annotations

import logging
from pathlib import Path

import pysequoia
import pytest

from host.models import AuditRecord
from plugins.apitokenauth import tokens
from plugins.apitokenauth.models import Token
from tests.conftest import ADMIN, ALICE, BOB, P, basic, bearer

TOKENS = f"{P}/user/token"
MYSELF = "/rest/api/2/myself"
BEGIN_MESSAGE = "-----BEGIN PGP MESSAGE-----"
END_MESSAGE = "-----END PGP MESSAGE-----"


@pytest.fixture(scope="module")
def alice_key() -> pysequoia.Tsk:
    return pysequoia.Tsk.generate("Alice Anderson <alice@example.com>")


@pytest.fixture(scope="module")
def other_key() -> pysequoia.Tsk:
    return pysequoia.Tsk.generate("Mallory <mallory@example.com>")


def public(tsk: pysequoia.Tsk) -> str:
    return str(tsk.extract_certificate())


def decrypt(tsk: pysequoia.Tsk, message: str) -> str:
    return pysequoia.decrypt(decryptor=tsk.decryptor(), bytes=message.encode()).bytes.decode("ascii")


def token_rows() -> int:
    return Token.select().count()


def audit_text() -> str:
    return "\n".join(" ".join(str(v) for v in row) for row in AuditRecord.select().tuples())


# ----- the round trip --------------------------------------------------------------------------------------------
def test_token_is_delivered_encrypted_and_works_after_decryption(app, host, alice_key, caplog):
    caplog.set_level(logging.DEBUG)
    key = public(alice_key)
    created = app.post_json(TOKENS, {"tokenDescription": "encrypted", "publicKey": key}, headers=ALICE, status=200).json
    message = created["plainTextToken"]
    assert message.startswith(BEGIN_MESSAGE) and message.rstrip().endswith(END_MESSAGE)
    assert created["publicKey"] == key
    assert created["tokenDescription"] == "encrypted" and created["tokenForUserKey"] == "JIRAUSER10100"

    token = decrypt(alice_key, message)
    assert tokens.looks_like_token(token)
    assert token not in message
    assert app.get(MYSELF, headers=bearer(token), status=200).json["key"] == "JIRAUSER10100"
    assert app.get(MYSELF, headers=basic("alice", token), status=200).json["key"] == "JIRAUSER10100"
    listed = app.get(TOKENS, headers=ALICE, status=200)
    assert [t["id"] for t in listed.json] == [created["id"]]
    assert Token.get_by_id(created["id"]).encrypted is True

    assert token not in audit_text()
    assert token not in caplog.text
    db_file = Path(host.config.database_url.removeprefix("sqlite:///"))
    for path in (db_file, db_file.with_name(db_file.name + "-wal")):
        if path.exists():
            assert token.encode() not in path.read_bytes()


def test_only_the_matching_private_key_decrypts(app, alice_key, other_key):
    message = app.post_json(TOKENS, {"publicKey": public(alice_key)}, headers=ALICE, status=200).json["plainTextToken"]
    with pytest.raises(RuntimeError, match="No key to decrypt"):
        decrypt(other_key, message)
    assert tokens.looks_like_token(decrypt(alice_key, message))


def test_each_token_is_fresh_and_plain_delivery_is_unaffected(app, alice_key):
    first = app.post_json(TOKENS, {"publicKey": public(alice_key)}, headers=ALICE, status=200).json
    second = app.post_json(TOKENS, {"publicKey": public(alice_key)}, headers=ALICE, status=200).json
    assert first["plainTextToken"] != second["plainTextToken"]
    assert decrypt(alice_key, first["plainTextToken"]) != decrypt(alice_key, second["plainTextToken"])
    for empty in ("", None):
        plain = app.post_json(TOKENS, {"publicKey": empty}, headers=ALICE, status=200).json
        assert tokens.looks_like_token(plain["plainTextToken"]) and plain["publicKey"] == ""
        app.get(MYSELF, headers=bearer(plain["plainTextToken"]), status=200)


def test_on_behalf_creator_never_sees_the_plaintext(app, alice_key):
    created = app.post_json(
        TOKENS, {"tokenForUserKey": "JIRAUSER10100", "publicKey": public(alice_key)}, headers=ADMIN, status=200
    ).json
    assert created["plainTextToken"].startswith(BEGIN_MESSAGE)
    token = decrypt(alice_key, created["plainTextToken"])
    assert app.get(MYSELF, headers=bearer(token), status=200).json["name"] == "alice"
    app.get(MYSELF, headers=basic("admin", token), status=401)


def test_restricted_read_only_encrypted_token(app, alice_key):
    created = app.post_json(
        TOKENS,
        {"publicKey": public(alice_key), "tokenScope": 1, "allowedIpRanges": ["10.0.0.0/8"]},
        headers=ALICE,
        status=200,
    ).json
    token = decrypt(alice_key, created["plainTextToken"])
    app.get(MYSELF, headers=bearer(token), extra_environ={"REMOTE_ADDR": "10.1.1.1"}, status=200)
    app.get(MYSELF, headers=bearer(token), extra_environ={"REMOTE_ADDR": "192.0.2.1"}, status=401)
    inside = {"REMOTE_ADDR": "10.1.1.1"}
    app.post_json("/rest/api/2/group", {"name": "g"}, headers=bearer(token), extra_environ=inside, status=403)


@pytest.mark.parametrize(
    "transform",
    [
        lambda k: k.replace("\n", "\r\n"),
        lambda k: "\n\n  " + k + "  \n\n",
        lambda k: k + "\n",
    ],
    ids=["crlf", "surrounding-whitespace", "trailing-newline"],
)
def test_armour_variations_are_accepted(app, alice_key, transform):
    message = app.post_json(TOKENS, {"publicKey": transform(public(alice_key))}, headers=BOB, status=200).json[
        "plainTextToken"
    ]
    assert app.get(MYSELF, headers=bearer(decrypt(alice_key, message)), status=200).json["name"] == "bob"


# ----- bad keys: 400 naming publicKey, and nothing created ----------------------------------------------------------
def _revoked(tsk: pysequoia.Tsk) -> str:
    cert = tsk.extract_certificate()
    revocation = cert.revoke(tsk.certifier())
    return str(pysequoia.Cert.from_bytes(bytes(cert) + bytes(revocation)))


def _bad_keys(alice: pysequoia.Tsk, other: pysequoia.Tsk) -> dict[str, object]:
    key = public(alice)
    lines = key.splitlines()
    header, footer = lines[0], lines[-1]
    return {
        "garbage": "not an OpenPGP key",
        "whitespace": "   \n ",
        "truncated": "\n".join(lines[: len(lines) // 2]),
        "truncated-with-footer": "\n".join(lines[:5] + [footer]),
        "header-only": header,
        "empty-armour": f"{header}\n\n{footer}",
        "corrupt-body": f"{header}\n\nAAAAAAAAAAAAAAAAAAAAAAAA\n{footer}",
        "flipped-character": key.replace(
            lines[4], lines[4][:10] + ("A" if lines[4][10] != "A" else "B") + lines[4][11:]
        ),
        "nul": key.replace("\n\n", "\n\x00\n", 1),
        "private-key-block": str(alice),
        "private-key-relabelled": str(alice).replace("PRIVATE KEY BLOCK", "PUBLIC KEY BLOCK"),
        "keyring": key + "\n" + public(other),
        "signature": str(alice.extract_certificate().revoke(alice.certifier())),
        "revoked": _revoked(other),
        "message": pysequoia.encrypt(recipients=[alice.extract_certificate()], bytes=b"x").decode(),
        "huge": header + "\n\n" + "A" * 200_000 + "\n" + footer,
        "number": 123,
        "true": True,
        "list": [key],
        "object": {"key": key},
    }


BAD_KEY_NAMES = list(_bad_keys(pysequoia.Tsk.generate("a <a@a.a>"), pysequoia.Tsk.generate("b <b@b.b>")))


@pytest.mark.parametrize("name", BAD_KEY_NAMES)
@pytest.mark.parametrize("auth", ["own", "on-behalf"])
def test_bad_key_is_400_naming_public_key_and_creates_nothing(app, host, alice_key, other_key, name, auth):
    value = _bad_keys(alice_key, other_key)[name]
    body = {"tokenDescription": "bad key", "publicKey": value}
    if auth == "on-behalf":
        body["tokenForUserKey"] = "JIRAUSER10100"
    before = AuditRecord.select().count()
    resp = app.post_json(TOKENS, body, headers=ADMIN, status=400)
    assert set(resp.json) == {"errorMessage"}
    assert "publicKey" in resp.json["errorMessage"]
    assert "Stack backtrace" not in resp.json["errorMessage"] and len(resp.json["errorMessage"]) < 300
    assert token_rows() == 0
    assert AuditRecord.select().count() == before
    assert app.get(TOKENS, headers=ADMIN, status=200).json == []


def test_bad_key_is_refused_before_other_fields_matter(app, alice_key):
    # A valid key with an otherwise valid body works; the same body with a bad key creates nothing.
    body = {
        "tokenDescription": "x",
        "allowedIpRanges": ["10.0.0.0/8"],
        "rateLimitBucketSize": 5,
        "rateLimitBucketLifetime": 60,
    }
    empty = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n-----END PGP PUBLIC KEY BLOCK-----"
    app.post_json(TOKENS, {**body, "publicKey": empty}, headers=ALICE, status=400)
    assert token_rows() == 0
    app.post_json(TOKENS, {**body, "publicKey": public(alice_key)}, headers=ALICE, status=200)
    assert token_rows() == 1
