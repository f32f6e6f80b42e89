"""Contract §2.1: the token format, its checksum, and the keyed digest that is all the database holds."""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import string
from collections import Counter
from urllib.parse import quote

from plugins.apitokenauth import tokens
from tests.conftest import ADMIN, P, basic, bearer

BASE62 = set(string.digits + string.ascii_letters)
TOKEN_RE = re.compile(r"^[A-Za-z0-9_]+$")


def _random_part(token: str) -> str:
    return token[len(tokens.PREFIX) : len(tokens.PREFIX) + tokens.RANDOM_LENGTH]


def _checksum_part(token: str) -> str:
    return token[len(tokens.PREFIX) + tokens.RANDOM_LENGTH :]


# ----- shape ---------------------------------------------------------------------------------------------------
def test_generated_token_has_prefix_base62_body_and_fixed_length():
    for _ in range(200):
        token = tokens.generate()
        assert token.startswith(tokens.PREFIX)
        assert tokens.PREFIX and tokens.PREFIX.endswith("_")
        assert len(token) == len(tokens.PREFIX) + tokens.RANDOM_LENGTH + 6
        body = token[len(tokens.PREFIX) :]
        assert set(body) <= BASE62, token
        assert len(_checksum_part(token)) == 6
        assert tokens.looks_like_token(token)


def test_random_part_carries_at_least_192_bits():
    assert tokens.RANDOM_LENGTH * math.log2(62) >= 192
    token = tokens.generate()
    assert len(_random_part(token)) == tokens.RANDOM_LENGTH


def test_random_part_uses_the_whole_base62_alphabet_at_every_position():
    """A generator that used a smaller alphabet or repeated itself would lose entropy."""
    sample = [tokens.generate() for _ in range(600)]
    seen = Counter(c for t in sample for c in _random_part(t))
    assert set(seen) == BASE62  # all 62 symbols occur
    for position in range(tokens.RANDOM_LENGTH):
        column = {_random_part(t)[position] for t in sample}
        assert len(column) > 40, f"position {position} is not random enough: {len(column)} symbols"


def test_checksum_is_crc32_of_random_part_in_base62():
    import zlib

    token = tokens.generate()
    random_part = _random_part(token)
    number = 0
    for c in _checksum_part(token):
        number = number * 62 + (string.digits + string.ascii_uppercase + string.ascii_lowercase).index(c)
    assert number == zlib.crc32(random_part.encode("ascii"))


def test_token_is_url_safe_and_fits_basic_and_bearer():
    for _ in range(100):
        token = tokens.generate()
        assert ":" not in token
        assert quote(token, safe="") == token
        assert TOKEN_RE.match(token)
        # survives the Basic round trip unchanged (split on the first ':' only)
        raw = base64.b64decode(basic("alice", token)["Authorization"].split(" ", 1)[1]).decode()
        assert raw.partition(":")[2] == token
        assert bearer(token)["Authorization"] == f"Bearer {token}"


def test_tokens_are_unique():
    sample = [tokens.generate() for _ in range(5000)]
    assert len(set(sample)) == len(sample)
    assert len({_random_part(t) for t in sample}) == len(sample)


def test_tokens_created_over_rest_are_unique_and_well_formed(app, create_token):
    created = [create_token(tokenDescription=f"t{i}") for i in range(15)]
    plaintexts = [c["plainTextToken"] for c in created]
    assert len(set(plaintexts)) == 15
    assert len({c["id"] for c in created}) == 15
    assert all(tokens.looks_like_token(t) for t in plaintexts)


# ----- checksum -----------------------------------------------------------------------------------------------
def test_any_single_changed_character_fails_the_checksum():
    alphabet = string.digits + string.ascii_letters
    for _ in range(5):
        token = tokens.generate()
        for i in range(len(token)):
            for replacement in (
                alphabet[(alphabet.find(token[i]) + 1) % 62],
                alphabet[(alphabet.find(token[i]) + 31) % 62],
            ):
                if replacement == token[i]:
                    continue
                changed = token[:i] + replacement + token[i + 1 :]
                assert not tokens.looks_like_token(changed), (i, changed)


def test_swapped_adjacent_characters_fail_the_checksum():
    token = tokens.generate()
    start = len(tokens.PREFIX)
    for i in range(start, len(token) - 1):
        if token[i] == token[i + 1]:
            continue
        swapped = token[:i] + token[i + 1] + token[i] + token[i + 2 :]
        assert not tokens.looks_like_token(swapped), i


def test_non_tokens_do_not_look_like_tokens():
    token = tokens.generate()
    for secret in (
        "",
        "admin",
        token[:-1],
        token + "a",
        token.upper(),
        token.replace(tokens.PREFIX, "xyz_", 1),
        token[:10] + "-" + token[11:],
        token[:10] + "é" + token[11:],
        " " + token[1:],
        token[:-1] + "\x00",
    ):
        assert not tokens.looks_like_token(secret), secret


# ----- digest -------------------------------------------------------------------------------------------------
def test_digest_is_hmac_sha256_under_the_server_secret():
    token = tokens.generate()
    key = b"test-server-secret"
    expected = hmac.new(key, token.encode("ascii"), hashlib.sha256).hexdigest()
    assert tokens.digest(key, token) == expected
    assert tokens.digest(b"another-secret", token) != expected
    assert expected != hashlib.sha256(token.encode()).hexdigest()  # keyed, not a bare hash


def _rows(host) -> list[tuple]:
    cursor = host.db.execute_sql("SELECT * FROM apitokenauth_token")
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row)) for row in cursor.fetchall()]


def test_database_holds_only_the_digest(app, host, create_token):
    created = [create_token(tokenDescription="digest check", allowedIpRanges=["10.0.0.0/8"]) for _ in range(3)]
    rows = _rows(host)
    assert len(rows) == 3
    by_id = {row["id"]: row for row in rows}
    for c in created:
        token = c["plainTextToken"]
        row = by_id[c["id"]]
        assert row["digest"] == tokens.digest(host.config.secret, token)
        assert host.config.secret == b"test-server-secret"
        forms = {
            token,
            _random_part(token),
            _random_part(token)[:16],
            base64.b64encode(token.encode()).decode(),
            token.encode().hex(),
            hashlib.sha256(token.encode()).hexdigest(),
        }
        for other in rows:
            for column, value in other.items():
                text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                for form in forms:
                    assert form not in text, f"column {column} holds a reversible form of a token"


def test_database_never_contains_a_plaintext(app, host, create_token, tmp_path):
    token = create_token(tokenDescription="on disk")["plainTextToken"]
    app.get("/rest/api/2/myself", headers=bearer(token), status=200)  # use it once (lastAccessed write)
    # Every row of every table, on any backend.
    for table in host.db.get_tables():
        for row in host.db.execute_sql(f'SELECT * FROM "{table}"').fetchall():
            text = repr(row)
            assert _random_part(token) not in text, table
    if host.db.database.endswith(".sqlite3"):  # and the SQLite files' bytes, free pages included
        host.db.execute_sql("PRAGMA wal_checkpoint(FULL)")
        files = [p for p in tmp_path.iterdir() if p.name.startswith("host.sqlite3")]
        assert files
        for path in files:
            data = path.read_bytes()
            assert token.encode() not in data
            assert _random_part(token).encode() not in data


def test_digest_column_is_unique_indexed(host):
    unique_columns = [index.columns for index in host.db.get_indexes("apitokenauth_token") if index.unique]
    assert ["digest"] in unique_columns


def test_plaintext_is_shown_only_in_the_create_response(app, create_token):
    created = create_token(tokenDescription="once")
    token = created["plainTextToken"]
    listing = app.get(f"{P}/user/token", headers=ADMIN, status=200)
    assert token not in listing.text
    assert _random_part(token) not in listing.text
    renamed = app.patch_json(
        f"{P}/user/token/{created['id']}", {"tokenDescription": "renamed"}, headers=ADMIN, status=200
    )
    assert token not in renamed.text
    assert "plainTextToken" not in renamed.json
