"""The host's authentication pipeline (contract 1.3, 1.5): session cookie -> Authorization -> anonymous."""

from __future__ import annotations

import base64
import re
from urllib.parse import unquote

import pytest

from host.models import User
from tests.conftest import ADMIN, ALICE, BOB, basic, bearer
from tests.host_helpers import (
    EMILE,
    NOT_AUTHENTICATED,
    assert_envelope,
    assert_json,
    basic_bytes,
    failed_count,
    login,
    session_cookie,
)

MYSELF = "/rest/api/2/myself"
SERVER_INFO = "/rest/api/2/serverInfo"
BEARER_CHALLENGE = re.compile(r'^Bearer realm="[^"]+", error="invalid_token"$')


def assert_basic_failure(resp) -> None:
    assert resp.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    assert resp.headers["X-AUSERNAME"] == "anonymous"
    assert resp.headers["WWW-Authenticate"].startswith('Basic realm="')
    assert_envelope(resp, NOT_AUTHENTICATED)


def assert_bearer_failure(resp) -> None:
    assert resp.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    assert resp.headers["X-AUSERNAME"] == "anonymous"
    assert BEARER_CHALLENGE.match(resp.headers["WWW-Authenticate"]), resp.headers["WWW-Authenticate"]
    assert_envelope(resp, NOT_AUTHENTICATED)


# ----- success -------------------------------------------------------------------------------------------------
def test_basic_success_headers_and_body(app):
    resp = app.get(MYSELF, headers=ALICE, status=200)
    assert resp.headers["X-Seraph-LoginReason"] == "OK"
    assert resp.headers["X-AUSERNAME"] == "alice"
    assert resp.json["key"] == "JIRAUSER10100"
    assert resp.json["name"] == "alice"
    assert_json(resp)


def test_anonymous_is_reported_as_anonymous(app):
    resp = app.get(SERVER_INFO, status=200)
    assert resp.headers["X-AUSERNAME"] == "anonymous"
    assert resp.headers.get("X-Seraph-LoginReason") != "OK"


def test_bearer_token_success_headers(app, create_token):
    token = create_token(BOB, tokenDescription="auth test")["plainTextToken"]
    resp = app.get(MYSELF, headers=bearer(token), status=200)
    assert resp.headers["X-Seraph-LoginReason"] == "OK"
    assert resp.headers["X-AUSERNAME"] == "bob"
    assert resp.json["key"] == "JIRAUSER10101"


@pytest.mark.parametrize("scheme", ["Basic", "basic", "BASIC", "bAsIc"])
def test_basic_scheme_is_case_insensitive(app, scheme):
    raw = base64.b64encode(b"alice:alice").decode()
    resp = app.get(MYSELF, headers={"Authorization": f"{scheme} {raw}"}, status=200)
    assert resp.json["name"] == "alice"


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_bearer_scheme_is_case_insensitive(app, create_token, scheme):
    token = create_token(ALICE, tokenDescription="case")["plainTextToken"]
    resp = app.get(MYSELF, headers={"Authorization": f"{scheme} {token}"}, status=200)
    assert resp.json["name"] == "alice"


def test_basic_splits_on_first_colon_only(app):
    app.post_json(
        "/rest/api/2/user",
        {"name": "colonpw", "emailAddress": "c@example.com", "displayName": "Colon", "password": "pa:ss:word"},
        headers=ADMIN,
        status=201,
    )
    resp = app.get(MYSELF, headers=basic("colonpw", "pa:ss:word"), status=200)
    assert resp.json["name"] == "colonpw"
    # Splitting on the last ':' would try user "colonpw:pa:ss" with password "word".
    app.get(MYSELF, headers=basic("colonpw", "pa"), status=401)


def test_basic_username_utf8(app):
    resp = app.get(MYSELF, headers=basic_bytes(f"{EMILE}:emile".encode()), status=200)
    assert resp.json["key"] == "JIRAUSER10104"
    assert resp.json["name"] == EMILE


def test_basic_username_latin1_fallback(app):
    raw = f"{EMILE}:emile".encode("latin-1")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # the fallback is really needed for this header
    resp = app.get(MYSELF, headers=basic_bytes(raw), status=200)
    assert resp.json["key"] == "JIRAUSER10104"


def test_basic_username_is_case_insensitive(app):
    resp = app.get(MYSELF, headers=basic("ALICE", "alice"), status=200)
    assert resp.json["name"] == "alice"


def test_x_ausername_of_a_non_ascii_name_is_percent_encoded(app):
    resp = app.get(MYSELF, headers=basic_bytes(f"{EMILE}:emile".encode()), status=200)
    assert resp.headers["X-AUSERNAME"] == "%C3%89mile Zo%C3%AB"
    assert unquote(resp.headers["X-AUSERNAME"]) == EMILE


@pytest.mark.parametrize(
    ("name", "header"), [("Jane Doe", "Jane Doe"), ("j.doe+ci@x", "j.doe+ci@x"), ("100%", "100%25")]
)
def test_x_ausername_of_ascii_names(app, name, header):
    app.post_json(
        "/rest/api/2/user",
        {"name": name, "emailAddress": "j@example.com", "displayName": "J", "password": "pw"},
        headers=ADMIN,
        status=201,
    )
    resp = app.get(MYSELF, headers=basic(name, "pw"), status=200)
    assert resp.headers["X-AUSERNAME"] == header
    assert unquote(header) == name


def test_x_ausername_of_a_name_outside_latin1_is_percent_encoded(app):
    """HTTP header values cannot carry CJK characters: the name arrives UTF-8 percent-encoded."""
    name = "李雷"
    app.post_json(
        "/rest/api/2/user",
        {"name": name, "emailAddress": "li@example.com", "displayName": "Li Lei", "password": "pw"},
        headers=ADMIN,
        status=201,
    )
    resp = app.get(MYSELF, headers=basic_bytes(f"{name}:pw".encode()), status=200)
    assert resp.json["name"] == name
    header = resp.headers["X-AUSERNAME"]
    header.encode("ascii")
    assert unquote(header) == name


# ----- failures ------------------------------------------------------------------------------------------------
def test_wrong_password_failure_headers_and_envelope(app):
    resp = app.get(MYSELF, headers=basic("alice", "wrong"), status=401)
    assert_basic_failure(resp)


def test_unknown_user_failure(app, host):
    resp = app.get(MYSELF, headers=basic("nobody", "x"), status=401)
    assert_basic_failure(resp)
    assert host.users.by_name("nobody") is None


def test_bearer_failure_headers(app):
    resp = app.get(MYSELF, headers=bearer("not-a-token"), status=401)
    assert_bearer_failure(resp)


def test_bearer_with_no_value_is_rejected(app):
    resp = app.get(MYSELF, headers={"Authorization": "Bearer"}, status=401)
    assert resp.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer ")


def test_exact_401_body_for_anonymous_on_protected_endpoint(app):
    resp = app.get(MYSELF, status=401)
    assert resp.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert resp.text == (
        '{"errorMessages":["You are not authenticated. Authentication required to perform this operation."],'
        '"errors":{}}'
    )
    assert resp.headers["WWW-Authenticate"].startswith('Basic realm="')


@pytest.mark.parametrize(
    "header",
    [
        "Basic !!!notbase64!!!",
        "Basic " + base64.b64encode(b"no-colon-here").decode(),
        "Basic " + base64.b64encode(b":password-without-user").decode(),
        "Basic ",
        "Basic",
        "garbage",
        "Digest username=alice",
        "Negotiate abc",
        "Bearer two words",
    ],
)
def test_malformed_authorization_is_401_never_anonymous(app, header):
    resp = app.get(SERVER_INFO, headers={"Authorization": header}, status=401)
    assert resp.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    assert resp.headers["X-AUSERNAME"] == "anonymous"
    assert "WWW-Authenticate" in resp.headers
    assert_envelope(resp, NOT_AUTHENTICATED)


def test_rejected_basic_on_anonymous_readable_endpoint(app):
    app.get(SERVER_INFO, status=200)
    resp = app.get(SERVER_INFO, headers=basic("alice", "wrong"), status=401)
    assert_basic_failure(resp)


def test_rejected_bearer_on_anonymous_readable_endpoint(app):
    resp = app.get(SERVER_INFO, headers=bearer("garbage"), status=401)
    assert_bearer_failure(resp)


def test_rejected_credentials_on_confluence_current_user(app):
    app.get("/rest/api/user/current", status=200)
    app.get("/rest/api/user/current", headers=basic("alice", "wrong"), status=401)


def test_rejected_credentials_on_session_login_endpoint(app):
    app.post_json(
        "/rest/auth/1/session",
        {"username": "alice", "password": "alice"},
        headers=basic("bob", "wrong"),
        status=401,
    )


# ----- routing vs authentication -------------------------------------------------------------------------------
def test_unknown_path_with_rejected_credentials_is_401(app):
    resp = app.get("/rest/api/2/no-such-thing", headers=basic("alice", "wrong"), status=401)
    assert_basic_failure(resp)
    app.get("/totally/elsewhere", headers=bearer("garbage"), status=401)


def test_unknown_path_without_credentials_is_404(app):
    resp = app.get("/rest/api/2/no-such-thing", status=404)
    assert_json(resp)
    assert resp.json["errors"] == {}
    assert len(resp.json["errorMessages"]) == 1


def test_unknown_path_with_good_credentials_is_404(app):
    resp = app.get("/rest/api/2/no-such-thing", headers=ALICE, status=404)
    assert resp.headers["X-AUSERNAME"] == "alice"
    assert_json(resp)


def test_wrong_method_answers_in_the_envelope(app):
    resp = app.patch(MYSELF, headers=ALICE, status=405)
    assert_json(resp)
    assert set(resp.json) == {"errorMessages", "errors"}


def test_json_is_compact(app):
    for resp in (
        app.get(SERVER_INFO, status=200),
        app.get(MYSELF, {"expand": "groups,applicationRoles"}, headers=ALICE, status=200),
        app.get(MYSELF, status=401),
    ):
        assert_json(resp)
        assert ": " not in resp.text and ", " not in resp.text.replace("Alice Adams", "")


# ----- aliases and trailing slashes ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/rest/api/2/myself",
        "/rest/api/latest/myself",
        "/rest/api/2/myself/",
        "/rest/api/latest/myself/",
    ],
)
def test_api_alias_and_trailing_slash(app, path):
    resp = app.get(path, headers=ALICE, status=200)
    assert resp.json["name"] == "alice"


@pytest.mark.parametrize("path", ["/rest/auth/1/session", "/rest/auth/latest/session", "/rest/auth/latest/session/"])
def test_auth_alias_and_trailing_slash(app, path):
    resp = app.get(path, headers=ALICE, status=200)
    assert resp.json["name"] == "alice"


def test_alias_for_post(app):
    resp = app.post_json("/rest/auth/latest/session", {"username": "bob", "password": "bob"}, status=200)
    assert resp.json["session"]["name"] == "JSESSIONID"


def test_alias_server_info_anonymous(app):
    assert app.get("/rest/api/latest/serverInfo", status=200).json["deploymentType"] == "Server"


# ----- sessions in the pipeline --------------------------------------------------------------------------------
def test_session_cookie_authenticates(app):
    value = login(app, "alice", "alice")
    resp = app.get(MYSELF, headers=session_cookie(value), status=200)
    assert resp.json["name"] == "alice"
    assert resp.headers["X-Seraph-LoginReason"] == "OK"
    assert resp.headers["X-AUSERNAME"] == "alice"


def test_session_cookie_comes_before_authorization(app):
    value = login(app, "alice", "alice")
    headers = {**session_cookie(value), **BOB}
    assert app.get(MYSELF, headers=headers, status=200).json["name"] == "alice"


def test_unknown_cookie_falls_through_to_authorization(app):
    headers = {**session_cookie("not-a-session"), **BOB}
    assert app.get(MYSELF, headers=headers, status=200).json["name"] == "bob"


def test_unknown_cookie_alone_is_anonymous(app):
    app.get(SERVER_INFO, headers=session_cookie("not-a-session"), status=200)
    resp = app.get(MYSELF, headers=session_cookie("not-a-session"), status=401)
    assert_envelope(resp, NOT_AUTHENTICATED)


def test_unknown_cookie_with_bad_authorization_is_401(app):
    headers = {**session_cookie("not-a-session"), **basic("bob", "wrong")}
    app.get(SERVER_INFO, headers=headers, status=401)


def test_oversized_cookie_is_ignored(app):
    app.get(MYSELF, headers=session_cookie("x" * 5000), status=401)


def test_session_expires(app, clock):
    value = login(app, "alice", "alice")
    clock.advance(seconds=11 * 3600)
    app.get(MYSELF, headers=session_cookie(value), status=200)
    clock.advance(seconds=2 * 3600)
    app.get(MYSELF, headers=session_cookie(value), status=401)


# ----- deactivated users -----------------------------------------------------------------------------------------
def test_deactivated_user_cannot_use_password(app, host):
    resp = app.get(MYSELF, headers=basic("frank", "frank"), status=401)
    assert_basic_failure(resp)
    # The secret was right: it is not a failed guess.
    assert failed_count(host, "frank") == 0


def test_deactivated_user_cannot_open_a_session(app):
    resp = app.post_json("/rest/auth/1/session", {"username": "frank", "password": "frank"}, status=401)
    assert resp.json["errorMessages"] == ["Login failed"]


def test_user_deactivated_after_login_loses_session(app):
    value = login(app, "bob", "bob")
    app.get(MYSELF, headers=session_cookie(value), status=200)
    app.put_json("/rest/api/2/user?username=bob", {"active": False}, headers=ADMIN, status=200)
    app.get(MYSELF, headers=session_cookie(value), status=401)
    app.get(MYSELF, headers=BOB, status=401)


def test_session_of_user_deactivated_elsewhere_is_refused(app, host):
    """Another node deactivates the user directly in the shared database: the session row survives, but
    the user's state is checked on every request."""
    value = login(app, "bob", "bob")
    User.update(active=False).where(User.lower_name == "bob").execute()
    app.get(MYSELF, headers=session_cookie(value), status=401)
    User.update(active=True).where(User.lower_name == "bob").execute()
    assert app.get(MYSELF, headers=session_cookie(value), status=200).json["name"] == "bob"


def test_reactivated_user_can_log_in_again(app):
    app.put_json("/rest/api/2/user?username=frank", {"active": True}, headers=ADMIN, status=200)
    assert app.get(MYSELF, headers=basic("frank", "frank"), status=200).json["name"] == "frank"


def test_failed_bearer_does_not_count(app, host):
    before = {n: failed_count(host, n) for n in ("admin", "alice")}
    for _ in range(5):
        app.get(MYSELF, headers=bearer("garbage"), status=401)
    assert {n: failed_count(host, n) for n in ("admin", "alice")} == before


def test_head_is_answered_wherever_get_is(app):
    from tests.conftest import ADMIN

    resp = app.head("/rest/api/2/serverInfo", status=200)
    assert resp.body == b""
    assert app.head("/rest/api/2/myself", headers=ADMIN, status=200).body == b""
    app.head("/rest/api/2/myself", status=401)
    app.head("/rest/api/2/user/resetFailedLoginCount", headers=ADMIN, status=405)
