"""End to end against a real ``python -m host serve`` (gunicorn, 2 worker processes, SQLite, demo data): every
example of the guide's "Administrative REST API Methods" and "Filter User Tokens" sections run with curl, and a
settings change in force on every worker within a second."""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.realserver import RealServer, assert_within_a_second

P = "/rest/de.resolution.apitokenauth/latest"
ALICE_KEY, BOB_KEY, FRANK_KEY = "JIRAUSER10100", "JIRAUSER10101", "JIRAUSER10105"
JSON_CT = ["--header", "Content-Type: application/json"]
DAY = 86_400_000
pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = RealServer(tmp_path_factory.mktemp("admin-server"), workers=2)
    srv.start()
    yield srv
    srv.stop()


def curl(*args: str) -> tuple[int, str, str]:
    """Run curl as the guide does; returns (HTTP status, body, Content-Type)."""
    out = subprocess.run(
        ["curl", "-sS", "-w", "\n%{http_code}\n%{content_type}", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    rest, _, content_type = out.rpartition("\n")
    body, _, code = rest.rpartition("\n")
    return int(code), body, content_type


def curl_json(*args: str, status: int = 200) -> Any:
    code, body, content_type = curl(*args)
    assert code == status, body
    assert content_type.startswith("application/json"), content_type
    return json.loads(body)


def now_ms() -> int:
    return int(time.time() * 1000)


def test_guide_administrative_examples_with_curl(server):
    url = server.url + P
    admin_token = curl_json(
        "-u", "admin:admin", "-d", '{"tokenDescription":"admin automation"}', f"{url}/user/token", *JSON_CT
    )["plainTextToken"]

    # --- Create Tokens for other Users: with the admin's password and with a token, default validity
    for secret in ("admin", admin_token):
        created = curl_json(
            "-u",
            f"admin:{secret}",
            "-d",
            '{"tokenDescription":"token for another user", "tokenForUserKey":"JIRAUSER10105"}',
            f"{url}/user/token",
            *JSON_CT,
        )
        assert created["tokenForUserKey"] == FRANK_KEY
        assert created["tokenDescription"] == "token for another user"
        assert created["tokenValidityTimeInMonths"] == 12  # the system default
        assert created["plainTextToken"]

    # --- with a validity above the maximum (lowered to 6): adjusted to the maximum
    changed = curl_json(
        "-u",
        "admin:admin",
        "-X",
        "PUT",
        "-d",
        '{"maxValidityMonths": 6, "defaultValidityMonths": 6}',
        f"{url}/admin/settings",
        *JSON_CT,
    )
    assert changed["maxValidityMonths"] == 6 and changed["defaultValidityMonths"] == 6
    bearer = ["-H", f"Authorization: Bearer {admin_token}"]
    assert_within_a_second(lambda: curl_json(*bearer, f"{url}/admin/settings")["maxValidityMonths"], 6)
    guide_body = '{"tokenDescription":"token for another user", "tokenForUserKey":"JIRAUSER10105"'
    for body, months in (
        (guide_body + ',"tokenValidityTimeInMonths":12}', 6),  # the guide's example, verbatim
        (guide_body.replace(FRANK_KEY, BOB_KEY) + ',"tokenValidityTimeInMonths":12}', 6),
        (guide_body.replace(FRANK_KEY, BOB_KEY) + "}", 6),
        (guide_body.replace(FRANK_KEY, BOB_KEY) + ',"tokenValidityTimeInMonths":2}', 2),
    ):
        before = now_ms()
        created = curl_json("-u", f"admin:{admin_token}", "-d", body, f"{url}/user/token", *JSON_CT)
        assert created["tokenValidityTimeInMonths"] == months, body
        lifetime = created["tokenExpirationDateTimeMillis"] - before
        assert (months * 28 - 1) * DAY <= lifetime <= (months * 31 + 1) * DAY
    bobs_token = created["plainTextToken"]
    assert curl_json("-H", f"Authorization: Bearer {bobs_token}", server.url + "/rest/api/2/myself")["name"] == "bob"
    # an ordinary user may not
    status, body, _ = curl(
        "-u", "alice:alice", "-d", '{"tokenForUserKey":"JIRAUSER10101"}', f"{url}/user/token", *JSON_CT
    )
    assert status == 403 and "errorMessage" in json.loads(body)

    # --- Get User Key for a User (Jira and Confluence) and Get Email Addresses For Users
    jira_user = curl_json("-u", "admin:admin", server.url + "/rest/api/2/user?username=bob")
    assert jira_user["key"] == BOB_KEY
    assert jira_user["self"] == server.url + "/rest/api/2/user?username=bob"
    by_key = curl_json("-u", f"admin:{admin_token}", server.url + f"/rest/api/2/user?key={ALICE_KEY}")
    assert by_key["name"] == "alice" and by_key["emailAddress"] == "alice@example.com"
    assert by_key["self"] == server.url + "/rest/api/2/user?username=alice"
    assert {"avatarUrls", "displayName", "active", "timeZone", "locale", "groups", "applicationRoles"} <= set(by_key)
    confluence = curl_json("-u", "admin:admin", server.url + "/rest/api/user?username=bob")
    assert confluence["userKey"] == BOB_KEY and confluence["username"] == "bob" and confluence["type"] == "known"

    # --- Get User Key by E-Mail
    status, body, content_type = curl("-u", "admin:admin", f"{url}/user/userKeyByEmail?email=alice@example.com")
    assert (status, body) == (200, ALICE_KEY)
    assert content_type.startswith("text/plain")
    status, body, _ = curl("-u", "admin:admin", f"{url}/user/userKeyByEmail?email=unknown@deville.com")
    assert status == 404
    assert json.loads(body) == {
        "errorMessage": "Could not retrieve a userkey for email 'unknown@deville.com', error was: NOT_FOUND"
    }
    status, body, _ = curl("-u", f"admin:{admin_token}", f"{url}/user/userKeyByEmail?email=shared@example.com")
    assert status == 409
    assert json.loads(body) == {
        "errorMessage": "Can't return a userkey since there is more than one user with the email 'shared@example.com'"
    }
    status, _, _ = curl("-u", "alice:alice", f"{url}/user/userKeyByEmail?email=bob@example.com")
    assert status == 403

    # --- Delete all tokens for a user
    status, _, _ = curl("-u", "alice:alice", "-X", "DELETE", f"{url}/user/token/deleteAllFor/{BOB_KEY}")
    assert status == 403
    assert curl_json("-H", f"Authorization: Bearer {bobs_token}", server.url + "/rest/api/2/myself")["name"] == "bob"
    status, body, _ = curl("-u", "admin:admin", "-X", "DELETE", f"{url}/user/token/deleteAllFor/{BOB_KEY}")
    assert (status, body) == (200, "true")
    for _ in range(6):  # refused at once, by every worker
        status, _, _ = curl("-H", f"Authorization: Bearer {bobs_token}", server.url + "/rest/api/2/myself")
        assert status == 401
    everything = curl_json("-u", "admin:admin", f"{url}/user/tokensByFilter")
    assert BOB_KEY not in {t["tokenForUserKey"] for t in everything["content"]}
    status, _, _ = curl("-u", "admin:admin", "-X", "DELETE", f"{url}/user/token/deleteAllFor/JIRAUSER99999")
    assert status == 404


def test_guide_filter_examples_with_curl(server):
    url = server.url + P
    start = now_ms()
    findme = [
        curl_json("-u", "admin:admin", "-d", json.dumps(body), f"{url}/user/token", *JSON_CT)
        for body in (
            {"tokenDescription": "please FINDME", "tokenForUserKey": ALICE_KEY, "tokenScope": 1},
            {"tokenDescription": "findme as well", "tokenForUserKey": BOB_KEY, "tokenScope": 1},
            {"tokenDescription": "findme but read/write", "tokenForUserKey": ALICE_KEY, "tokenScope": 2},
            {"tokenDescription": "not me", "tokenForUserKey": ALICE_KEY, "tokenScope": 1},
        )
    ]
    for token in findme:  # used once each: lastAccessed is set
        curl_json("-H", f"Authorization: Bearer {token['plainTextToken']}", server.url + "/rest/api/2/myself")
    end = now_ms()

    # --- all tokens, including the expired ones (the guide's first example)
    everything = curl_json("-u", "admin:admin", f"{url}/user/tokensByFilter")
    assert set(everything) == {"content", "currentPage", "limit", "offset", "total", "totalPages", "paginationLinks"}
    assert everything["limit"] == 50 and everything["currentPage"] == 0
    assert everything["paginationLinks"]["baseUrl"] == server.url
    ids = [t["id"] for t in everything["content"]]
    assert ids == sorted(ids, reverse=True)
    assert {t["id"] for t in findme} <= set(ids)

    # --- the guide's full parameter list (all but notValidAfter)
    expires = [t["tokenExpirationDateTimeMillis"] for t in findme]
    params = [
        ("userFilter", "JIRAUSER00007"),
        ("userFilter", ALICE_KEY),
        ("userFilter", BOB_KEY),
        ("fromCreated", start),
        ("untilCreated", end),
        ("descriptionFilter", "findme"),
        ("tokenScope", 1),
        ("fromLastUsed", start),
        ("untilLastUsed", end),
        ("fromExpiresDuring", min(expires)),
        ("untilExpiresDuring", max(expires)),
    ]
    filtered = curl_json("-u", "admin:admin", f"{url}/user/tokensByFilter?{urlencode(params)}")
    assert [t["id"] for t in filtered["content"]] == [findme[1]["id"], findme[0]["id"]]
    assert filtered["total"] == 2 and filtered["totalPages"] == 1
    assert {t["tokenScope"] for t in filtered["content"]} == {1}
    assert all(start <= t["created"] <= end and start <= t["lastAccessed"] <= end for t in filtered["content"])

    # --- Retrieve all tokens not valid after a certain time
    cutoff = max(expires)
    not_valid_after = curl_json("-u", "admin:admin", f"{url}/user/tokensByFilter?notValidAfter={cutoff}")
    assert {t["id"] for t in findme} <= {t["id"] for t in not_valid_after["content"]}
    assert all(0 < t["validUntil"] <= cutoff for t in not_valid_after["content"])
    everything = curl_json("-u", "admin:admin", f"{url}/user/tokensByFilter?notValidAfter=-1")
    assert everything["total"] >= not_valid_after["total"]
    assert everything == curl_json("-u", "admin:admin", f"{url}/user/tokensByFilter")
    earlier = curl_json("-u", "admin:admin", f"{url}/user/tokensByFilter?notValidAfter={min(expires) - 1}")
    assert not {t["id"] for t in findme} & {t["id"] for t in earlier["content"]}

    # --- paging: page=0&limit=1
    total = not_valid_after["total"]
    assert total >= 4
    page = curl_json("-u", "admin:admin", f"{url}/user/tokensByFilter?page=0&limit=1&notValidAfter={cutoff}")
    assert len(page["content"]) == 1
    assert page["content"][0] == not_valid_after["content"][0]
    assert (page["currentPage"], page["limit"], page["offset"]) == (0, 1, 0)
    assert page["total"] == total and page["totalPages"] == total
    assert page["paginationLinks"] == {
        "baseUrl": server.url,
        "nextPage": f"{url}/user/tokensByFilter?page=1&limit=1&notValidAfter={cutoff}",
        "previousPage": "",
    }
    second = curl_json("-u", "admin:admin", page["paginationLinks"]["nextPage"])
    assert second["content"][0] == not_valid_after["content"][1]
    assert (
        second["paginationLinks"]["previousPage"] == f"{url}/user/tokensByFilter?page=0&limit=1&notValidAfter={cutoff}"
    )

    # --- an ordinary user may not filter; bad values are 400
    status, _, _ = curl("-u", "alice:alice", f"{url}/user/tokensByFilter")
    assert status == 403
    for bad in ("limit=0", "tokenScope=3", "fromCreated=abc", "page=-1"):
        status, body, _ = curl("-u", "admin:admin", f"{url}/user/tokensByFilter?{bad}")
        assert status == 400 and bad.split("=")[0] in json.loads(body)["errorMessage"]


def test_settings_change_is_in_force_on_every_worker_within_a_second(server):
    url = server.url + P
    admin = ["-u", "admin:admin"]
    carols = curl_json("-u", "carol:carol", "-d", "{}", f"{url}/user/token", *JSON_CT)["plainTextToken"]

    def scope_of_a_new_token() -> int:
        status, body, _ = curl(
            "-H", f"Authorization: Bearer {carols}", "-d", '{"tokenScope":2}', f"{url}/user/token", *JSON_CT
        )
        assert status == 200, body
        return json.loads(body)["tokenScope"]

    assert {scope_of_a_new_token() for _ in range(4)} == {2}
    try:
        curl_json(*admin, "-X", "PUT", "-d", '{"readOnlyTokensOnly": true}', f"{url}/admin/settings", *JSON_CT)
        assert_within_a_second(scope_of_a_new_token, 1)
    finally:
        curl_json(*admin, "-X", "PUT", "-d", '{"readOnlyTokensOnly": false}', f"{url}/admin/settings", *JSON_CT)
    assert_within_a_second(scope_of_a_new_token, 2)

    # passwords refused on REST by every worker; tokens still accepted (and the admin's token restores it)
    myself = server.url + "/rest/api/2/myself"
    admin_token = curl_json(*admin, "-d", "{}", f"{url}/user/token", *JSON_CT)["plainTextToken"]
    with_token = ["-H", f"Authorization: Bearer {admin_token}"]
    try:
        curl_json(
            *with_token, "-X", "PUT", "-d", '{"disableBasicAuthWithPassword": true}', f"{url}/admin/settings", *JSON_CT
        )
        assert_within_a_second(
            lambda: curl("-u", "carol:carol", myself)[0], 401, watch=3
        )  # argon2 makes these probes slow
        assert {curl("-u", f"carol:{carols}", myself)[0] for _ in range(4)} == {200}
        assert {curl("-H", f"Authorization: Bearer {carols}", myself)[0] for _ in range(4)} == {200}
        status, _, _ = curl(*admin, f"{url}/admin/settings")
        assert status == 401
    finally:
        curl_json(
            *with_token, "-X", "PUT", "-d", '{"disableBasicAuthWithPassword": false}', f"{url}/admin/settings", *JSON_CT
        )
    assert_within_a_second(lambda: curl("-u", "carol:carol", myself)[0], 200, watch=3)
