"""Contract §2.1: a token's plaintext is shown exactly once, in the create response. Against a real server
(gunicorn, 2 workers, SQLite), tokens are created (plain and encrypted) and used in every way, failures
included; afterwards no other response body or header, no audit record (REST and ``audit-export``), no line
of the server log and no byte of the database files holds any plaintext."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from typing import Any

import pysequoia
import pytest

from tests.realserver import RealServer, Response

P = "/rest/de.resolution.apitokenauth/latest"
TOKENS = f"{P}/user/token"
MYSELF = "/rest/api/2/myself"
SESSION = "/rest/auth/1/session"
pytestmark = pytest.mark.server


def basic(user: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


ADMIN = basic("admin", "admin")
ALICE = basic("alice", "alice")
BOB = basic("bob", "bob")


class Client:
    """Every response the server gives, kept for the final search (create responses apart)."""

    def __init__(self, server: RealServer) -> None:
        self.server = server
        self.responses: list[tuple[str, Response]] = []
        self.created: list[dict[str, Any]] = []

    def call(self, method: str, path: str, status: int, *, json_body: Any = None, headers: dict | None = None):
        resp = self.server.request(method, path, json_body=json_body, headers=headers)
        assert resp.status == status, (method, path, resp.status, resp.body[:300])
        self.responses.append((f"{method} {path}", resp))
        return resp

    def create(self, auth: dict[str, str], **body: Any) -> dict[str, Any]:
        resp = self.server.request("POST", TOKENS, json_body=body, headers=auth)
        assert resp.status == 200, resp.body
        doc = resp.json
        self.created.append({"doc": doc, "raw": resp.body, "headers": resp.headers})
        return doc


def decrypt(tsk: pysequoia.Tsk, message: str) -> str:
    return pysequoia.decrypt(decryptor=tsk.decryptor(), bytes=message.encode()).bytes.decode("ascii")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("plaintext")
    # Every optional audit event on before the workers start (no worker holds a cached "off").
    subprocess.run(
        [
            sys.executable,
            "-m",
            "host",
            "tokens",
            "set",
            "--data-dir",
            str(data_dir),
            "auditSuccessfulAuthentication=true",
            "auditFailedAuthentication=true",
            "auditPermissionDenied=true",
            "rateLimitEnabled=true",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    srv = RealServer(data_dir, workers=2)
    srv.start()
    yield srv
    srv.stop()


def test_plaintext_is_only_in_the_create_response(server):
    client = Client(server)
    key = pysequoia.Tsk.generate("Alice Anderson <alice@example.com>")

    alice = client.create(ALICE, tokenDescription="alice plain")["plainTextToken"]
    bob_ro = client.create(BOB, tokenDescription="bob read-only", tokenScope=1)["plainTextToken"]
    on_behalf = client.create(ADMIN, tokenDescription="made by admin", tokenForUserKey="JIRAUSER10100")[
        "plainTextToken"
    ]
    encrypted_doc = client.create(ALICE, tokenDescription="alice encrypted", publicKey=str(key.extract_certificate()))
    encrypted = decrypt(key, encrypted_doc["plainTextToken"])
    restricted = client.create(
        ALICE,
        tokenDescription="restricted",
        allowedIpRanges=["10.0.0.0/8"],
        headerValueAccessRules=[{"headerName": "X-Ci", "headerValue": "yes"}],
    )["plainTextToken"]
    limited = client.create(ALICE, tokenDescription="limited", rateLimitBucketSize=2, rateLimitBucketLifetime=600)[
        "plainTextToken"
    ]
    child = client.create(bearer(alice), tokenDescription="made with a token")["plainTextToken"]
    plaintexts = {
        "alice": alice,
        "bob_ro": bob_ro,
        "on_behalf": on_behalf,
        "encrypted": encrypted,
        "restricted": restricted,
        "limited": limited,
        "child": child,
    }
    # Each create response holds its own plaintext in plainTextToken only (the encrypted one: nowhere).
    for created, (name, token) in zip(client.created, plaintexts.items(), strict=True):
        text = created["raw"].decode()
        if name == "encrypted":
            assert token not in text
        else:
            assert text.count(token) == 1 and created["doc"]["plainTextToken"] == token
        assert all(token not in value for value in created["headers"].values())

    # Use every token, successfully and not.
    for token, user in ((alice, "alice"), (on_behalf, "alice"), (encrypted, "alice"), (child, "alice")):
        assert client.call("GET", MYSELF, 200, headers=bearer(token)).json["name"] == user
        assert client.call("GET", MYSELF, 200, headers=basic(user, token)).json["name"] == user
        doc = client.call("GET", f"{P}/user/authTest", 200, headers=bearer(token)).json
        assert doc["isSuccessfulAuthentication"] is True
        client.call("GET", f"{P}/user/authTest", 200, headers=basic(user, token))
        client.call("GET", "/rest/api/user/current", 200, headers=bearer(token))
    client.call("GET", MYSELF, 200, headers=bearer(bob_ro))
    client.call("POST", "/rest/api/2/group", 403, json_body={"name": "nope"}, headers=bearer(bob_ro))
    client.call("GET", MYSELF, 401, headers=basic("bob", alice))  # another user's name
    client.call("GET", MYSELF, 401, headers=bearer(alice[:-1] + ("x" if alice[-1] != "x" else "y")))
    client.call("GET", MYSELF, 401, headers=bearer(restricted))  # 127.0.0.1 is outside its range
    client.call("GET", f"{P}/user/authTest", 200, headers=bearer(restricted))
    client.call("GET", MYSELF, 200, headers=bearer(limited))
    client.call("GET", MYSELF, 200, headers=bearer(limited))
    client.call("GET", MYSELF, 429, headers=bearer(limited))

    # Sessions from tokens.
    login = client.call("POST", SESSION, 200, json_body={"username": "alice", "password": alice})
    cookie = {"Cookie": f"JSESSIONID={login.json['session']['value']}"}
    client.call("GET", SESSION, 200, headers=cookie)
    client.call("GET", TOKENS, 200, headers=cookie)
    client.call("POST", SESSION, 200, json_body={"username": "bob", "password": bob_ro})
    client.call("POST", SESSION, 401, json_body={"username": "bob", "password": alice})
    client.call("DELETE", SESSION, 204, headers=cookie)

    # Management: lists, filters, rename, delete.
    client.call("GET", TOKENS, 200, headers=ALICE)
    client.call("GET", TOKENS, 200, headers=bearer(alice))
    client.call("GET", f"{P}/user/tokensByFilter?userFilter=JIRAUSER10100", 200, headers=ADMIN)
    client.call("GET", f"{P}/user/tokensByFilter?descriptionFilter=alice&limit=50", 200, headers=ADMIN)
    client.call("GET", f"{P}/user/userKeyByEmail?email=alice@example.com", 200, headers=ADMIN)
    first_id = client.created[0]["doc"]["id"]
    client.call("PATCH", f"{TOKENS}/{first_id}", 200, json_body={"tokenDescription": "renamed"}, headers=bearer(alice))
    child_id = client.created[-1]["doc"]["id"]
    client.call("DELETE", f"{TOKENS}/{child_id}", 200, headers=ALICE)
    client.call("GET", MYSELF, 401, headers=bearer(child))  # revoked
    client.call("GET", f"{P}/admin/settings", 403, headers=bearer(alice))
    client.call("GET", f"{P}/admin/settings", 200, headers=ADMIN)

    # The audit log, through REST and through the export.
    audit = client.call("GET", "/rest/api/2/auditing/record?limit=1000", 200, headers=ADMIN)
    summaries = [r["summary"] for r in audit.json["records"]]
    assert summaries.count("API token created") >= 5
    assert "API token authentication succeeded" in summaries
    assert any(s.startswith("API token authentication failed") for s in summaries)
    assert any(s.startswith("Permission denied") for s in summaries)
    export = subprocess.run(
        [sys.executable, "-m", "host", "audit-export", "--data-dir", str(server.data_dir)],
        check=True,
        capture_output=True,
        timeout=60,
        text=True,
    )
    exported = [json.loads(line) for line in export.stdout.splitlines()]
    assert len(exported) == audit.json["total"]

    # Let the access log catch up with the last request (bounded).
    marker = f"/rest/api/2/serverInfo?marker={time.time_ns()}"
    client.call("GET", marker, 200)
    deadline = time.monotonic() + 5
    while marker not in server.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    log = server.log()
    assert marker in log

    database_bytes = b"".join(p.read_bytes() for p in sorted(server.data_dir.glob("host.sqlite3*")))
    assert database_bytes
    for name, token in plaintexts.items():
        for where, resp in client.responses:
            assert token not in resp.body.decode("utf-8", "replace"), (name, where)
            assert all(token not in value for value in resp.headers.values()), (name, where)
        assert token not in export.stdout and token not in export.stderr, name
        assert token not in log, name
        assert token.encode() not in database_bytes, name
        # Not even half of it: no log or record holds a truncated copy.
        assert token[len(token) // 2 :] not in log and token[len(token) // 2 :] not in export.stdout, name
