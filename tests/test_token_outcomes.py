"""Contract §2.6 (with §1.3, §1.4, §1.6 and §2.5): what happens when a token is presented."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from plugins.apitokenauth import tokens
from tests.conftest import ADMIN, ALICE, BASE_URL, BOB, P, basic, bearer

PLUGIN = "de.resolution.apitokenauth"
MYSELF = "/rest/api/2/myself"
SERVER_INFO = "/rest/api/2/serverInfo"
TOKENS = f"{P}/user/token"
ENDPOINTS = [MYSELF, SERVER_INFO, TOKENS]
NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."
BASIC_CHALLENGE = 'Basic realm="protected-area"'
CAPTCHA_REASON = f"CAPTCHA_CHALLENGE; login-url={BASE_URL}/login.jsp"
READ_ONLY = "This token is read-only"


def failed(host, name: str) -> int:
    return host.users.by_name(name).failed_login_count


def counters(host) -> dict[str, int]:
    return {name: failed(host, name) for name in ("admin", "alice", "bob", "carol", "dave", "frank")}


def settings(host, **changes: Any) -> None:
    host.settings.update(PLUGIN, changes)


def credentials(kind: str, username: str, token: str) -> dict[str, str]:
    return bearer(token) if kind == "bearer" else basic(username, token)


def assert_ok_as(resp, name: str, key: str, endpoint: str, token_id: int | None = None) -> None:
    assert resp.headers["X-Seraph-LoginReason"] == "OK"
    assert resp.headers["X-AUSERNAME"] == name
    if endpoint == MYSELF:
        assert resp.json["key"] == key
        assert resp.json["name"] == name
    elif endpoint == SERVER_INFO:
        assert resp.json["baseUrl"] == BASE_URL
    elif token_id is not None:
        assert token_id in [t["id"] for t in resp.json]
        assert all(t["tokenForUserKey"] == key for t in resp.json)


def assert_basic_401(resp) -> None:
    assert resp.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    assert resp.headers["X-AUSERNAME"] == "anonymous"
    assert resp.headers["WWW-Authenticate"] == BASIC_CHALLENGE
    assert resp.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert resp.json == {"errorMessages": [NOT_AUTHENTICATED], "errors": {}}


def assert_bearer_401(resp) -> None:
    assert resp.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    assert resp.headers["X-AUSERNAME"] == "anonymous"
    challenge = resp.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer realm=")
    assert 'error="invalid_token"' in challenge
    assert resp.json == {"errorMessages": [NOT_AUTHENTICATED], "errors": {}}


def assert_captcha(resp) -> None:
    assert resp.headers["X-Seraph-LoginReason"] == "AUTHENTICATION_DENIED"
    assert resp.headers["X-Authentication-Denied-Reason"] == CAPTCHA_REASON
    assert resp.headers["X-AUSERNAME"] == "anonymous"
    assert resp.json["errorMessages"] == ["Login denied"]


def lock(app, host, name: str) -> None:
    for _ in range(3):
        app.get(MYSELF, headers=basic(name, "definitely wrong"), status=401)
    assert failed(host, name) == 3


# ----- valid token -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("kind", ["bearer", "basic", "basic-other-case"])
def test_valid_token_authenticates_as_the_owner(app, host, create_token, endpoint, kind):
    created = create_token(auth=BOB)
    token = created["plainTextToken"]
    headers = bearer(token) if kind == "bearer" else basic("bob" if kind == "basic" else "BoB", token)
    resp = app.get(endpoint, headers=headers, status=200)
    assert_ok_as(resp, "bob", "JIRAUSER10101", endpoint, created["id"])
    assert counters(host) == dict.fromkeys(counters(host), 0)


def test_valid_token_for_a_token_created_on_behalf(app, create_token):
    created = create_token(auth=ADMIN, tokenForUserKey="JIRAUSER10100")
    resp = app.get(MYSELF, headers=basic("alice", created["plainTextToken"]), status=200)
    assert_ok_as(resp, "alice", "JIRAUSER10100", MYSELF)
    app.get(MYSELF, headers=basic("admin", created["plainTextToken"]), status=401)


def test_successful_basic_token_login_resets_a_non_zero_counter(app, host, create_token):
    token = create_token(auth=BOB)["plainTextToken"]
    app.get(MYSELF, headers=basic("bob", "wrong"), status=401)
    app.get(MYSELF, headers=basic("bob", "wrong"), status=401)
    assert failed(host, "bob") == 2
    app.get(MYSELF, headers=basic("bob", token), status=200)
    assert failed(host, "bob") == 0


def test_successful_bearer_use_leaves_the_counter_alone(app, host, create_token):
    token = create_token(auth=BOB)["plainTextToken"]
    app.get(MYSELF, headers=basic("bob", "wrong"), status=401)
    app.get(MYSELF, headers=bearer(token), status=200)
    assert failed(host, "bob") == 1  # Bearer carries no username: it neither counts nor resets


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_scheme_names_are_case_insensitive(app, create_token, scheme):
    token = create_token(auth=ALICE)["plainTextToken"]
    resp = app.get(MYSELF, headers={"Authorization": f"{scheme} {token}"}, status=200)
    assert resp.json["key"] == "JIRAUSER10100"


# ----- Basic with another user's username ------------------------------------------------------------------
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_basic_with_another_users_username_and_a_valid_token_is_401(app, host, create_token, endpoint):
    token = create_token(auth=BOB)["plainTextToken"]
    resp = app.get(endpoint, headers=basic("alice", token), status=401)
    assert_basic_401(resp)
    resp = app.get(endpoint, headers=basic("nobody-at-all", token), status=401)
    assert_basic_401(resp)
    assert failed(host, "bob") == 0
    app.get(MYSELF, headers=bearer(token), status=200)  # the token itself is fine


# ----- unknown / revoked / expired with Basic ----------------------------------------------------------------
def _dead_token(app, clock, create_token, kind: str) -> str:
    if kind == "unknown":
        return tokens.generate()
    created = create_token(auth=ALICE, tokenValidityTimeInMonths=1)
    if kind == "revoked":
        app.delete(f"{TOKENS}/{created['id']}", headers=ALICE, status=200)
    else:
        clock.now = created["tokenExpirationDateTimeMillis"] + 1
    return created["plainTextToken"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("kind", ["unknown", "revoked", "expired"])
def test_dead_token_with_basic_goes_to_the_password_check_and_counts(app, host, clock, create_token, kind, endpoint):
    token = _dead_token(app, clock, create_token, kind)
    before = counters(host)
    resp = app.get(endpoint, headers=basic("alice", token), status=401)
    assert_basic_401(resp)
    after = counters(host)
    assert after["alice"] == before["alice"] + 1
    assert {k: v for k, v in after.items() if k != "alice"} == {k: v for k, v in before.items() if k != "alice"}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("kind", ["unknown", "revoked", "expired"])
def test_dead_token_with_basic_and_passwords_disabled_is_401_and_counts(app, host, clock, create_token, kind, endpoint):
    token = _dead_token(app, clock, create_token, kind)
    settings(host, disableBasicAuthWithPassword=True)
    resp = app.get(endpoint, headers=basic("alice", token), status=401)
    assert_basic_401(resp)
    assert failed(host, "alice") == 1


def test_dead_tokens_with_basic_lead_to_the_captcha_lock(app, host, create_token):
    for _ in range(3):
        app.get(MYSELF, headers=basic("alice", tokens.generate()), status=401)
    assert failed(host, "alice") == 3
    assert_captcha(app.get(MYSELF, headers=ALICE, status=403))


def test_unknown_token_for_an_unknown_username_is_401(app, host):
    before = counters(host)
    assert_basic_401(app.get(MYSELF, headers=basic("ghost", tokens.generate()), status=401))
    settings(host, disableBasicAuthWithPassword=True)
    assert_basic_401(app.get(MYSELF, headers=basic("ghost", tokens.generate()), status=401))
    assert counters(host) == before


# ----- passwords disabled ----------------------------------------------------------------------------------
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_correct_password_is_refused_when_passwords_are_disabled(app, host, create_token, endpoint):
    token = create_token(auth=ALICE)["plainTextToken"]
    app.get(endpoint, headers=ALICE, status=200)  # allowed before
    settings(host, disableBasicAuthWithPassword=True)
    resp = app.get(endpoint, headers=ALICE, status=401)
    assert_basic_401(resp)
    assert failed(host, "alice") == 0  # the secret was right: no count
    assert_ok_as(app.get(endpoint, headers=basic("alice", token), status=200), "alice", "JIRAUSER10100", endpoint)
    assert_ok_as(app.get(endpoint, headers=bearer(token), status=200), "alice", "JIRAUSER10100", endpoint)


def test_wrong_password_still_counts_when_passwords_are_disabled(app, host):
    settings(host, disableBasicAuthWithPassword=True)
    assert_basic_401(app.get(MYSELF, headers=basic("alice", "wrong"), status=401))
    assert failed(host, "alice") == 1


def test_session_login_with_a_password_is_refused_when_passwords_are_disabled(app, host, create_token):
    token = create_token(auth=ALICE)["plainTextToken"]
    settings(host, disableBasicAuthWithPassword=True)
    resp = app.post_json("/rest/auth/1/session", {"username": "alice", "password": "alice"}, status=401)
    assert resp.json["errorMessages"] == ["Login failed"]
    assert failed(host, "alice") == 0
    resp = app.post_json("/rest/auth/1/session", {"username": "alice", "password": token}, status=200)
    assert resp.json["session"]["name"] == "JSESSIONID"
    app.reset()


# ----- token refused for who or where it is used -------------------------------------------------------------
def _assert_refused(resp, kind: str) -> None:
    if kind == "bearer":
        assert_bearer_401(resp)
    else:
        assert_basic_401(resp)
    text = resp.text.lower()
    for word in ("deactivat", "permission", "range", "header", "address", "inactive"):
        assert word not in text  # the reason goes to the audit log, not to the caller


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("kind", ["bearer", "basic"])
def test_token_of_a_deactivated_user_is_401(app, host, create_token, kind, endpoint):
    token = create_token(auth=BOB)["plainTextToken"]
    app.get(endpoint, headers=credentials(kind, "bob", token), status=200)
    app.put_json("/rest/api/2/user?username=bob", {"active": False}, headers=ADMIN, status=200)
    _assert_refused(app.get(endpoint, headers=credentials(kind, "bob", token), status=401), kind)
    app.put_json("/rest/api/2/user?username=bob", {"active": True}, headers=ADMIN, status=200)
    app.get(endpoint, headers=credentials(kind, "bob", token), status=200)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("kind", ["bearer", "basic"])
def test_token_of_a_user_without_use_tokens_is_401(app, host, create_token, kind, endpoint):
    carol = create_token(auth=basic("carol", "carol"))["plainTextToken"]
    alice = create_token(auth=ALICE)["plainTextToken"]
    admin = create_token(auth=ADMIN)["plainTextToken"]
    host.permissions.update({"useTokens": {"everyone": False, "groups": ["developers"]}})
    _assert_refused(app.get(endpoint, headers=credentials(kind, "carol", carol), status=401), kind)
    app.get(endpoint, headers=credentials(kind, "alice", alice), status=200)  # in the group
    app.get(endpoint, headers=credentials(kind, "admin", admin), status=200)  # sysadmins hold every permission
    app.get(endpoint, headers=basic("carol", "carol"), status=200)  # her password is not affected


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("kind", ["bearer", "basic"])
def test_token_used_outside_its_ip_ranges_is_401(app, create_token, kind, endpoint):
    token = create_token(auth=BOB, allowedIpRanges=["10.1.0.0/16", "192.0.2.7", "2001:db8::/32"])["plainTextToken"]
    headers = credentials(kind, "bob", token)
    for inside in ("10.1.2.3", "10.1.255.255", "192.0.2.7", "2001:db8::5", "::ffff:10.1.0.9"):
        resp = app.get(endpoint, headers=headers, extra_environ={"REMOTE_ADDR": inside}, status=200)
        assert resp.headers["X-AUSERNAME"] == "bob"
    for outside in ("10.2.0.1", "192.0.2.8", "127.0.0.1", "2001:db9::1", "::1"):
        resp = app.get(endpoint, headers=headers, extra_environ={"REMOTE_ADDR": outside}, status=401)
        _assert_refused(resp, kind)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("kind", ["bearer", "basic"])
def test_token_whose_header_rule_is_not_met_is_401(app, create_token, kind, endpoint):
    rules = [{"headerName": "X-Client-Id", "headerValue": "ci-42"}, {"headerName": "X-Env", "headerValue": "Prod"}]
    token = create_token(auth=BOB, headerValueAccessRules=rules)["plainTextToken"]
    headers = credentials(kind, "bob", token)
    ok = app.get(endpoint, headers={**headers, "x-client-id": "ci-42", "X-ENV": "Prod"}, status=200)
    assert ok.headers["X-AUSERNAME"] == "bob"
    for extra in (
        {},
        {"X-Client-Id": "ci-42"},  # one rule missing: every rule must match
        {"X-Client-Id": "ci-42", "X-Env": "prod"},  # value is exact (case-sensitive)
        {"X-Client-Id": "ci-4", "X-Env": "Prod"},
        {"X-Client-Id": "ci-42 ", "X-Env": "Prod"},
    ):
        _assert_refused(app.get(endpoint, headers={**headers, **extra}, status=401), kind)


# ----- Bearer failures -------------------------------------------------------------------------------------
@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "failure",
    ["garbage", "tampered", "unknown", "revoked", "expired", "deactivated", "no-use-tokens", "ip", "password"],
)
def test_bearer_failures_are_401_and_never_count(app, host, clock, create_token, failure, endpoint):
    created = create_token(auth=BOB, tokenValidityTimeInMonths=1)
    token = created["plainTextToken"]
    if failure == "garbage":
        token = "not-a-token"
    elif failure == "tampered":
        token = token[:-1] + ("A" if token[-1] != "A" else "B")
    elif failure == "unknown":
        token = tokens.generate()
    elif failure == "revoked":
        app.delete(f"{TOKENS}/{created['id']}", headers=BOB, status=200)
    elif failure == "expired":
        clock.advance(days=40)
    elif failure == "deactivated":
        app.put_json("/rest/api/2/user?username=bob", {"active": False}, headers=ADMIN, status=200)
    elif failure == "no-use-tokens":
        host.permissions.update({"useTokens": {"everyone": False, "groups": ["api-automation"]}})
    elif failure == "ip":
        token = create_token(auth=BOB, allowedIpRanges=["10.0.0.0/8"])["plainTextToken"]
    elif failure == "password":
        token = "bob"
    before = counters(host)
    assert_bearer_401(app.get(endpoint, headers=bearer(token), status=401))
    assert counters(host) == before


def test_many_bearer_failures_never_lock_the_owner(app, host, create_token):
    token = create_token(auth=BOB)["plainTextToken"]
    for _ in range(10):
        app.get(MYSELF, headers=bearer(tokens.generate()), status=401)
    assert failed(host, "bob") == 0
    app.get(MYSELF, headers=BOB, status=200)
    app.get(MYSELF, headers=basic("bob", token), status=200)


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer a b"])
def test_malformed_bearer_header_is_401(app, header):
    resp = app.get(SERVER_INFO, headers={"Authorization": header}, status=401)
    assert resp.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"


# ----- captcha lock ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_captcha_locked_username_with_basic_gets_403_for_password_and_token(app, host, create_token, endpoint):
    token = create_token(auth=ALICE)["plainTextToken"]
    lock(app, host, "alice")
    assert_captcha(app.get(endpoint, headers=ALICE, status=403))
    assert_captcha(app.get(endpoint, headers=basic("alice", token), status=403))
    assert_captcha(app.get(endpoint, headers=basic("alice", tokens.generate()), status=403))
    assert failed(host, "alice") == 3  # refused before any secret was checked
    resp = app.get(endpoint, headers=bearer(token), status=200)  # Bearer is not blocked
    assert_ok_as(resp, "alice", "JIRAUSER10100", endpoint)
    assert failed(host, "alice") == 3


def test_captcha_lock_with_passwords_disabled(app, host, create_token):
    token = create_token(auth=ALICE)["plainTextToken"]
    settings(host, disableBasicAuthWithPassword=True)
    for _ in range(3):
        app.get(MYSELF, headers=basic("alice", tokens.generate()), status=401)
    assert failed(host, "alice") == 3
    assert_captcha(app.get(MYSELF, headers=basic("alice", tokens.generate()), status=403))
    assert_captcha(app.get(MYSELF, headers=basic("alice", token), status=403))
    assert_captcha(app.get(MYSELF, headers=ALICE, status=403))
    app.get(MYSELF, headers=bearer(token), status=200)


def test_captcha_lock_applies_to_session_login_with_a_token(app, host, create_token):
    token = create_token(auth=ALICE)["plainTextToken"]
    lock(app, host, "alice")
    resp = app.post_json("/rest/auth/1/session", {"username": "alice", "password": token}, status=403)
    assert_captcha(resp)


def test_lock_lifts_when_an_admin_resets_the_counter(app, host, create_token):
    token = create_token(auth=ALICE)["plainTextToken"]
    lock(app, host, "alice")
    app.get(MYSELF, headers=basic("alice", token), status=403)
    app.post("/rest/api/2/user/resetFailedLoginCount?username=alice", headers=ADMIN, status=204)
    app.get(MYSELF, headers=basic("alice", token), status=200)


# ----- read-only tokens ------------------------------------------------------------------------------------
@pytest.fixture
def read_only(create_token) -> dict:
    return create_token(auth=ADMIN, tokenScope=1, tokenDescription="read-only")


@pytest.mark.parametrize("kind", ["bearer", "basic"])
@pytest.mark.parametrize(
    "method, path, body",
    [
        ("POST", "/rest/api/2/group", {"name": "ro-group"}),
        ("PUT", "/rest/api/2/user?username=bob", {"displayName": "Changed"}),
        ("DELETE", "/rest/api/2/group?groupname=developers", None),
        ("DELETE", f"{TOKENS}/ID", None),
        ("PATCH", f"{TOKENS}/ID", {"tokenDescription": "changed"}),
        ("POST", "/rest/api/2/user", {"name": "eve", "emailAddress": "e@x.org", "displayName": "Eve"}),
    ],
)
def test_read_only_token_is_refused_write_methods(app, host, read_only, kind, method, path, body):
    headers = credentials(kind, "admin", read_only["plainTextToken"])
    path = path.replace("ID", str(read_only["id"]))
    resp = app.request(
        path,
        method=method,
        headers={**headers, "Content-Type": "application/json"},
        body=b"" if body is None else json.dumps(body).encode(),
        status=403,
    )
    assert resp.json["errorMessages"] == [READ_ONLY]
    # nothing changed
    assert host.users.group_by_name("ro-group") is None
    assert host.users.group_by_name("developers") is not None
    assert host.users.by_name("bob").display_name == "Bob Brown"
    assert host.users.by_name("eve") is None
    items = app.get(TOKENS, headers=ADMIN, status=200).json
    assert [(i["id"], i["description"]) for i in items] == [(read_only["id"], "read-only")]


@pytest.mark.parametrize("endpoint", ENDPOINTS + ["/rest/api/2/user?username=bob", f"{P}/user/authTest"])
def test_read_only_token_may_read(app, read_only, endpoint):
    resp = app.get(endpoint, headers=bearer(read_only["plainTextToken"]), status=200)
    assert resp.headers["X-AUSERNAME"] == "admin"


def test_read_only_token_may_create_a_read_only_token(app, read_only):
    child = app.post_json(
        TOKENS, {"tokenDescription": "child", "tokenScope": 2}, headers=bearer(read_only["plainTextToken"]), status=200
    ).json
    assert child["tokenScope"] == 1
    resp = app.post_json("/rest/api/2/group", {"name": "x"}, headers=bearer(child["plainTextToken"]), status=403)
    assert resp.json["errorMessages"] == [READ_ONLY]


def test_read_only_token_session_is_read_only(app, host, read_only):
    token = read_only["plainTextToken"]
    resp = app.post_json("/rest/auth/1/session", {"username": "admin", "password": token}, status=200)
    value = resp.json["session"]["value"]
    app.reset()
    cookie = {"Cookie": f"JSESSIONID={value}"}
    assert app.get(MYSELF, headers=cookie, status=200).json["key"] == "admin"
    resp = app.post_json("/rest/api/2/group", {"name": "via-session"}, headers=cookie, status=403)
    assert resp.json["errorMessages"]
    assert host.users.group_by_name("via-session") is None


def test_read_only_token_may_call_the_session_endpoint_itself(app, read_only):
    resp = app.post_json(
        "/rest/auth/1/session",
        {"username": "admin", "password": read_only["plainTextToken"]},
        headers=bearer(read_only["plainTextToken"]),
        status=200,
    )
    value = resp.json["session"]["value"]
    app.reset()
    app.post_json("/rest/api/2/group", {"name": "x"}, headers={"Cookie": f"JSESSIONID={value}"}, status=403)


def test_read_write_token_session_may_write(app, host, create_token):
    token = create_token(auth=ADMIN, tokenScope=2)["plainTextToken"]
    value = app.post_json("/rest/auth/1/session", {"username": "admin", "password": token}, status=200).json["session"][
        "value"
    ]
    app.reset()
    app.post_json("/rest/api/2/group", {"name": "rw"}, headers={"Cookie": f"JSESSIONID={value}"}, status=201)


def test_read_write_token_may_write(app, host, create_token):
    token = create_token(auth=ADMIN, tokenScope=2)["plainTextToken"]
    app.post_json("/rest/api/2/group", {"name": "rw-token"}, headers=bearer(token), status=201)
    assert host.users.group_by_name("rw-token") is not None


# ----- plugin disabled -------------------------------------------------------------------------------------
def _disable(app, host, how: str, enabled: bool) -> None:
    if how == "api":
        host.plugins.set_enabled(PLUGIN, enabled)
    else:
        resp = app.put_json(f"/rest/plugins/1.0/{PLUGIN}-key", {"enabled": enabled}, headers=ADMIN, status=200)
        assert resp.json["enabled"] is enabled


@pytest.mark.parametrize("how", ["api", "rest"])
def test_disabled_plugin_behaves_as_if_the_token_did_not_exist(app, host, create_token, how):
    created = create_token(auth=BOB)
    token = created["plainTextToken"]
    _disable(app, host, how, False)

    assert_bearer_401(app.get(MYSELF, headers=bearer(token), status=401))
    assert_bearer_401(app.get(SERVER_INFO, headers=bearer(token), status=401))
    assert failed(host, "bob") == 0
    assert_basic_401(app.get(MYSELF, headers=basic("bob", token), status=401))
    assert failed(host, "bob") == 1  # the password check refused it and counted it
    app.get(TOKENS, headers=BOB, status=404)  # the plugin's routes are gone
    app.post_json(TOKENS, {}, headers=BOB, status=404)
    app.get(MYSELF, headers=BOB, status=200)  # passwords still work

    _disable(app, host, how, True)
    resp = app.get(MYSELF, headers=bearer(token), status=200)
    assert_ok_as(resp, "bob", "JIRAUSER10101", MYSELF)
    app.get(MYSELF, headers=basic("bob", token), status=200)
    assert [i["id"] for i in app.get(TOKENS, headers=BOB, status=200).json] == [created["id"]]


def test_disabled_plugin_does_not_refuse_passwords(app, host):
    settings(host, disableBasicAuthWithPassword=True)
    app.get(MYSELF, headers=ALICE, status=401)
    host.plugins.set_enabled(PLUGIN, False)
    app.get(MYSELF, headers=ALICE, status=200)


def test_re_enabling_does_not_revive_expired_or_revoked_tokens(app, host, clock, create_token):
    short = create_token(auth=BOB, tokenValidityTimeInMonths=1)
    revoked = create_token(auth=BOB, tokenValidityTimeInMonths=12)
    alive = create_token(auth=BOB, tokenValidityTimeInMonths=12)
    app.delete(f"{TOKENS}/{revoked['id']}", headers=BOB, status=200)
    host.plugins.set_enabled(PLUGIN, False)
    clock.advance(days=40)
    host.plugins.set_enabled(PLUGIN, True)
    app.get(MYSELF, headers=bearer(short["plainTextToken"]), status=401)
    app.get(MYSELF, headers=bearer(revoked["plainTextToken"]), status=401)
    app.get(MYSELF, headers=bearer(alive["plainTextToken"]), status=200)


# ----- a Basic secret failing the checksum is a password ---------------------------------------------------
def test_tampered_token_with_basic_is_treated_as_a_password(app, host, create_token):
    token = create_token(auth=ALICE)["plainTextToken"]
    tampered = token[:10] + ("x" if token[10] != "x" else "y") + token[11:]
    assert not tokens.looks_like_token(tampered)
    assert_basic_401(app.get(MYSELF, headers=basic("alice", tampered), status=401))
    assert failed(host, "alice") == 1


def test_password_shaped_like_a_token_prefix_is_still_a_password(app, host):
    """A user whose password merely starts with the prefix logs in with it (it fails the checksum)."""
    secret = tokens.PREFIX + "my-password-123"
    app.put_json("/rest/api/2/user?username=bob", {"password": secret}, headers=ADMIN, status=200)
    resp = app.get(MYSELF, headers=basic("bob", secret), status=200)
    assert resp.json["key"] == "JIRAUSER10101"
    settings(host, disableBasicAuthWithPassword=True)
    app.get(MYSELF, headers=basic("bob", secret), status=401)
    assert failed(host, "bob") == 0


def test_tampered_token_with_basic_counts_when_passwords_are_disabled(app, host, create_token):
    token = create_token(auth=ALICE)["plainTextToken"]
    settings(host, disableBasicAuthWithPassword=True)
    tampered = token[:-1] + ("0" if token[-1] != "0" else "1")
    assert_basic_401(app.get(MYSELF, headers=basic("alice", tampered), status=401))
    assert failed(host, "alice") == 1


# ----- credentials are never anonymous ----------------------------------------------------------------------
@pytest.mark.parametrize("path", [SERVER_INFO, "/rest/no/such/path"])
def test_rejected_token_is_401_even_where_anonymous_may_read(app, path):
    app.get(path, status=200 if path == SERVER_INFO else 404)
    assert_bearer_401(app.get(path, headers=bearer(tokens.generate()), status=401))
    assert_basic_401(app.get(path, headers=basic("alice", tokens.generate()), status=401))


# ----- usernames ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_basic_token_with_a_non_ascii_username(app, create_token, encoding):
    name = "Émile Zoë"
    token = create_token(auth=basic(name, "emile"))["plainTextToken"]
    raw = f"{name}:{token}".encode(encoding)
    headers = {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}
    assert app.get(MYSELF, headers=headers, status=200).json["key"] == "JIRAUSER10104"


def test_token_follows_its_user_through_a_rename(app, host, create_token):
    token = create_token(auth=BOB)["plainTextToken"]
    app.put_json("/rest/api/2/user?username=bob", {"name": "robert"}, headers=ADMIN, status=200)
    assert app.get(MYSELF, headers=basic("robert", token), status=200).json["key"] == "JIRAUSER10101"
    assert app.get(MYSELF, headers=bearer(token), status=200).json["name"] == "robert"
    assert_basic_401(app.get(MYSELF, headers=basic("bob", token), status=401))


def test_deleting_a_user_deletes_their_tokens(app, host, create_token):
    created = create_token(auth=BOB)
    create_token(auth=ALICE)
    app.delete("/rest/api/2/user?username=bob", headers=ADMIN, status=204)
    assert_bearer_401(app.get(MYSELF, headers=bearer(created["plainTextToken"]), status=401))
    rows = host.db.execute_sql("SELECT user_key FROM apitokenauth_token").fetchall()
    assert rows == [("JIRAUSER10100",)]


def test_read_only_token_may_send_options(app, read_only):
    resp = app.options(MYSELF, headers=bearer(read_only["plainTextToken"]), status=200)
    assert resp.headers["X-Seraph-LoginReason"] == "OK"


# ----- client address behind proxies (for allowedIpRanges) -----------------------------------------------------
def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(app, host, create_token):
    token = create_token(auth=BOB, allowedIpRanges=["10.1.0.0/16"])["plainTextToken"]
    spoofed = {**bearer(token), "X-Forwarded-For": "10.1.2.3"}
    app.get(MYSELF, headers=spoofed, extra_environ={"REMOTE_ADDR": "203.0.113.5"}, status=401)
    settings(host, trustedProxies=["127.0.0.1"])
    app.get(MYSELF, headers=spoofed, extra_environ={"REMOTE_ADDR": "203.0.113.5"}, status=401)  # peer not trusted
    resp = app.get(MYSELF, headers=spoofed, extra_environ={"REMOTE_ADDR": "127.0.0.1"}, status=200)
    assert resp.json["key"] == "JIRAUSER10101"


@pytest.mark.parametrize(
    "forwarded, status",
    [
        ("10.1.2.3", 200),
        ("10.1.2.3, 192.168.0.5", 200),  # rightmost address that is not itself a trusted proxy
        ("10.1.2.3, 203.0.113.9", 401),  # a client-supplied leftmost entry is not believed
        ("203.0.113.9, 10.1.2.3", 200),
        ("192.168.0.7, 192.168.0.5", 401),  # all trusted: the leftmost, outside the token's range
        ("not-an-ip", 401),
    ],
)
def test_client_address_is_the_rightmost_untrusted_forwarded_address(app, host, create_token, forwarded, status):
    token = create_token(auth=BOB, allowedIpRanges=["10.1.0.0/16"])["plainTextToken"]
    settings(host, trustedProxies=["127.0.0.1", "192.168.0.0/16"])
    headers = {**bearer(token), "X-Forwarded-For": forwarded}
    app.get(MYSELF, headers=headers, extra_environ={"REMOTE_ADDR": "127.0.0.1"}, status=status)


def test_client_ip_header_is_configurable(app, host, create_token):
    token = create_token(auth=BOB, allowedIpRanges=["10.1.0.0/16"])["plainTextToken"]
    settings(host, trustedProxies=["127.0.0.1"], clientIpHeader="X-Real-IP")
    app.get(MYSELF, headers={**bearer(token), "X-Forwarded-For": "10.1.2.3"}, status=401)
    app.get(MYSELF, headers={**bearer(token), "X-Real-IP": "10.1.2.3"}, status=200)
