"""Failed-login counter and captcha lockout (contract 1.4) and its admin endpoints (1.5)."""

from __future__ import annotations

import pytest

from host.models import User
from tests.conftest import ADMIN, ALICE, BOB, basic, bearer
from tests.host_helpers import (
    CAPTCHA_REASON,
    NOT_AUTHENTICATED,
    assert_envelope,
    assert_json,
    failed_count,
    login,
    session_cookie,
)

MYSELF = "/rest/api/2/myself"
SESSION = "/rest/auth/1/session"
RESET = "/rest/api/2/user/resetFailedLoginCount"
SETTINGS = "/rest/api/2/settings/authentication"
FIELD = "maximumAuthenticationAttemptsAllowed"


def fail(app, name: str = "alice", times: int = 1) -> None:
    for _ in range(times):
        app.get(MYSELF, headers=basic(name, "wrong"), status=401)


def assert_captcha(resp) -> None:
    assert resp.headers["X-Seraph-LoginReason"] == "AUTHENTICATION_DENIED"
    assert resp.headers["X-Authentication-Denied-Reason"] == CAPTCHA_REASON
    assert resp.headers["Content-Type"] == "application/json;charset=UTF-8"


# ----- the counter -----------------------------------------------------------------------------------------------
def test_each_wrong_password_counts(app, host):
    assert failed_count(host, "alice") == 0
    for expected in (1, 2, 3):
        resp = app.get(MYSELF, headers=basic("alice", "wrong"), status=401)
        assert resp.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
        assert failed_count(host, "alice") == expected
    assert failed_count(host, "bob") == 0


def test_username_case_does_not_matter_for_the_counter(app, host):
    app.get(MYSELF, headers=basic("ALICE", "wrong"), status=401)
    app.get(MYSELF, headers=basic("Alice", "wrong"), status=401)
    assert failed_count(host, "alice") == 2


def test_default_limit_locks_the_fourth_attempt_even_with_the_right_password(app, host):
    fail(app, times=3)
    resp = app.get(MYSELF, headers=ALICE, status=403)
    assert_captcha(resp)
    assert resp.headers["X-AUSERNAME"] == "anonymous"
    assert_envelope(resp, "Login denied")
    # Refused before any secret was checked: the counter does not move any more.
    app.get(MYSELF, headers=basic("alice", "wrong"), status=403)
    assert failed_count(host, "alice") == 3
    # Other users are not affected.
    app.get(MYSELF, headers=BOB, status=200)


def test_lock_applies_on_anonymous_endpoints_and_unknown_paths(app):
    fail(app, times=3)
    assert_captcha(app.get("/rest/api/2/serverInfo", headers=ALICE, status=403))
    assert_captcha(app.get("/rest/api/2/nothing-here", headers=ALICE, status=403))


def test_session_login_refused_when_locked(app):
    fail(app, times=3)
    resp = app.post_json(SESSION, {"username": "alice", "password": "alice"}, status=403)
    assert resp.text == '{"errorMessages":["Login denied"],"errors":{}}'
    assert_captcha(resp)


def test_failed_session_logins_count_and_lock(app, host):
    for expected in (1, 2, 3):
        resp = app.post_json(SESSION, {"username": "alice", "password": "wrong"}, status=401)
        assert resp.json["errorMessages"] == ["Login failed"]
        assert failed_count(host, "alice") == expected
    assert_captcha(app.post_json(SESSION, {"username": "alice", "password": "alice"}, status=403))
    assert_captcha(app.get(MYSELF, headers=ALICE, status=403))


def test_existing_session_keeps_working_under_the_lock(app):
    """The lock is about logging in; a session opened before keeps its user (as in Jira)."""
    value = login(app, "alice", "alice")
    fail(app, times=3)
    assert app.get(MYSELF, headers=session_cookie(value), status=200).json["name"] == "alice"


def test_successful_login_below_the_limit_resets_the_counter(app, host):
    fail(app, times=2)
    assert failed_count(host, "alice") == 2
    app.get(MYSELF, headers=ALICE, status=200)
    assert failed_count(host, "alice") == 0
    # So three more failures are needed for the lock.
    fail(app, times=2)
    app.get(MYSELF, headers=ALICE, status=200)


def test_successful_session_login_resets_the_counter(app, host):
    fail(app, times=2)
    login(app, "alice", "alice")
    assert failed_count(host, "alice") == 0


def test_unknown_username_failures_do_not_crash_or_create_anything(app, host):
    for _ in range(5):
        resp = app.get(MYSELF, headers=basic("ghost", "x"), status=401)
        assert resp.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
        app.post_json(SESSION, {"username": "ghost", "password": "x"}, status=401)
    assert host.users.by_name("ghost") is None


def test_counter_is_an_atomic_sql_increment(app, host, monkeypatch):
    """Another node records a failure for the same user while this request checks the password: both
    increments must survive (a read-modify-write from the row read before the check would lose one)."""
    real_verify = host.hasher.verify

    def verify_while_another_node_fails(password: str, hashed: str) -> bool:
        User.update(failed_login_count=User.failed_login_count + 1).where(User.lower_name == "alice").execute()
        return real_verify(password, hashed)

    monkeypatch.setattr(host.hasher, "verify", verify_while_another_node_fails)
    app.get(MYSELF, headers=basic("alice", "wrong"), status=401)
    assert failed_count(host, "alice") == 2


def test_counter_changed_by_another_node_is_seen(app, host):
    User.update(failed_login_count=3).where(User.lower_name == "alice").execute()
    assert_captcha(app.get(MYSELF, headers=ALICE, status=403))
    User.update(failed_login_count=0).where(User.lower_name == "alice").execute()
    app.get(MYSELF, headers=ALICE, status=200)


def test_locked_user_with_correct_token_over_basic_is_refused(app, create_token):
    token = create_token(ALICE, tokenDescription="captcha")["plainTextToken"]
    fail(app, times=3)
    assert_captcha(app.get(MYSELF, headers=basic("alice", token), status=403))


def test_locked_user_with_token_as_bearer_is_not_blocked(app, host, create_token):
    token = create_token(ALICE, tokenDescription="captcha")["plainTextToken"]
    fail(app, times=3)
    assert app.get(MYSELF, headers=bearer(token), status=200).json["name"] == "alice"
    assert failed_count(host, "alice") == 3


# ----- reset ---------------------------------------------------------------------------------------------------------
def test_admin_reset_lifts_the_lock(app, host):
    fail(app, times=3)
    app.get(MYSELF, headers=ALICE, status=403)
    resp = app.post(f"{RESET}?username=alice", headers=ADMIN, status=204)
    assert resp.body == b""
    assert failed_count(host, "alice") == 0
    assert app.get(MYSELF, headers=ALICE, status=200).json["name"] == "alice"


def test_reset_username_is_case_insensitive(app, host):
    fail(app, times=3)
    app.post(f"{RESET}?username=ALICE", headers=ADMIN, status=204)
    assert failed_count(host, "alice") == 0


def test_reset_on_the_latest_alias(app, host):
    fail(app, times=3)
    app.post("/rest/api/latest/user/resetFailedLoginCount?username=alice", headers=ADMIN, status=204)
    assert failed_count(host, "alice") == 0


def test_reset_by_non_admin_is_forbidden(app, host):
    fail(app, times=3)
    resp = app.post(f"{RESET}?username=alice", headers=BOB, status=403)
    assert_json(resp)
    assert failed_count(host, "alice") == 3


def test_reset_anonymous_is_401(app, host):
    fail(app, times=3)
    assert_envelope(app.post(f"{RESET}?username=alice", status=401), NOT_AUTHENTICATED)
    assert failed_count(host, "alice") == 3


def test_reset_unknown_user_is_404(app):
    resp = app.post(f"{RESET}?username=ghost", headers=ADMIN, status=404)
    assert_envelope(resp, "The user named 'ghost' does not exist")


def test_reset_without_username_is_400(app):
    resp = app.post(RESET, headers=ADMIN, status=400)
    assert resp.json["errorMessages"] == ["The query parameter 'username' has not been specified"]


def test_locked_admin_can_be_reset_by_another_admin(app, host):
    app.post_json("/rest/api/2/group/user?groupname=jira-administrators", {"name": "carol"}, headers=ADMIN, status=201)
    fail(app, name="admin", times=3)
    app.get(MYSELF, headers=ADMIN, status=403)
    app.post(f"{RESET}?username=admin", headers=basic("carol", "carol"), status=204)
    app.get(MYSELF, headers=ADMIN, status=200)


# ----- the setting ----------------------------------------------------------------------------------------------------
def test_settings_default(app):
    resp = app.get(SETTINGS, headers=ADMIN, status=200)
    assert resp.text == '{"maximumAuthenticationAttemptsAllowed":3}'
    assert_json(resp)


def test_settings_put_changes_the_limit(app, host):
    resp = app.put_json(SETTINGS, {FIELD: 5}, headers=ADMIN, status=200)
    assert resp.json == {FIELD: 5}
    assert app.get(SETTINGS, headers=ADMIN, status=200).json == {FIELD: 5}
    fail(app, times=4)
    app.get(MYSELF, headers=basic("alice", "wrong"), status=401)  # the 5th failure is still checked
    assert failed_count(host, "alice") == 5
    assert_captcha(app.get(MYSELF, headers=ALICE, status=403))


def test_settings_limit_of_one(app):
    app.put_json(SETTINGS, {FIELD: 1}, headers=ADMIN, status=200)
    fail(app, times=1)
    app.get(MYSELF, headers=ALICE, status=403)


def test_lowering_the_limit_locks_users_already_over_it(app):
    fail(app, times=2)
    app.get(MYSELF, headers=BOB, status=200)
    app.put_json(SETTINGS, {FIELD: 2}, headers=ADMIN, status=200)
    app.get(MYSELF, headers=ALICE, status=403)


@pytest.mark.parametrize("value", [None, 0])
def test_null_or_zero_disables_the_lock(app, host, value):
    resp = app.put_json(SETTINGS, {FIELD: value}, headers=ADMIN, status=200)
    assert resp.json == {FIELD: 0}
    assert app.get(SETTINGS, headers=ADMIN, status=200).json == {FIELD: 0}
    fail(app, times=10)
    assert failed_count(host, "alice") == 10  # still counted
    assert app.get(MYSELF, headers=ALICE, status=200).json["name"] == "alice"
    assert failed_count(host, "alice") == 0


def test_disabling_lifts_an_existing_lock_and_re_enabling_restores_it(app):
    fail(app, times=3)
    app.get(MYSELF, headers=ALICE, status=403)
    app.put_json(SETTINGS, {FIELD: 0}, headers=ADMIN, status=200)
    fail(app, times=3)
    app.put_json(SETTINGS, {FIELD: 3}, headers=ADMIN, status=200)
    app.get(MYSELF, headers=ALICE, status=403)


@pytest.mark.parametrize("value", ["3", -1, 1.5, 3.0, True, False, [], {}, [3], 10**7, 10**30, "null"])
def test_settings_bad_values_are_400_naming_the_field_and_not_saved(app, value):
    app.put_json(SETTINGS, {FIELD: 7}, headers=ADMIN, status=200)
    resp = app.put_json(SETTINGS, {FIELD: value}, headers=ADMIN, status=400)
    assert_json(resp)
    assert FIELD in resp.json["errors"]
    assert FIELD in resp.json["errors"][FIELD]
    assert app.get(SETTINGS, headers=ADMIN, status=200).json == {FIELD: 7}


def test_settings_unknown_field_is_400_and_nothing_saved(app):
    resp = app.put_json(SETTINGS, {FIELD: 9, "captchaColour": "red"}, headers=ADMIN, status=400)
    assert "captchaColour" in resp.json["errors"]
    assert app.get(SETTINGS, headers=ADMIN, status=200).json == {FIELD: 3}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"not json", "application/json"),
        (b"[3]", "application/json"),
        (b"3", "application/json"),
        (b"", "application/json"),
        (b'{"maximumAuthenticationAttemptsAllowed": NaN}', "application/json"),
        (b'{"maximumAuthenticationAttemptsAllowed": 5}', "text/plain"),
    ],
)
def test_settings_bad_bodies(app, body, content_type):
    resp = app.put(SETTINGS, body, headers={**ADMIN, "Content-Type": content_type}, status="4*")
    assert resp.status_int in (400, 415)
    assert_json(resp)
    assert resp.json["errorMessages"] or resp.json["errors"]
    assert app.get(SETTINGS, headers=ADMIN, status=200).json == {FIELD: 3}


def test_settings_permissions(app):
    app.get(SETTINGS, headers=ALICE, status=403)
    app.put_json(SETTINGS, {FIELD: 0}, headers=ALICE, status=403)
    app.get(SETTINGS, status=401)
    app.put_json(SETTINGS, {FIELD: 0}, status=401)
    assert app.get(SETTINGS, headers=ADMIN, status=200).json == {FIELD: 3}


def test_setting_is_stored_in_the_database(app, make_host):
    app.put_json(SETTINGS, {FIELD: 6}, headers=ADMIN, status=200)
    other = make_host()  # a second node on the same database
    assert other.settings.get("host", FIELD) == 6
