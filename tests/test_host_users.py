"""Jira user endpoints, user search, user administration and serverInfo (contract 1.2, 1.5)."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import ADMIN, ALICE, BOB, basic
from tests.host_helpers import (
    EMILE,
    FIXTURE_KEYS,
    NOT_AUTHENTICATED,
    all_usernames,
    assert_envelope,
    assert_json,
    basic_bytes,
    login,
    session_cookie,
)

USER = "/rest/api/2/user"
SEARCH = "/rest/api/2/user/search"
MYSELF = "/rest/api/2/myself"
BASE = "http://jira.test"
USER_FIELDS = {
    "self",
    "key",
    "name",
    "emailAddress",
    "avatarUrls",
    "displayName",
    "active",
    "deleted",
    "timeZone",
    "locale",
    "groups",
    "applicationRoles",
    "expand",
}
ADMIN_ONLY = "You do not have the permission to perform this operation. Only system administrators may."


def self_username(user: dict) -> str:
    parts = urlsplit(user["self"])
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{BASE}/rest/api/2/user"
    query = parse_qs(parts.query)
    assert list(query) == ["username"]
    return query["username"][0]


def new_user(app, name: str, password: str | None = "pw", **extra) -> dict:
    body = {
        "name": name,
        "emailAddress": f"u{abs(hash(name))}@example.com",
        "displayName": f"User {name[:32]}",
        **extra,
    }
    if password is not None:
        body["password"] = password
    return app.post_json(USER, body, headers=ADMIN, status=201).json


# ----- serverInfo -----------------------------------------------------------------------------------------------
def test_server_info_anonymous(app):
    resp = app.get("/rest/api/2/serverInfo", status=200)
    assert_json(resp)
    info = resp.json
    assert {
        "baseUrl",
        "version",
        "versionNumbers",
        "deploymentType",
        "buildNumber",
        "buildDate",
        "serverTime",
        "scmInfo",
        "serverTitle",
    } <= set(info)
    assert info["baseUrl"] == BASE
    assert info["deploymentType"] == "Server"
    numbers = info["versionNumbers"]
    assert all(type(n) is int for n in numbers) and len(numbers) == 3
    assert [int(p) for p in info["version"].split(".")] == numbers
    assert tuple(numbers) >= (9, 12, 0)
    assert isinstance(info["buildNumber"], int)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", info["serverTime"])


def test_server_time_follows_the_clock(app, clock):
    clock.now = 1_700_000_000_123
    info = app.get("/rest/api/2/serverInfo", status=200).json
    assert info["serverTime"] == "2023-11-14T22:13:20.123+0000"
    assert datetime.strptime(info["serverTime"], "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() == 1_700_000_000.123


def test_server_info_authenticated(app):
    assert app.get("/rest/api/2/serverInfo", headers=ALICE, status=200).json["deploymentType"] == "Server"


# ----- GET /user -----------------------------------------------------------------------------------------------
def test_get_user_by_username_exact_shape(app):
    resp = app.get(USER, {"username": "alice"}, headers=BOB, status=200)
    assert_json(resp)
    user = resp.json
    assert set(user) == USER_FIELDS
    assert user["self"] == f"{BASE}/rest/api/2/user?username=alice"
    assert user["key"] == "JIRAUSER10100"
    assert user["name"] == "alice"
    assert user["emailAddress"] == "alice@example.com"
    assert user["displayName"] == "Alice Adams"
    assert user["active"] is True
    assert user["deleted"] is False
    assert user["timeZone"] == "Europe/Berlin"
    assert user["locale"] == "de_DE"
    assert set(user["avatarUrls"]) == {"48x48", "24x24", "16x16", "32x32"}
    assert all(isinstance(v, str) and v.startswith("http") for v in user["avatarUrls"].values())
    assert user["groups"] == {"size": 2, "items": []}
    assert user["applicationRoles"]["items"] == []
    assert user["expand"] == "groups,applicationRoles"


def test_get_user_case_insensitive(app):
    user = app.get(USER, {"username": "ALICE"}, headers=BOB, status=200).json
    assert user["name"] == "alice"
    assert user["key"] == "JIRAUSER10100"
    assert self_username(user) == "alice"


def test_get_user_by_key_uses_username_in_self(app):
    user = app.get(USER, {"key": "JIRAUSER10101"}, headers=ALICE, status=200).json
    assert user["name"] == "bob"
    assert user["self"] == f"{BASE}/rest/api/2/user?username=bob"


def test_get_user_legacy_key(app):
    assert app.get(USER, {"key": "admin"}, headers=ALICE, status=200).json["name"] == "admin"


def test_get_non_ascii_user_self_round_trips(app):
    user = app.get(USER, {"username": EMILE}, headers=ALICE, status=200).json
    assert user["key"] == "JIRAUSER10104"
    assert self_username(user) == EMILE
    assert " " not in user["self"]
    again = app.get(user["self"].removeprefix(BASE), headers=ALICE, status=200).json
    assert again["key"] == "JIRAUSER10104"


def test_get_user_expand_groups_and_roles(app):
    user = app.get(USER, {"username": "alice", "expand": "groups,applicationRoles"}, headers=BOB, status=200).json
    assert set(user) == USER_FIELDS
    assert user["groups"]["size"] == 2
    assert [g["name"] for g in user["groups"]["items"]] == ["developers", "jira-software-users"]
    for group in user["groups"]["items"]:
        assert group["self"] == f"{BASE}/rest/api/2/group?groupname={group['name']}"
    roles = user["applicationRoles"]
    assert roles["size"] == len(roles["items"]) >= 1
    assert all({"key", "name"} <= set(r) for r in roles["items"])


def test_get_user_expand_groups_only(app):
    user = app.get(USER, {"username": "alice", "expand": "groups"}, headers=BOB, status=200).json
    assert len(user["groups"]["items"]) == 2
    assert user["applicationRoles"]["items"] == []


def test_get_inactive_user(app):
    user = app.get(USER, {"username": "frank"}, headers=ALICE, status=200).json
    assert user["active"] is False


def test_get_unknown_user(app):
    resp = app.get(USER, {"username": "ghost"}, headers=ALICE, status=404)
    assert_envelope(resp, "The user named 'ghost' does not exist")


def test_get_unknown_key(app):
    resp = app.get(USER, {"key": "JIRAUSER99999"}, headers=ALICE, status=404)
    assert_json(resp)
    assert "JIRAUSER99999" in resp.json["errorMessages"][0]


def test_get_user_without_parameters(app):
    resp = app.get(USER, headers=ALICE, status=400)
    assert_json(resp)
    assert resp.json["errorMessages"]


def test_get_user_anonymous(app):
    assert_envelope(app.get(USER, {"username": "alice"}, status=401), NOT_AUTHENTICATED)


# ----- myself -----------------------------------------------------------------------------------------------------
def test_myself(app):
    resp = app.get(MYSELF, headers=ALICE, status=200)
    assert_json(resp)
    me = resp.json
    assert set(me) == USER_FIELDS
    assert me == app.get(USER, {"username": "alice"}, headers=ALICE, status=200).json


def test_myself_expand(app):
    me = app.get(MYSELF, {"expand": "groups"}, headers=ADMIN, status=200).json
    assert [g["name"] for g in me["groups"]["items"]] == ["jira-administrators", "jira-software-users"]


def test_myself_anonymous(app):
    assert_envelope(app.get(MYSELF, status=401), NOT_AUTHENTICATED)


# ----- search -----------------------------------------------------------------------------------------------------
def names(resp) -> list[str]:
    assert isinstance(resp.json, list)
    return [u["name"] for u in resp.json]


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("al", ["alice"]),
        ("AL", ["alice"]),
        ("Bob Br", ["bob"]),  # display name
        ("Adams", ["alice"]),  # a later word of the display name
        ("shared@", ["carol", "dave"]),  # email (shared by two users)
        ("alice@example.com", ["alice"]),
        ("émile", [EMILE]),
        ("ÉMILE", [EMILE]),
        ("example", []),  # prefix, not substring
        ("zzz", []),
        ("a_", []),  # '_' is not a wildcard
        ("a%", []),  # nor is '%' after a prefix
    ],
)
def test_search_prefix(app, prefix, expected):
    resp = app.get(SEARCH, {"username": prefix}, headers=ALICE, status=200)
    assert_json(resp)
    assert names(resp) == expected


def test_search_result_is_user_objects(app):
    users = app.get(SEARCH, {"username": "alice"}, headers=BOB, status=200).json
    assert len(users) == 1
    assert set(users[0]) == USER_FIELDS
    assert users[0]["self"] == f"{BASE}/rest/api/2/user?username=alice"


@pytest.mark.parametrize("everything", [".", "%"])
def test_search_dot_and_percent_match_all_active(app, everything):
    found = names(app.get(SEARCH, {"username": everything}, headers=ALICE, status=200))
    assert set(found) == {"admin", "alice", "bob", "carol", "dave", EMILE}
    assert found == sorted(found, key=str.lower)


def test_search_order_is_stable_and_paging_covers_everything(app):
    full = names(app.get(SEARCH, {"username": ".", "includeInactive": "true"}, headers=ALICE, status=200))
    assert len(full) == 7
    assert full == sorted(full, key=str.lower)
    pages = []
    for start in range(0, 8, 2):
        page = names(
            app.get(
                SEARCH,
                {"username": ".", "includeInactive": "true", "startAt": start, "maxResults": 2},
                headers=ALICE,
                status=200,
            )
        )
        assert len(page) == min(2, 7 - start)
        pages += page
    assert pages == full
    assert names(app.get(SEARCH, {"username": ".", "startAt": 100}, headers=ALICE, status=200)) == []
    assert names(app.get(SEARCH, {"username": ".", "maxResults": 0}, headers=ALICE, status=200)) == []


@pytest.mark.parametrize(
    ("active", "inactive", "expected"),
    [
        ("true", "false", {"admin", "alice", "bob", "carol", "dave", EMILE}),
        ("True", "True", {"admin", "alice", "bob", "carol", "dave", EMILE, "frank"}),
        ("false", "true", {"frank"}),
        ("False", "True", {"frank"}),
        ("False", "False", set()),
    ],
)
def test_search_active_flags(app, active, inactive, expected):
    resp = app.get(
        SEARCH, {"username": ".", "includeActive": active, "includeInactive": inactive}, headers=ALICE, status=200
    )
    assert set(names(resp)) == expected


def test_search_defaults_exclude_inactive(app):
    assert names(app.get(SEARCH, {"username": "fr"}, headers=ALICE, status=200)) == []
    assert names(app.get(SEARCH, {"username": "fr", "includeInactive": "true"}, headers=ALICE, status=200)) == ["frank"]


def test_search_without_username(app):
    resp = app.get(SEARCH, {"query": "al"}, headers=ALICE, status=400)
    assert_json(resp)
    assert resp.json["errorMessages"] == ["The query parameter 'username' has not been specified"]


@pytest.mark.parametrize(
    "params",
    [
        {"includeActive": "yes"},
        {"includeInactive": "1"},
        {"startAt": "-1"},
        {"startAt": "abc"},
        {"maxResults": "ten"},
        {"maxResults": "-5"},
        {"startAt": "9" * 40},
    ],
)
def test_search_bad_parameters(app, params):
    resp = app.get(SEARCH, {"username": ".", **params}, headers=ALICE, status=400)
    assert_json(resp)
    assert next(iter(params)) in resp.json["errors"]


def test_search_anonymous(app):
    app.get(SEARCH, {"username": "."}, status=401)


# ----- create ----------------------------------------------------------------------------------------------------
def test_create_user(app, host):
    resp = app.post_json(
        USER,
        {"name": "newbie", "emailAddress": "newbie@example.com", "displayName": "New Bie", "password": "s3cret"},
        headers=ADMIN,
        status=201,
    )
    assert_json(resp)
    user = resp.json
    assert set(user) == USER_FIELDS
    match = re.fullmatch(r"JIRAUSER(\d+)", user["key"])
    assert match and int(match.group(1)) >= 10100
    assert user["key"] not in FIXTURE_KEYS
    assert user["name"] == "newbie"
    assert user["displayName"] == "New Bie"
    assert user["emailAddress"] == "newbie@example.com"
    assert user["active"] is True
    assert user["self"] == f"{BASE}/rest/api/2/user?username=newbie"
    assert app.get(MYSELF, headers=basic("newbie", "s3cret"), status=200).json["key"] == user["key"]
    stored = host.users.by_name("newbie")
    assert stored.password_hash.startswith("$argon2id$")


def test_created_keys_are_distinct_and_increasing(app):
    keys = [new_user(app, f"user{i}")["key"] for i in range(3)]
    numbers = [int(k.removeprefix("JIRAUSER")) for k in keys]
    assert numbers == sorted(set(numbers))
    assert not set(keys) & FIXTURE_KEYS


def test_key_of_a_deleted_user_is_never_reused(app):
    app.delete(USER + "?username=bob", headers=ADMIN, status=204)
    created = new_user(app, "bob")
    assert created["key"] != "JIRAUSER10101"
    assert created["key"] not in FIXTURE_KEYS


def test_create_user_without_password_cannot_log_in(app):
    new_user(app, "nopw", password=None)
    app.get(MYSELF, headers=basic("nopw", ""), status=401)
    app.get(MYSELF, headers=basic("nopw", "anything"), status=401)


@pytest.mark.parametrize("name", ["Łukasz Żółć", "李雷", "Ünïcödé.user+tag@host&co", "x" * 255, "Jane Doe"])
def test_create_user_with_unusual_valid_names(app, name):
    user = new_user(app, name)
    assert user["name"] == name
    assert app.get(USER, {"username": name}, headers=ALICE, status=200).json["key"] == user["key"]
    assert app.get(MYSELF, headers=basic_bytes(f"{name}:pw".encode()), status=200).json["name"] == name


@pytest.mark.parametrize("name", ["ALICE", "alice", " alice ", "ÉMILE ZOË", "E\u0301mile Zoe\u0308"])
def test_create_duplicate_user(app, name):
    before = all_usernames(app, ADMIN)
    resp = app.post_json(
        USER,
        {"name": name, "emailAddress": "d@example.com", "displayName": "Dup", "password": "pw"},
        headers=ADMIN,
        status=400,
    )
    assert_json(resp)
    assert resp.json["errors"] == {"username": "A user with that username already exists."}
    assert all_usernames(app, ADMIN) == before


@pytest.mark.parametrize(
    "name",
    [
        "a:b",
        ":",
        "ctl\x00char",
        "tab\tname",
        "line\nbreak",
        "bell\x07",
        "zero\u200bwidth",
        "x" * 256,
        "",
        "   ",
        5,
        None,
        ["alice"],
        {"n": 1},
    ],
)
def test_create_user_bad_names(app, name):
    before = all_usernames(app, ADMIN)
    resp = app.post_json(
        USER,
        {"name": name, "emailAddress": "b@example.com", "displayName": "Bad", "password": "pw"},
        headers=ADMIN,
        status=400,
    )
    assert_json(resp)
    assert {"username", "name"} & set(resp.json["errors"])  # Jira's name for the field, or the body's
    assert all_usernames(app, ADMIN) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "u1", "displayName": "U"}, "emailAddress"),
        ({"name": "u1", "emailAddress": "not-an-email", "displayName": "U"}, "emailAddress"),
        ({"name": "u1", "emailAddress": 7, "displayName": "U"}, "emailAddress"),
        ({"name": "u1", "emailAddress": "u@x.y"}, "displayName"),
        ({"name": "u1", "emailAddress": "u@x.y", "displayName": "x" * 256}, "displayName"),
        ({"name": "u1", "emailAddress": "u@x.y", "displayName": "U", "password": ""}, "password"),
        ({"name": "u1", "emailAddress": "u@x.y", "displayName": "U", "password": 1234}, "password"),
        ({"name": "u1", "emailAddress": "u@x.y", "displayName": "U", "password": "p" * 1025}, "password"),
    ],
)
def test_create_user_bad_fields(app, body, field):
    resp = app.post_json(USER, body, headers=ADMIN, status=400)
    assert field in resp.json["errors"]
    app.get(USER, {"username": "u1"}, headers=ADMIN, status=404)


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{", "application/json", 400),
        (b"[]", "application/json", 400),
        (b"", "application/json", 400),
        (b'{"name":"u1"}', "text/plain", 415),
    ],
)
def test_create_user_bad_bodies(app, body, content_type, status):
    resp = app.post(USER, body, headers={**ADMIN, "Content-Type": content_type}, status=status)
    assert_json(resp)
    assert resp.json["errorMessages"]


def test_create_user_permissions(app):
    body = {"name": "sneaky", "emailAddress": "s@example.com", "displayName": "S", "password": "pw"}
    assert_envelope(app.post_json(USER, body, headers=ALICE, status=403), ADMIN_ONLY)
    app.post_json(USER, body, status=401)
    app.get(USER, {"username": "sneaky"}, headers=ADMIN, status=404)


# ----- update -----------------------------------------------------------------------------------------------------
def test_rename_keeps_key_and_new_name_logs_in(app):
    resp = app.put_json(USER + "?username=alice", {"name": "alice2"}, headers=ADMIN, status=200)
    assert_json(resp)
    user = resp.json
    assert user["key"] == "JIRAUSER10100"
    assert user["name"] == "alice2"
    assert user["self"] == f"{BASE}/rest/api/2/user?username=alice2"
    assert app.get(MYSELF, headers=basic("alice2", "alice"), status=200).json["key"] == "JIRAUSER10100"
    app.get(MYSELF, headers=ALICE, status=401)
    app.get(USER, {"username": "alice"}, headers=ADMIN, status=404)
    assert app.get(USER, {"key": "JIRAUSER10100"}, headers=ADMIN, status=200).json["name"] == "alice2"
    assert names(app.get(SEARCH, {"username": "alice2"}, headers=ADMIN, status=200)) == ["alice2"]


def test_rename_changes_only_case(app):
    user = app.put_json(USER + "?username=alice", {"name": "Alice"}, headers=ADMIN, status=200).json
    assert user["name"] == "Alice"
    assert app.get(MYSELF, headers=ALICE, status=200).json["name"] == "Alice"


def test_rename_to_non_ascii(app):
    user = app.put_json(USER + "?username=bob", {"name": "Bøb Ñame"}, headers=ADMIN, status=200).json
    assert user["key"] == "JIRAUSER10101"
    assert app.get(MYSELF, headers=basic_bytes("Bøb Ñame:bob".encode()), status=200).json["key"] == "JIRAUSER10101"


def test_renamed_user_keeps_session(app):
    value = login(app, "bob", "bob")
    app.put_json(USER + "?username=bob", {"name": "robert"}, headers=ADMIN, status=200)
    resp = app.get(MYSELF, headers=session_cookie(value), status=200)
    assert resp.json["name"] == "robert"
    assert resp.headers["X-AUSERNAME"] == "robert"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "BOB"}, "username"),
        ({"name": "a:b"}, "username"),
        ({"name": ""}, "username"),
        ({"name": 1}, "username"),
        ({"active": "false"}, "active"),
        ({"key": "JIRAUSER1"}, "key"),
        ({"emailAddress": "nope"}, "emailAddress"),
        ({"displayName": ""}, "displayName"),
        ({"colour": "red"}, "colour"),
        ({"displayName": "Changed", "emailAddress": "nope"}, "emailAddress"),
        ({"name": "renamed", "active": "no"}, "active"),
    ],
)
def test_update_bad_fields_change_nothing(app, body, field):
    before = app.get(USER, {"username": "alice"}, headers=ADMIN, status=200).json
    resp = app.put_json(USER + "?username=alice", body, headers=ADMIN, status=400)
    assert_json(resp)
    assert field in resp.json["errors"]
    assert app.get(USER, {"username": "alice"}, headers=ADMIN, status=200).json == before


def test_rename_to_existing_name_message(app):
    resp = app.put_json(USER + "?username=alice", {"name": "Bob"}, headers=ADMIN, status=400)
    assert resp.json["errors"] == {"username": "A user with that username already exists."}


def test_update_display_name_and_email(app):
    user = app.put_json(
        USER + "?username=alice",
        {"displayName": "Alice Z", "emailAddress": "az@example.com"},
        headers=ADMIN,
        status=200,
    ).json
    assert (user["displayName"], user["emailAddress"]) == ("Alice Z", "az@example.com")
    assert names(app.get(SEARCH, {"username": "az@"}, headers=ADMIN, status=200)) == ["alice"]
    assert names(app.get(SEARCH, {"username": "Alice Z"}, headers=ADMIN, status=200)) == ["alice"]


def test_update_password(app):
    app.put_json(USER + "?username=alice", {"password": "n3w"}, headers=ADMIN, status=200)
    app.get(MYSELF, headers=ALICE, status=401)
    app.get(MYSELF, headers=basic("alice", "n3w"), status=200)


def test_deactivate(app):
    user = app.put_json(USER + "?username=bob", {"active": False}, headers=ADMIN, status=200).json
    assert user["active"] is False
    assert user["key"] == "JIRAUSER10101"
    app.get(MYSELF, headers=BOB, status=401)
    assert app.get(USER, {"username": "bob"}, headers=ADMIN, status=200).json["active"] is False
    app.post_json("/rest/auth/1/session", {"username": "bob", "password": "bob"}, status=401)


def test_update_by_key(app):
    user = app.put_json(USER + "?key=JIRAUSER10101", {"displayName": "Bobby"}, headers=ADMIN, status=200).json
    assert user["displayName"] == "Bobby"


def test_update_unknown_user(app):
    resp = app.put_json(USER + "?username=ghost", {"active": False}, headers=ADMIN, status=404)
    assert_envelope(resp, "The user named 'ghost' does not exist")


def test_update_permissions(app):
    app.put_json(USER + "?username=bob", {"active": False}, headers=ALICE, status=403)
    app.put_json(USER + "?username=alice", {"name": "queen"}, headers=ALICE, status=403)
    app.put_json(USER + "?username=bob", {"active": False}, status=401)
    app.get(MYSELF, headers=BOB, status=200)
    app.get(MYSELF, headers=ALICE, status=200)


# ----- delete -----------------------------------------------------------------------------------------------------
def test_delete_user(app):
    value = login(app, "bob", "bob")
    resp = app.delete(USER + "?username=bob", headers=ADMIN, status=204)
    assert resp.body == b""
    assert_envelope(
        app.get(USER, {"username": "bob"}, headers=ADMIN, status=404), "The user named 'bob' does not exist"
    )
    app.get(MYSELF, headers=BOB, status=401)
    app.get(MYSELF, headers=session_cookie(value), status=401)
    group = app.get("/rest/api/2/group", {"groupname": "developers", "expand": "users"}, headers=ADMIN, status=200).json
    assert [u["name"] for u in group["users"]["items"]] == ["alice"]


def test_delete_user_case_insensitive_and_by_key(app):
    app.delete(USER + "?username=BOB", headers=ADMIN, status=204)
    app.delete(USER + "?key=JIRAUSER10102", headers=ADMIN, status=204)
    app.get(USER, {"username": "carol"}, headers=ADMIN, status=404)


def test_delete_unknown_user(app):
    app.delete(USER + "?username=ghost", headers=ADMIN, status=404)


def test_delete_self_is_refused(app):
    app.delete(USER + "?username=admin", headers=ADMIN, status=400)
    app.get(MYSELF, headers=ADMIN, status=200)


def test_delete_permissions(app):
    assert_envelope(app.delete(USER + "?username=bob", headers=ALICE, status=403), ADMIN_ONLY)
    app.delete(USER + "?username=bob", status=401)
    app.get(MYSELF, headers=BOB, status=200)


# ----- every admin endpoint refuses ordinary users ------------------------------------------------------------------
ADMIN_CALLS = [
    ("POST", "/rest/api/2/user", {"name": "x1", "emailAddress": "x@x.x", "displayName": "X"}),
    ("PUT", "/rest/api/2/user?username=bob", {"displayName": "X"}),
    ("DELETE", "/rest/api/2/user?username=bob", None),
    ("POST", "/rest/api/2/user/resetFailedLoginCount?username=bob", None),
    ("GET", "/rest/api/2/settings/authentication", None),
    ("PUT", "/rest/api/2/settings/authentication", {"maximumAuthenticationAttemptsAllowed": 0}),
    ("POST", "/rest/api/2/group", {"name": "g1"}),
    ("DELETE", "/rest/api/2/group?groupname=developers", None),
    ("POST", "/rest/api/2/group/user?groupname=developers", {"name": "carol"}),
    ("DELETE", "/rest/api/2/group/user?groupname=developers&username=bob", None),
    ("GET", "/rest/plugins/1.0/", None),
    ("GET", "/rest/plugins/1.0/de.resolution.apitokenauth-key", None),
    ("PUT", "/rest/plugins/1.0/de.resolution.apitokenauth-key", {"enabled": False}),
]


def call(app, method: str, path: str, body, headers, status):
    if body is None:
        return app.request(path, method=method, headers=headers, status=status)
    return app.request(path, method=method, headers=headers, json=body, status=status)


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_CALLS)
def test_admin_endpoints_refuse_non_admins(app, method, path, body):
    resp = call(app, method, path, body, ALICE, 403)
    assert_json(resp)
    assert resp.json["errorMessages"]
    resp = call(app, method, path, body, {}, 401)
    assert_envelope(resp, NOT_AUTHENTICATED)
    # Nothing changed.
    assert app.get(MYSELF, headers=BOB, status=200).json["displayName"] == "Bob Brown"
    group = app.get("/rest/api/2/group", {"groupname": "developers", "expand": "users"}, headers=ADMIN, status=200)
    assert [u["name"] for u in group.json["users"]["items"]] == ["alice", "bob"]
    assert app.get("/rest/api/2/settings/authentication", headers=ADMIN, status=200).json == {
        "maximumAuthenticationAttemptsAllowed": 3
    }
    plugin = app.get("/rest/plugins/1.0/de.resolution.apitokenauth-key", headers=ADMIN, status=200).json
    assert plugin["enabled"] is True


# ----- bad input never reaches the database -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "raw"),
    [
        ("POST", USER, '{"name":"\\ud800x","emailAddress":"a@b.c","displayName":"x"}'),
        ("POST", USER, '{"name":"ok","emailAddress":"a@b.c","displayName":"\\udfff"}'),
        ("PUT", USER + "?username=alice", '{"name":"\\ud800"}'),
        ("POST", "/rest/api/2/group", '{"name":"\\ud800"}'),
        ("POST", "/rest/api/2/group/user?groupname=developers", '{"name":"\\ud800"}'),
        ("POST", "/rest/auth/1/session", '{"username":"\\ud800","password":"x"}'),
        ("PUT", "/rest/api/2/settings/authentication", '{"\\ud800":1}'),
    ],
)
def test_unpaired_surrogates_in_json_are_400_not_500(app, method, path, raw):
    """Valid JSON syntax, but no Unicode string: refused as bad input before any lookup or write."""
    before = all_usernames(app, ADMIN)
    resp = app.request(
        path, method=method, body=raw.encode(), headers={**ADMIN, "Content-Type": "application/json"}, status=400
    )
    assert_json(resp)
    assert "surrogate" in resp.json["errorMessages"][0]
    assert all_usernames(app, ADMIN) == before
