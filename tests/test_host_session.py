"""Jira cookie sessions: /rest/auth/1/session (contract 1.5)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import ADMIN, ALICE, basic, bearer
from tests.host_helpers import (
    EMILE,
    NOT_AUTHENTICATED,
    assert_envelope,
    assert_json,
    failed_count,
    login,
    session_cookie,
)

SESSION = "/rest/auth/1/session"
MYSELF = "/rest/api/2/myself"


def test_login_returns_session_and_cookie(app):
    resp = app.post_json(SESSION, {"username": "alice", "password": "alice"}, status=200)
    assert_json(resp)
    body = resp.json
    assert set(body) == {"session", "loginInfo"}
    assert body["session"]["name"] == "JSESSIONID"
    value = body["session"]["value"]
    assert isinstance(value, str) and len(value) >= 32
    assert isinstance(body["loginInfo"], dict)
    assert body["loginInfo"]["loginCount"] == 1
    assert body["loginInfo"]["failedLoginCount"] == 0
    cookies = resp.headers.getall("Set-Cookie")
    assert len(cookies) == 1
    cookie = cookies[0]
    assert cookie.startswith(f"JSESSIONID={value};")
    assert re.search(r";\s*HttpOnly", cookie, re.IGNORECASE)
    assert re.search(r";\s*Path=/(;|$)", cookie, re.IGNORECASE)
    assert resp.headers["X-Seraph-LoginReason"] == "OK"
    assert resp.headers["X-AUSERNAME"] == "alice"


def test_each_login_is_a_new_session(app):
    first = login(app, "alice", "alice")
    second = login(app, "alice", "alice")
    assert first != second
    for value in (first, second):
        assert app.get(MYSELF, headers=session_cookie(value), status=200).json["name"] == "alice"


def test_login_counts_logins_and_reports_failures(app):
    app.post_json(SESSION, {"username": "bob", "password": "wrong"}, status=401)
    login(app, "bob", "bob")
    resp = app.post_json(SESSION, {"username": "bob", "password": "bob"}, status=200)
    info = resp.json["loginInfo"]
    assert info["loginCount"] == 2
    assert info["failedLoginCount"] == 0
    assert "previousLoginTime" in info
    assert "lastFailedLoginTime" in info


def test_cookie_authenticates_rest_calls(app):
    value = login(app, "alice", "alice")
    resp = app.get(MYSELF, headers=session_cookie(value), status=200)
    assert resp.json["key"] == "JIRAUSER10100"
    assert resp.headers["X-AUSERNAME"] == "alice"


def test_cookie_from_the_client_jar(app):
    """A cookie-keeping client (as a browser) is logged in by the Set-Cookie answer alone."""
    app.post_json(SESSION, {"username": "bob", "password": "bob"}, status=200)
    assert app.get(MYSELF, status=200).json["name"] == "bob"


def test_login_username_is_case_insensitive(app):
    value = login(app, "ALICE", "alice")
    assert app.get(MYSELF, headers=session_cookie(value), status=200).json["name"] == "alice"


def test_login_non_ascii_username(app):
    value = login(app, EMILE, "emile")
    assert app.get(MYSELF, headers=session_cookie(value), status=200).json["key"] == "JIRAUSER10104"


# ----- GET ---------------------------------------------------------------------------------------------------------
def assert_session_doc(resp, name: str) -> None:
    assert_json(resp)
    doc = resp.json
    assert set(doc) == {"self", "name", "loginInfo"}
    assert doc["name"] == name
    parts = urlsplit(doc["self"])
    assert doc["self"].startswith("http://jira.test/rest/api/")
    assert parts.path.endswith("/user")
    assert parse_qs(parts.query) == {"username": [name]}
    assert isinstance(doc["loginInfo"], dict)


def test_get_session_with_cookie(app):
    value = login(app, "alice", "alice")
    assert_session_doc(app.get(SESSION, headers=session_cookie(value), status=200), "alice")


def test_get_session_with_basic(app):
    assert_session_doc(app.get(SESSION, headers=ALICE, status=200), "alice")


def test_get_session_with_bearer_token(app, create_token):
    token = create_token(ADMIN, tokenDescription="session get")["plainTextToken"]
    assert_session_doc(app.get(SESSION, headers=bearer(token), status=200), "admin")


def test_get_session_non_ascii_self_is_encoded(app):
    value = login(app, EMILE, "emile")
    resp = app.get(SESSION, headers=session_cookie(value), status=200)
    assert " " not in resp.json["self"]
    assert_session_doc(resp, EMILE)


def test_get_session_anonymous(app):
    assert_envelope(app.get(SESSION, status=401), NOT_AUTHENTICATED)


def test_get_session_with_dead_cookie(app):
    app.get(SESSION, headers=session_cookie("no-such-session"), status=401)


# ----- DELETE ------------------------------------------------------------------------------------------------------
def test_logout(app):
    value = login(app, "alice", "alice")
    other = login(app, "alice", "alice")
    resp = app.delete(SESSION, headers=session_cookie(value), status=204)
    assert resp.body == b""
    cleared = resp.headers.get("Set-Cookie", "")
    assert cleared.startswith("JSESSIONID=")
    app.get(MYSELF, headers=session_cookie(value), status=401)
    app.get(SESSION, headers=session_cookie(value), status=401)
    # Another session of the same user is not affected.
    app.get(MYSELF, headers=session_cookie(other), status=200)


def test_logout_twice(app):
    value = login(app, "alice", "alice")
    app.delete(SESSION, headers=session_cookie(value), status=204)
    app.delete(SESSION, headers=session_cookie(value), status=401)


def test_logout_without_session(app):
    app.delete(SESSION, status=401)
    app.delete(SESSION, headers=ALICE, status=401)


def test_logout_on_alias(app):
    value = login(app, "bob", "bob")
    app.delete("/rest/auth/latest/session", headers=session_cookie(value), status=204)
    app.get(MYSELF, headers=session_cookie(value), status=401)


# ----- failures ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("username", "password"),
    [("alice", "wrong"), ("ghost", "x"), ("frank", "frank"), ("alice", ""), ("alice", "alice ")],
)
def test_login_failed(app, username, password):
    resp = app.post_json(SESSION, {"username": username, "password": password}, status=401)
    assert resp.text == '{"errorMessages":["Login failed"],"errors":{}}'
    assert resp.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert resp.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    assert resp.headers["X-AUSERNAME"] == "anonymous"
    assert "Set-Cookie" not in resp.headers


def test_failed_login_counts(app, host):
    app.post_json(SESSION, {"username": "alice", "password": "wrong"}, status=401)
    assert failed_count(host, "alice") == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "username"),
        ({"password": "alice"}, "username"),
        ({"username": "alice"}, "password"),
        ({"username": "", "password": "alice"}, "username"),
        ({"username": 5, "password": "alice"}, "username"),
        ({"username": ["alice"], "password": "alice"}, "username"),
        ({"username": "alice", "password": 5}, "password"),
        ({"username": "alice", "password": None}, "password"),
    ],
)
def test_login_bad_fields(app, host, body, field):
    resp = app.post_json(SESSION, body, status=400)
    assert_json(resp)
    assert field in resp.json["errors"]
    assert resp.json["errors"][field]
    assert failed_count(host, "alice") == 0


@pytest.mark.parametrize(
    ("raw", "content_type", "status"),
    [
        (b"username=alice&password=alice", "application/x-www-form-urlencoded", 415),
        (b'{"username":"alice","password":"alice"}', "text/plain", 415),
        (b"{not json", "application/json", 400),
        (b'["alice","alice"]', "application/json", 400),
        (b"", "application/json", 400),
        (b"\xff\xfe", "application/json", 400),
    ],
)
def test_login_bad_bodies(app, raw, content_type, status):
    resp = app.post(SESSION, raw, headers={"Content-Type": content_type}, status=status)
    assert_json(resp)
    assert resp.json["errorMessages"]
    assert "Set-Cookie" not in resp.headers


def test_login_oversized_body(app):
    big = b'{"username":"alice","password":"' + b"x" * (1024 * 1024 + 10) + b'"}'
    app.post(SESSION, big, headers={"Content-Type": "application/json"}, status=413)


# ----- tokens as the password ---------------------------------------------------------------------------------------
def test_session_with_token_as_password(app, create_token):
    token = create_token(ALICE, tokenDescription="session")["plainTextToken"]
    value = login(app, "alice", token)
    me = app.get(MYSELF, headers=session_cookie(value), status=200).json
    assert me["name"] == "alice"
    assert_session_doc(app.get(SESSION, headers=session_cookie(value), status=200), "alice")


def test_session_with_someone_elses_token_fails(app, create_token):
    token = create_token(ALICE, tokenDescription="session")["plainTextToken"]
    resp = app.post_json(SESSION, {"username": "bob", "password": token}, status=401)
    assert resp.json["errorMessages"] == ["Login failed"]


def test_session_read_only_for_basic_user(app):
    """A password session may write (e.g. an admin creating a group with the cookie)."""
    value = login(app, "admin", "admin")
    app.post_json("/rest/api/2/group", {"name": "from-session"}, headers=session_cookie(value), status=201)


def test_login_while_already_authenticated_as_someone_else(app):
    value = login(app, "alice", "alice")
    resp = app.post_json(SESSION, {"username": "bob", "password": "bob"}, headers=session_cookie(value), status=200)
    new_value = resp.json["session"]["value"]
    app.reset()
    assert app.get(MYSELF, headers=session_cookie(new_value), status=200).json["name"] == "bob"


def test_login_with_basic_header_of_same_user(app):
    resp = app.post_json(
        SESSION, {"username": "alice", "password": "alice"}, headers=basic("alice", "alice"), status=200
    )
    assert resp.json["session"]["name"] == "JSESSIONID"
