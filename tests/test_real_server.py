"""End to end against a real ``python -m host serve`` (gunicorn, 2 worker processes, SQLite, demo data):
the guide's own-token examples run with curl, then the token used as Basic and Bearer."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from tests.realserver import RealServer, assert_within_a_second

P = "/rest/de.resolution.apitokenauth/latest"
pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = RealServer(tmp_path_factory.mktemp("server"), workers=2)
    srv.start()
    yield srv
    srv.stop()


def curl(*args: str) -> tuple[int, str]:
    """Run curl like the guide does; returns (HTTP status, body)."""
    out = subprocess.run(
        ["curl", "-sS", "-w", "\n%{http_code}", *args], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    body, _, code = out.rpartition("\n")
    return int(code), body


def test_guide_examples_with_curl(server):
    url = server.url + P
    json_ct = ["--header", "Content-Type: application/json"]

    status, body = curl("-u", "alice:alice", "-d", '{"tokenDescription":"first token"}', f"{url}/user/token", *json_ct)
    assert status == 200, body
    first = json.loads(body)
    assert first["tokenDescription"] == "first token" and first["tokenForUserKey"] == "JIRAUSER10100"
    assert first["tokenValidityTimeInMonths"] == 12

    status, body = curl(
        "-u",
        "alice:alice",
        "-d",
        '{"tokenDescription":"one month", "tokenValidityTimeInMonths" : 1}',
        f"{url}/user/token",
        *json_ct,
    )
    assert status == 200, body
    month = json.loads(body)
    assert month["tokenValidityTimeInMonths"] == 1
    assert 28 * 86400_000 <= month["tokenExpirationDateTimeMillis"] - int(time.time() * 1000) <= 31 * 86400_000

    future = time.strftime("%Y-%m-%dT%H:%M:00.000+02:00", time.gmtime(time.time() + 30 * 86400))
    status, body = curl(
        "-u",
        "alice:alice",
        "-d",
        json.dumps({"tokenDescription": "Custom expiration", "tokenExpirationDateTime": future}),
        f"{url}/user/token",
        *json_ct,
    )
    assert status == 200, body
    custom = json.loads(body)
    assert custom["tokenExpirationDateTime"] == future

    too_late = time.strftime("%Y-%m-%dT%H:%M:00.000+02:00", time.gmtime(time.time() + 400 * 86400))
    status, body = curl(
        "-u",
        "alice:alice",
        "-d",
        json.dumps({"tokenDescription": "x", "tokenExpirationDateTime": too_late}),
        f"{url}/user/token",
        *json_ct,
    )
    assert status == 400
    assert json.loads(body) == {
        "errorMessage": "The custom expiration you've provided is greater than the maximum defined by your "
        "administrator. You need to provide a date within the next 12 months."
    }

    status, body = curl(
        "-u",
        "alice:alice",
        "-d",
        '{"tokenDescription":"Updated token description"}',
        "-X",
        "PATCH",
        f"{url}/user/token/{first['id']}",
        *json_ct,
    )
    assert status == 200, body
    assert json.loads(body)["description"] == "Updated token description"

    status, body = curl("-u", "alice:alice", f"{url}/user/token/")
    assert status == 200
    listed = json.loads(body)
    assert [t["id"] for t in listed] == [custom["id"], month["id"], first["id"]]
    assert "plainTextToken" not in body and first["plainTextToken"] not in body

    token = first["plainTextToken"]
    for auth in (["-u", f"alice:{token}"], ["-H", f"Authorization: Bearer {token}"]):
        status, body = curl(*auth, server.url + "/rest/api/2/myself")
        assert status == 200, body
        assert json.loads(body)["name"] == "alice"
    tampered = token[:-1] + ("x" if token[-1] != "x" else "y")  # never the token itself
    status, _ = curl("-H", f"Authorization: Bearer {tampered}", server.url + "/rest/api/2/myself")
    assert status == 401

    status, body = curl("-u", "alice:alice", "-X", "DELETE", f"{url}/user/token/{month['id']}")
    assert (status, body) == (200, "true")
    status, _ = curl("-H", f"Authorization: Bearer {month['plainTextToken']}", server.url + "/rest/api/2/myself")
    assert status == 401


def test_plugin_disable_reaches_every_worker(server):
    admin = {"Authorization": "Basic YWRtaW46YWRtaW4="}  # admin:admin
    token = server.request("POST", f"{P}/user/token", json_body={}, headers=admin).json["plainTextToken"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert server.request("GET", "/rest/api/2/myself", headers=bearer).status == 200
    key = "/rest/plugins/1.0/de.resolution.apitokenauth-key"
    try:
        assert server.request("PUT", key, json_body={"enabled": False}, headers=admin).status == 200
        # Plugin state is cached for at most 1 s per process (contract 1.1): within that bound every
        # worker refuses the token, and keeps refusing it.
        myself = lambda: server.request("GET", "/rest/api/2/myself", headers=bearer).status
        assert_within_a_second(myself, 401)
        assert server.request("GET", f"{P}/user/token", headers=admin).status == 404
    finally:
        assert server.request("PUT", key, json_body={"enabled": True}, headers=admin).status == 200
    myself = lambda: server.request("GET", "/rest/api/2/myself", headers=bearer).status
    assert_within_a_second(myself, 200)


def test_revoked_token_refused_at_once_by_every_worker(server):
    admin = {"Authorization": "Basic YWRtaW46YWRtaW4="}
    created = server.request("POST", f"{P}/user/token", json_body={}, headers=admin).json
    bearer = {"Authorization": f"Bearer {created['plainTextToken']}"}
    assert {server.request("GET", "/rest/api/2/myself", headers=bearer).status for _ in range(10)} == {200}
    assert server.request("DELETE", f"{P}/user/token/{created['id']}", headers=admin).status == 200
    assert {server.request("GET", "/rest/api/2/myself", headers=bearer).status for _ in range(10)} == {401}


def test_log_has_a_line_per_request_and_no_secret(server):
    admin = {"Authorization": "Basic YWRtaW46YWRtaW4="}
    created = server.request("POST", f"{P}/user/token", json_body={"tokenDescription": "log check"}, headers=admin).json
    marker = f"/rest/api/2/user?username=log-marker-{time.time_ns()}"
    server.request("GET", marker, headers={"Authorization": f"Bearer {created['plainTextToken']}"})
    deadline = time.monotonic() + 5
    while marker not in server.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    log = server.log()
    assert sum(marker in line for line in log.splitlines()) == 1
    assert created["plainTextToken"] not in log


def test_sigterm_stops_cleanly(tmp_path):
    srv = RealServer(tmp_path / "stop", workers=2, extra_args=("--no-fixtures",))
    srv.start()
    assert srv.request("GET", "/rest/api/2/serverInfo").status == 200
    # No fixtures: nobody can log in.
    assert srv.request("GET", "/rest/api/2/myself", headers={"Authorization": "Basic YWRtaW46YWRtaW4="}).status == 401
    assert srv.stop(signal.SIGTERM) == 0
