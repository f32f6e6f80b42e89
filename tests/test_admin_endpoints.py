"""Contract §2.2-§2.4: userKeyByEmail, deleteAllFor, tokens on behalf of others, renaming and deleting other
users' tokens, ``P/admin/settings`` and ``P/admin/permissions`` (validation, nothing half-saved) and the
effect of every setting and permission."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from host.models import Setting
from plugins.apitokenauth.models import Token
from tests.conftest import ADMIN, ALICE, BOB, P, basic, bearer
from tests.host_helpers import failed_count

PLUGIN = "de.resolution.apitokenauth"
TOKEN_URL = f"{P}/user/token"
SETTINGS_URL = f"{P}/admin/settings"
PERMISSIONS_URL = f"{P}/admin/permissions"
BY_EMAIL_URL = f"{P}/user/userKeyByEmail"
BY_FILTER_URL = f"{P}/user/tokensByFilter"
CAROL = basic("carol", "carol")
ALICE_KEY, BOB_KEY, CAROL_KEY, FRANK_KEY = "JIRAUSER10100", "JIRAUSER10101", "JIRAUSER10102", "JIRAUSER10105"
NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."
MYSELF = "/rest/api/2/myself"
DEFAULT_SETTINGS = {
    "maxValidityMonths": 12,
    "defaultValidityMonths": 12,
    "readOnlyTokensOnly": False,
    "disableBasicAuthWithPassword": False,
    "allowedIpRanges": [],
    "trustedProxies": [],
    "clientIpHeader": "X-Forwarded-For",
    "rateLimitEnabled": False,
    "defaultRateLimitBucketSize": 0,
    "defaultRateLimitBucketLifetime": 0,
    "auditSuccessfulAuthentication": False,
    "auditFailedAuthentication": False,
    "auditPermissionDenied": False,
    "lastAccessedWriteIntervalSeconds": 60,
}
DEFAULT_PERMISSIONS = {
    "useTokens": {"everyone": True, "groups": []},
    "createTokens": {"everyone": True, "groups": []},
    "createAndDeleteOnBehalf": {"groups": ["jira-administrators"]},
}


def ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def plugin_error(resp: Any) -> str:
    assert set(resp.json) == {"errorMessage"}, resp.json
    message = resp.json["errorMessage"]
    assert isinstance(message, str) and message
    return message


def token_count() -> int:
    return Token.select().count()


def listed(app, auth) -> list[dict[str, Any]]:
    return app.get(TOKEN_URL, headers=auth, status=200).json


def works(app, token: dict[str, Any]) -> bool:
    status = app.get(MYSELF, headers=bearer(token["plainTextToken"]), expect_errors=True).status_int
    assert status in (200, 401), status
    return status == 200


def grant(app, body: dict[str, Any]) -> dict[str, Any]:
    return app.put_json(PERMISSIONS_URL, body, headers=ADMIN, status=200).json


def put_settings(app, body: Any, status: int = 200, auth: dict[str, str] = ADMIN) -> Any:
    return app.put_json(SETTINGS_URL, body, headers=auth, status=status)


def stored_settings() -> dict[str, Any]:
    rows = Setting.select().where(Setting.key.startswith(f"{PLUGIN}:"))
    return {row.key.split(":", 1)[1]: json.loads(row.value) for row in rows}


def stored_permissions() -> dict[str, Any]:
    rows = Setting.select().where(Setting.key.startswith("permission:"))
    return {row.key.split(":", 1)[1]: json.loads(row.value) for row in rows}


ON_BEHALF_TO_DEVELOPERS = {"createAndDeleteOnBehalf": {"groups": ["jira-administrators", "developers"]}}


# ===== userKeyByEmail ===============================================================================================
@pytest.mark.parametrize(
    "email, key",
    [
        ("alice@example.com", ALICE_KEY),
        ("ALICE@Example.COM", ALICE_KEY),
        ("emile@example.com", "JIRAUSER10104"),
        ("admin@example.com", "admin"),
        ("frank@example.com", FRANK_KEY),  # deactivated users still have a key
    ],
)
def test_user_key_by_email_of_exactly_one_user(app, email, key):
    resp = app.get(BY_EMAIL_URL, {"email": email}, headers=ADMIN, status=200)
    assert resp.content_type == "text/plain"
    assert resp.text == key


def test_user_key_by_email_of_nobody_is_404_with_the_guides_message(app):
    resp = app.get(BY_EMAIL_URL, {"email": "unknown@deville.com"}, headers=ADMIN, status=404)
    assert resp.json == {
        "errorMessage": "Could not retrieve a userkey for email 'unknown@deville.com', error was: NOT_FOUND"
    }


@pytest.mark.parametrize("email", ["shared@example.com", "Shared@EXAMPLE.com"])
def test_user_key_by_email_shared_by_two_users_is_409_with_the_guides_message(app, email):
    resp = app.get(BY_EMAIL_URL, {"email": email}, headers=ADMIN, status=409)
    assert resp.json == {
        "errorMessage": f"Can't return a userkey since there is more than one user with the email '{email}'"
    }


def test_user_key_by_email_follows_email_changes(app):
    app.put_json("/rest/api/2/user?username=dave", {"emailAddress": "dave@example.com"}, headers=ADMIN, status=200)
    assert app.get(BY_EMAIL_URL, {"email": "shared@example.com"}, headers=ADMIN, status=200).text == CAROL_KEY
    assert app.get(BY_EMAIL_URL, {"email": "dave@example.com"}, headers=ADMIN, status=200).text == "JIRAUSER10103"


@pytest.mark.parametrize("query", ["", "?email=", "?email=%20%20", "?mail=alice@example.com"])
def test_user_key_by_email_without_an_email_is_400(app, query):
    resp = app.get(BY_EMAIL_URL + query, headers=ADMIN, status=400)
    assert "email" in plugin_error(resp)


def test_user_key_by_email_longer_than_any_email_is_400(app):
    resp = app.get(BY_EMAIL_URL, {"email": "a" * 250 + "@example.com"}, headers=ADMIN, status=400)
    assert "email" in plugin_error(resp)
    assert len(resp.text) < 200  # the value is not echoed back


def test_user_key_by_email_needs_on_behalf(app):
    for auth in (ALICE, BOB, CAROL):
        plugin_error(app.get(BY_EMAIL_URL, {"email": "alice@example.com"}, headers=auth, status=403))
    resp = app.get(BY_EMAIL_URL, {"email": "alice@example.com"}, status=401)
    assert resp.json["errorMessages"] == [NOT_AUTHENTICATED]
    grant(app, ON_BEHALF_TO_DEVELOPERS)
    assert app.get(BY_EMAIL_URL, {"email": "bob@example.com"}, headers=ALICE, status=200).text == BOB_KEY
    app.get(BY_EMAIL_URL, {"email": "bob@example.com"}, headers=CAROL, status=403)


# ===== deleteAllFor ===================================================================================================
def test_delete_all_for_revokes_every_token_of_that_user_only(app, create_token):
    bobs = [
        create_token(auth=BOB, tokenDescription="own"),
        create_token(auth=BOB, tokenScope=1),
        create_token(auth=ADMIN, tokenForUserKey=BOB_KEY),
    ]
    alices = [create_token(auth=ALICE), create_token(auth=ADMIN, tokenForUserKey=ALICE_KEY)]
    admins = [create_token(auth=ADMIN)]
    assert all(works(app, t) for t in bobs + alices + admins)

    resp = app.delete(f"{TOKEN_URL}/deleteAllFor/{BOB_KEY}", headers=ADMIN, status=200)
    assert resp.text == "true"
    assert resp.json is True
    assert not any(works(app, t) for t in bobs)
    assert all(works(app, t) for t in alices + admins)
    app.get(MYSELF, headers=basic("bob", bobs[0]["plainTextToken"]), status=401)
    assert listed(app, BOB) == []
    assert [t["id"] for t in listed(app, ALICE)] == [t["id"] for t in reversed(alices)]
    assert token_count() == 3
    # once more: nothing left, still true
    assert app.delete(f"{TOKEN_URL}/deleteAllFor/{BOB_KEY}", headers=ADMIN, status=200).text == "true"


def test_delete_all_for_a_user_without_tokens_is_true(app, create_token):
    create_token(auth=ALICE)
    assert app.delete(f"{TOKEN_URL}/deleteAllFor/{CAROL_KEY}", headers=ADMIN, status=200).text == "true"
    assert token_count() == 1


def test_delete_all_for_an_unknown_key_is_404(app, create_token):
    create_token(auth=ALICE)
    for key in ("JIRAUSER99999", "alice"):  # a username is not a key
        plugin_error(app.delete(f"{TOKEN_URL}/deleteAllFor/{key}", headers=ADMIN, status=404))
    assert token_count() == 1


def test_delete_all_for_is_for_sysadmins_only_even_with_on_behalf(app, create_token):
    token = create_token(auth=BOB)
    grant(app, ON_BEHALF_TO_DEVELOPERS)
    for auth in (ALICE, BOB, CAROL):
        plugin_error(app.delete(f"{TOKEN_URL}/deleteAllFor/{BOB_KEY}", headers=auth, status=403))
    resp = app.delete(f"{TOKEN_URL}/deleteAllFor/{BOB_KEY}", status=401)
    assert resp.json["errorMessages"] == [NOT_AUTHENTICATED]
    assert works(app, token)


def test_delete_all_for_with_an_admin_token(app, create_token):
    victim = create_token(auth=BOB)
    read_only = create_token(auth=ADMIN, tokenScope=1)
    app.delete(f"{TOKEN_URL}/deleteAllFor/{BOB_KEY}", headers=bearer(read_only["plainTextToken"]), status=403)
    assert works(app, victim)
    read_write = create_token(auth=ADMIN, tokenScope=2)
    auth = basic("admin", read_write["plainTextToken"])
    assert app.delete(f"{TOKEN_URL}/deleteAllFor/{BOB_KEY}", headers=auth, status=200).text == "true"
    assert not works(app, victim)


# ===== tokens on behalf ===============================================================================================
def test_on_behalf_months_are_clamped_to_the_maximum(app, clock, create_token):
    put_settings(app, {"maxValidityMonths": 6, "defaultValidityMonths": 6})
    clock.now = ms("2031-03-31T12:00:00Z")
    for months in (7, 12, 1200, 10**9):
        created = create_token(tokenForUserKey=BOB_KEY, tokenValidityTimeInMonths=months)
        assert created["tokenValidityTimeInMonths"] == 6
        assert created["tokenExpirationDateTimeMillis"] == ms("2031-09-30T12:00:00Z")
    # 0 ("never") is not allowed by a maximum of 6: clamped too
    assert create_token(tokenForUserKey=BOB_KEY, tokenValidityTimeInMonths=0)["tokenValidityTimeInMonths"] == 6
    exact = create_token(tokenForUserKey=BOB_KEY, tokenValidityTimeInMonths=2)
    assert exact["tokenValidityTimeInMonths"] == 2
    assert exact["tokenExpirationDateTimeMillis"] == ms("2031-05-31T12:00:00Z")
    # the same months for an own token are refused (400 naming the maximum), nothing created
    before = token_count()
    message = plugin_error(app.post_json(TOKEN_URL, {"tokenValidityTimeInMonths": 7}, headers=ADMIN, status=400))
    assert "6" in message
    assert token_count() == before


def test_on_behalf_without_months_takes_the_default(app, clock, create_token):
    put_settings(app, {"defaultValidityMonths": 3})
    clock.now = ms("2031-01-15T08:00:00Z")
    created = create_token(tokenForUserKey=ALICE_KEY, tokenDescription="token for another user")
    assert created["tokenValidityTimeInMonths"] == 3
    assert created["tokenExpirationDateTimeMillis"] == ms("2031-04-15T08:00:00Z")
    item = listed(app, ALICE)[0]
    assert item["validUntil"] == ms("2031-04-15T08:00:00Z")
    assert item["tokenCreatedByUserKey"] == "admin"
    assert item["tokenForUserKey"] == ALICE_KEY


def test_on_behalf_scope_is_chosen_by_the_creator_even_when_only_read_only_tokens_are_allowed(app, create_token):
    put_settings(app, {"readOnlyTokensOnly": True})
    assert create_token(tokenForUserKey=BOB_KEY, tokenScope=2)["tokenScope"] == 2
    assert create_token(tokenForUserKey=BOB_KEY)["tokenScope"] == 2
    assert create_token(tokenForUserKey=BOB_KEY, tokenScope=1)["tokenScope"] == 1
    assert create_token(tokenScope=2)["tokenScope"] == 1  # the admin's own token is forced read-only
    read_write = listed(app, BOB)[-1]
    assert read_write["tokenScope"] == 2


def test_on_behalf_for_an_unknown_user_key_is_400_and_nothing_is_created(app):
    before = token_count()
    body = {"tokenDescription": "x", "tokenForUserKey": "JIRAUSER99999"}
    assert "tokenForUserKey" in plugin_error(app.post_json(TOKEN_URL, body, headers=ADMIN, status=400))
    assert token_count() == before


def test_on_behalf_for_a_deactivated_user_as_in_the_guide(app, create_token):
    created = create_token(tokenDescription="token for another user", tokenForUserKey=FRANK_KEY)
    assert created["tokenForUserKey"] == FRANK_KEY
    assert not works(app, created)  # frank cannot authenticate by any means
    frank_tokens = app.get(BY_FILTER_URL, {"userFilter": FRANK_KEY}, headers=ADMIN, status=200).json["content"]
    assert [t["id"] for t in frank_tokens] == [created["id"]]


def test_on_behalf_by_a_group_granted_the_permission(app, create_token):
    before = token_count()
    plugin_error(app.post_json(TOKEN_URL, {"tokenForUserKey": CAROL_KEY}, headers=ALICE, status=403))
    assert token_count() == before
    grant(app, ON_BEHALF_TO_DEVELOPERS)
    created = create_token(auth=ALICE, tokenForUserKey=CAROL_KEY, tokenValidityTimeInMonths=20)
    assert created["tokenValidityTimeInMonths"] == 12  # clamped for alice as well
    assert listed(app, CAROL)[0]["tokenCreatedByUserKey"] == ALICE_KEY
    before = token_count()
    for target in (ALICE_KEY, "admin"):
        plugin_error(app.post_json(TOKEN_URL, {"tokenForUserKey": target}, headers=CAROL, status=403))
    assert token_count() == before
    assert listed(app, ALICE) == []


def test_on_behalf_with_an_admin_token_as_in_the_guide(app, create_token):
    read_write = create_token(tokenScope=2)["plainTextToken"]
    body = {"tokenDescription": "token for another user", "tokenForUserKey": BOB_KEY, "tokenValidityTimeInMonths": 12}
    for auth in (basic("admin", read_write), bearer(read_write)):
        created = app.post_json(TOKEN_URL, body, headers=auth, status=200).json
        assert created["tokenForUserKey"] == BOB_KEY
        assert works(app, created)
    read_only = create_token(tokenScope=1)["plainTextToken"]
    before = token_count()
    for auth in (basic("admin", read_only), bearer(read_only)):
        plugin_error(app.post_json(TOKEN_URL, body, headers=auth, status=403))
    assert token_count() == before
    assert len(listed(app, BOB)) == 2


# ===== rename and delete other users' tokens =========================================================================
def test_others_tokens_are_404_without_on_behalf(app, create_token):
    bobs = create_token(auth=BOB, tokenDescription="bob's")
    for auth in (ALICE, CAROL):
        patched = app.patch_json(
            f"{TOKEN_URL}/{bobs['id']}", {"tokenDescription": "hijacked"}, headers=auth, status=404
        )
        deleted = app.delete(f"{TOKEN_URL}/{bobs['id']}", headers=auth, status=404)
        unknown = app.delete(f"{TOKEN_URL}/999999", headers=auth, status=404)
        # the same answer as for a token that does not exist, apart from the id
        assert plugin_error(patched) == plugin_error(deleted)
        assert plugin_error(unknown) == plugin_error(deleted).replace(str(bobs["id"]), "999999")
    assert listed(app, BOB)[0]["description"] == "bob's"
    assert works(app, bobs)


def test_admin_renames_and_deletes_others_tokens(app, create_token):
    bobs = create_token(auth=BOB, tokenDescription="bob's")
    resp = app.patch_json(
        f"{TOKEN_URL}/{bobs['id']}", {"tokenDescription": "renamed by admin"}, headers=ADMIN, status=200
    )
    assert resp.json["description"] == "renamed by admin"
    assert resp.json["tokenForUserKey"] == BOB_KEY
    assert listed(app, BOB)[0]["description"] == "renamed by admin"
    assert works(app, bobs)
    assert app.delete(f"{TOKEN_URL}/{bobs['id']}", headers=ADMIN, status=200).text == "true"
    assert not works(app, bobs)
    assert listed(app, BOB) == []


def test_a_group_granted_on_behalf_renames_and_deletes_others_tokens(app, create_token):
    carols = create_token(auth=CAROL, tokenDescription="carol's")
    admins = create_token(auth=ADMIN)
    grant(app, ON_BEHALF_TO_DEVELOPERS)
    app.patch_json(f"{TOKEN_URL}/{carols['id']}", {"tokenDescription": "by alice"}, headers=ALICE, status=200)
    assert listed(app, CAROL)[0]["description"] == "by alice"
    assert app.delete(f"{TOKEN_URL}/{admins['id']}", headers=BOB, status=200).text == "true"
    assert not works(app, admins)
    assert app.delete(f"{TOKEN_URL}/{carols['id']}", headers=ALICE, status=200).text == "true"
    assert not works(app, carols)
    # and carol, outside the group, still cannot touch alice's
    alices = create_token(auth=ALICE)
    app.delete(f"{TOKEN_URL}/{alices['id']}", headers=CAROL, status=404)
    assert works(app, alices)


# ===== GET/PUT P/admin/settings =======================================================================================
def test_settings_default_document(app):
    resp = app.get(SETTINGS_URL, headers=ADMIN, status=200)
    assert resp.json == DEFAULT_SETTINGS
    assert list(resp.json) == list(DEFAULT_SETTINGS)


def test_put_a_subset_answers_the_whole_updated_document_and_stores_it(app, host):
    resp = put_settings(app, {"maxValidityMonths": 24, "readOnlyTokensOnly": True})
    expected = {**DEFAULT_SETTINGS, "maxValidityMonths": 24, "readOnlyTokensOnly": True}
    assert resp.json == expected
    assert app.get(SETTINGS_URL, headers=ADMIN, status=200).json == expected
    assert stored_settings() == {"maxValidityMonths": 24, "readOnlyTokensOnly": True}
    resp = put_settings(
        app,
        {
            "allowedIpRanges": ["127.0.0.1", "10.1.2.3/8", "2001:db8::/32"],
            "trustedProxies": ["192.168.0.0/16"],
            "clientIpHeader": "X-Real-IP",
            "rateLimitEnabled": True,
            "defaultRateLimitBucketSize": 100,
            "defaultRateLimitBucketLifetime": 60,
            "auditSuccessfulAuthentication": True,
            "auditFailedAuthentication": True,
            "auditPermissionDenied": True,
            "lastAccessedWriteIntervalSeconds": 5,
            "disableBasicAuthWithPassword": False,
            "defaultValidityMonths": 1,
        },
    )
    expected.update(
        allowedIpRanges=["127.0.0.1/32", "10.0.0.0/8", "2001:db8::/32"],
        trustedProxies=["192.168.0.0/16"],
        clientIpHeader="X-Real-IP",
        rateLimitEnabled=True,
        defaultRateLimitBucketSize=100,
        defaultRateLimitBucketLifetime=60,
        auditSuccessfulAuthentication=True,
        auditFailedAuthentication=True,
        auditPermissionDenied=True,
        lastAccessedWriteIntervalSeconds=5,
        defaultValidityMonths=1,
    )
    assert resp.json == expected
    assert host.settings.document(PLUGIN) == expected
    # an empty PUT changes nothing
    assert put_settings(app, {}).json == expected


def test_settings_are_read_from_the_database_by_every_process(app, make_host):
    other = make_host()  # a second process on the same database, its cache already warm
    assert other.settings.get(PLUGIN, "maxValidityMonths") == 12
    now = [1000.0]
    other.settings._clock = lambda: now[0]
    other.settings.invalidate()
    assert other.settings.get(PLUGIN, "maxValidityMonths") == 12
    put_settings(app, {"maxValidityMonths": 3, "defaultValidityMonths": 3})
    now[0] += 0.5
    assert other.settings.get(PLUGIN, "maxValidityMonths") == 12  # cached for at most a second
    now[0] += 0.6
    assert other.settings.get(PLUGIN, "maxValidityMonths") == 3
    assert other.settings.document(PLUGIN)["defaultValidityMonths"] == 3


BAD_SETTINGS = [
    *[("maxValidityMonths", v) for v in (-1, 1.5, "6", True, None, 1201, [6])],
    *[("defaultValidityMonths", v) for v in (-1, 2.5, "6", False, None, 10**6, {})],
    *[
        (name, v)
        for name in (
            "readOnlyTokensOnly",
            "disableBasicAuthWithPassword",
            "rateLimitEnabled",
            "auditSuccessfulAuthentication",
            "auditFailedAuthentication",
            "auditPermissionDenied",
        )
        for v in ("true", 1, 0, None, [])
    ],
    *[
        (name, v)
        for name in ("allowedIpRanges", "trustedProxies")
        for v in (
            "10.0.0.0/8",
            None,
            ["not-an-ip"],
            ["10.0.0.0/33"],
            ["300.1.1.1"],
            [1],
            [None],
            {"a": "10.0.0.1"},
            ["10.0.0.1"] * 101,
        )
    ],
    *[("clientIpHeader", v) for v in ("", "  ", "X Forwarded", "X-Forwarded-For:", 5, None, "x" * 256, "Ä-Header")],
    *[
        (name, v)
        for name in ("defaultRateLimitBucketSize", "defaultRateLimitBucketLifetime")
        for v in (-1, "5", 1.5, None, True, 10**10)
    ],
    *[("lastAccessedWriteIntervalSeconds", v) for v in (0, -1, 86401, "60", 1.5, None, False)],
]


@pytest.mark.parametrize("name, value", BAD_SETTINGS)
def test_a_bad_value_is_400_naming_the_field_and_nothing_is_saved(app, host, name, value):
    valid_other = {"readOnlyTokensOnly": True} if name != "readOnlyTokensOnly" else {"auditPermissionDenied": True}
    body = {**valid_other, name: value}
    message = plugin_error(put_settings(app, body, status=400))
    assert name in message
    for other in DEFAULT_SETTINGS:
        if other != name:
            assert f"'{other}'" not in message
    assert app.get(SETTINGS_URL, headers=ADMIN, status=200).json == DEFAULT_SETTINGS
    assert stored_settings() == {}
    # and the same value alone
    plugin_error(put_settings(app, {name: value}, status=400))
    assert stored_settings() == {}


def test_a_bad_value_after_good_ones_keeps_the_earlier_document(app):
    put_settings(app, {"maxValidityMonths": 24, "lastAccessedWriteIntervalSeconds": 30})
    before = app.get(SETTINGS_URL, headers=ADMIN, status=200).json
    put_settings(app, {"maxValidityMonths": 6, "defaultValidityMonths": 6, "lastAccessedWriteIntervalSeconds": 0}, 400)
    assert app.get(SETTINGS_URL, headers=ADMIN, status=200).json == before
    assert stored_settings() == {"maxValidityMonths": 24, "lastAccessedWriteIntervalSeconds": 30}


def test_unknown_setting_is_400_naming_it_and_nothing_is_saved(app):
    message = plugin_error(
        put_settings(app, {"maxValidityMonths": 6, "defaultValidityMonths": 6, "noSuchSetting": 1}, 400)
    )
    assert "noSuchSetting" in message
    assert stored_settings() == {}
    assert "MaxValidityMonths" in plugin_error(put_settings(app, {"MaxValidityMonths": 6}, 400))  # names are exact


def test_a_huge_unknown_name_is_not_echoed_back(app):
    for url in (SETTINGS_URL, PERMISSIONS_URL):
        resp = app.put_json(url, {"x" * 5000: 1}, headers=ADMIN, status=400)
        assert "xxxx" in plugin_error(resp) and len(resp.text) < 300


@pytest.mark.parametrize(
    "body",
    [
        {"defaultValidityMonths": 13},
        {"maxValidityMonths": 6},  # the default (12) would exceed the new maximum
        {"maxValidityMonths": 6, "defaultValidityMonths": 7},
        {"defaultValidityMonths": 0},  # "never" by default while the maximum is 12 months
    ],
)
def test_default_above_the_maximum_is_400(app, body):
    message = plugin_error(put_settings(app, body, status=400))
    assert "defaultValidityMonths" in message
    assert stored_settings() == {}


def test_rate_limit_bucket_size_without_a_lifetime_is_400(app):
    message = plugin_error(put_settings(app, {"rateLimitEnabled": True, "defaultRateLimitBucketSize": 10}, status=400))
    assert "defaultRateLimitBucketLifetime" in message
    assert stored_settings() == {}


@pytest.mark.parametrize(
    "raw, content_type",
    [
        (b"[]", "application/json"),
        (b'"x"', "application/json"),
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b"maxValidityMonths=6", "application/x-www-form-urlencoded"),
    ],
)
def test_settings_body_that_is_not_a_json_object_is_4xx(app, raw, content_type):
    resp = app.put(SETTINGS_URL, raw, headers=ADMIN, content_type=content_type, expect_errors=True)
    assert resp.status_int in (400, 415)
    plugin_error(resp)
    assert stored_settings() == {}


def test_settings_are_for_sysadmins_only(app):
    grant(app, ON_BEHALF_TO_DEVELOPERS)
    for auth in (ALICE, CAROL):
        plugin_error(app.get(SETTINGS_URL, headers=auth, status=403))
        plugin_error(put_settings(app, {"maxValidityMonths": 1, "defaultValidityMonths": 1}, status=403, auth=auth))
    assert app.get(SETTINGS_URL, status=401).json["errorMessages"] == [NOT_AUTHENTICATED]
    assert app.put_json(SETTINGS_URL, {"readOnlyTokensOnly": True}, status=401).json["errorMessages"] == [
        NOT_AUTHENTICATED
    ]
    assert stored_settings() == {}


def test_settings_with_an_admin_token(app, create_token):
    read_only = create_token(tokenScope=1)["plainTextToken"]
    assert app.get(SETTINGS_URL, headers=bearer(read_only), status=200).json == DEFAULT_SETTINGS
    app.put_json(SETTINGS_URL, {"readOnlyTokensOnly": True}, headers=bearer(read_only), status=403)
    assert stored_settings() == {}
    read_write = create_token(tokenScope=2)["plainTextToken"]
    app.put_json(SETTINGS_URL, {"readOnlyTokensOnly": True}, headers=bearer(read_write), status=200)
    assert stored_settings() == {"readOnlyTokensOnly": True}


# ----- the effect of each setting -------------------------------------------------------------------------------------
def test_read_only_tokens_only_forces_own_tokens_to_read_only(app, create_token):
    put_settings(app, {"readOnlyTokensOnly": True})
    for auth in (ALICE, ADMIN):
        created = create_token(auth=auth, tokenScope=2)
        assert created["tokenScope"] == 1
        assert create_token(auth=auth)["tokenScope"] == 1
        listed_scopes = {t["tokenScope"] for t in listed(app, auth)}
        assert listed_scopes == {1}
        resp = app.post_json(
            "/rest/api/2/group", {"name": "new"}, headers=bearer(created["plainTextToken"]), status=403
        )
        assert resp.json["errorMessages"] == ["This token is read-only"]
    put_settings(app, {"readOnlyTokensOnly": False})
    assert create_token(auth=ALICE, tokenScope=2)["tokenScope"] == 2
    assert create_token(auth=ALICE)["tokenScope"] == 2


def test_disable_basic_auth_with_password(app, host, create_token):
    alices = create_token(auth=ALICE)["plainTextToken"]
    admins = create_token(auth=ADMIN)["plainTextToken"]
    put_settings(app, {"disableBasicAuthWithPassword": True})

    # a correct password is refused on REST, and it is not a failed login
    resp = app.get(MYSELF, headers=ALICE, status=401)
    assert resp.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    assert resp.json["errorMessages"] == [NOT_AUTHENTICATED]
    app.get(f"{P}/user/token", headers=ALICE, status=401)
    assert failed_count(host, "alice") == 0
    app.post_json("/rest/auth/1/session", {"username": "alice", "password": "alice"}, status=401)
    assert failed_count(host, "alice") == 0
    # admins too: the settings are only reachable with a token now
    app.get(SETTINGS_URL, headers=ADMIN, status=401)

    # tokens keep working, as Basic and as Bearer, and for a session
    assert app.get(MYSELF, headers=basic("alice", alices), status=200).json["name"] == "alice"
    assert app.get(MYSELF, headers=bearer(alices), status=200).json["name"] == "alice"
    app.post_json("/rest/auth/1/session", {"username": "alice", "password": alices}, status=200)
    app.reset()

    # a wrong secret is still a failed login (contract 2.6)
    app.get(MYSELF, headers=basic("alice", "wrong"), status=401)
    assert failed_count(host, "alice") == 1

    # switched back with the admin's token: passwords work again at once
    app.put_json(SETTINGS_URL, {"disableBasicAuthWithPassword": False}, headers=bearer(admins), status=200)
    assert app.get(MYSELF, headers=ALICE, status=200).json["name"] == "alice"
    assert failed_count(host, "alice") == 0


def test_max_and_default_validity(app, clock, create_token):
    clock.now = ms("2031-01-31T10:00:00Z")
    put_settings(app, {"maxValidityMonths": 6, "defaultValidityMonths": 3})
    default = create_token(auth=ALICE)
    assert default["tokenValidityTimeInMonths"] == 3
    assert default["tokenExpirationDateTimeMillis"] == ms("2031-04-30T10:00:00Z")
    assert create_token(auth=ALICE, tokenValidityTimeInMonths=6)["tokenExpirationDateTimeMillis"] == ms(
        "2031-07-31T10:00:00Z"
    )
    before = token_count()
    for months in (7, 0):
        message = plugin_error(
            app.post_json(TOKEN_URL, {"tokenValidityTimeInMonths": months}, headers=ALICE, status=400)
        )
        assert "6 months" in message
    resp = app.post_json(
        TOKEN_URL, {"tokenExpirationDateTime": "2031-08-01T10:00:00.000+00:00"}, headers=ALICE, status=400
    )
    assert resp.json == {
        "errorMessage": "The custom expiration you've provided is greater than the maximum defined by your "
        "administrator. You need to provide a date within the next 6 months."
    }
    assert token_count() == before
    # raising the maximum takes effect at once
    put_settings(app, {"maxValidityMonths": 24})
    assert create_token(auth=ALICE, tokenValidityTimeInMonths=24)["tokenValidityTimeInMonths"] == 24


def test_maximum_never_allows_never_expiring_tokens(app, clock, create_token):
    put_settings(app, {"maxValidityMonths": 0})
    assert app.get(SETTINGS_URL, headers=ADMIN, status=200).json["maxValidityMonths"] == 0
    forever = create_token(auth=ALICE, tokenValidityTimeInMonths=0)
    assert forever["tokenValidityTimeInMonths"] == 0
    assert forever["tokenExpirationDateTimeMillis"] == 0
    assert forever["tokenExpirationDateTime"] is None
    assert listed(app, ALICE)[0]["validUntil"] == 0
    assert create_token(auth=ALICE, tokenValidityTimeInMonths=600)["tokenValidityTimeInMonths"] == 600
    assert create_token(auth=ALICE)["tokenValidityTimeInMonths"] == 12  # the default still applies
    on_behalf = create_token(tokenForUserKey=BOB_KEY, tokenValidityTimeInMonths=0)
    assert on_behalf["tokenExpirationDateTimeMillis"] == 0
    clock.advance(days=365 * 100)
    assert works(app, forever) and works(app, on_behalf)
    # "never" as the default too
    put_settings(app, {"defaultValidityMonths": 0})
    assert create_token(auth=ALICE)["tokenExpirationDateTimeMillis"] == 0
    # a maximum again needs a default within it
    plugin_error(put_settings(app, {"maxValidityMonths": 12}, status=400))
    put_settings(app, {"maxValidityMonths": 12, "defaultValidityMonths": 12})
    plugin_error(app.post_json(TOKEN_URL, {"tokenValidityTimeInMonths": 0}, headers=ALICE, status=400))


def test_last_accessed_write_interval(app, clock, create_token):
    created = create_token(auth=ALICE)
    row = lambda: Token.get_by_id(created["id"]).last_accessed  # noqa: E731
    start = clock.now
    assert works(app, created)
    assert row() == start
    clock.advance(seconds=30)
    assert works(app, created)
    assert row() == start  # the default: at most once a minute
    put_settings(app, {"lastAccessedWriteIntervalSeconds": 10})
    assert works(app, created)
    assert row() == start + 30_000
    clock.advance(seconds=9)
    assert works(app, created)
    assert row() == start + 30_000
    clock.advance(seconds=1)
    assert works(app, created)
    assert row() == start + 40_000
    put_settings(app, {"lastAccessedWriteIntervalSeconds": 3600})
    clock.advance(seconds=3599)
    assert works(app, created)
    assert row() == start + 40_000
    clock.advance(seconds=1)
    assert works(app, created)
    assert row() == start + 3_640_000


# ===== GET/PUT P/admin/permissions ====================================================================================
def test_permissions_default_document(app):
    resp = app.get(PERMISSIONS_URL, headers=ADMIN, status=200)
    assert resp.json == DEFAULT_PERMISSIONS
    assert list(resp.json) == list(DEFAULT_PERMISSIONS)


def test_put_permissions_answers_the_whole_document(app):
    resp = app.put_json(
        PERMISSIONS_URL,
        {"useTokens": {"everyone": False, "groups": ["developers", "api-automation"]}},
        headers=ADMIN,
        status=200,
    )
    expected = {**DEFAULT_PERMISSIONS, "useTokens": {"everyone": False, "groups": ["api-automation", "developers"]}}
    assert resp.json == expected
    assert app.get(PERMISSIONS_URL, headers=ADMIN, status=200).json == expected
    resp = grant(
        app,
        {
            "createTokens": {"everyone": True, "groups": ["developers"]},
            "createAndDeleteOnBehalf": {"groups": ["DEVELOPERS", "developers", " jira-administrators "]},
        },
    )
    expected.update(
        createTokens={"everyone": True, "groups": ["developers"]},
        createAndDeleteOnBehalf={"groups": ["developers", "jira-administrators"]},
    )
    assert resp == expected
    assert grant(app, {}) == expected


def test_a_grant_may_be_given_with_groups_only_or_emptied(app):
    resp = grant(app, {"createTokens": {"groups": ["developers"]}})
    assert resp["createTokens"] == {"everyone": False, "groups": ["developers"]}
    resp = grant(app, {"createAndDeleteOnBehalf": {"groups": []}})
    assert resp["createAndDeleteOnBehalf"] == {"groups": []}
    resp = grant(app, {"useTokens": {"everyone": True}})
    assert resp["useTokens"] == {"everyone": True, "groups": []}


BAD_PERMISSIONS = [
    ({"createAndDeleteOnBehalf": {"everyone": True, "groups": []}}, "createAndDeleteOnBehalf"),
    ({"createAndDeleteOnBehalf": {"everyone": False, "groups": ["developers"]}}, "createAndDeleteOnBehalf"),
    ({"noSuchPermission": {"everyone": True, "groups": []}}, "noSuchPermission"),
    ({"UseTokens": {"everyone": True, "groups": []}}, "UseTokens"),
    ({"useTokens": {"everyone": "yes", "groups": []}}, "useTokens"),
    ({"useTokens": {"everyone": None}}, "useTokens"),
    ({"useTokens": {"groups": "developers"}}, "useTokens"),
    ({"useTokens": {"groups": [1]}}, "useTokens"),
    ({"useTokens": {"groups": [""]}}, "useTokens"),
    ({"useTokens": {"groups": [None]}}, "useTokens"),
    ({"useTokens": {"everyone": True, "users": ["alice"]}}, "useTokens"),
    ({"useTokens": ["developers"]}, "useTokens"),
    ({"useTokens": True}, "useTokens"),
    ({"createTokens": {"groups": ["no-such-group"]}}, "no-such-group"),
    ({"createTokens": {"groups": ["developers", "Ghosts"]}}, "Ghosts"),
    ({"createAndDeleteOnBehalf": {"groups": ["jira-administrators", "typo-admins"]}}, "typo-admins"),
]


@pytest.mark.parametrize("body, named", BAD_PERMISSIONS)
def test_a_bad_permission_is_400_naming_it_and_nothing_is_saved(app, body, named):
    valid = (
        {"useTokens": {"everyone": False, "groups": ["developers"]}}
        if "useTokens" not in body
        else {"createTokens": {"everyone": False, "groups": ["developers"]}}
    )
    message = plugin_error(app.put_json(PERMISSIONS_URL, {**valid, **body}, headers=ADMIN, status=400))
    assert named in message
    assert app.get(PERMISSIONS_URL, headers=ADMIN, status=200).json == DEFAULT_PERMISSIONS
    assert stored_permissions() == {}
    # in the other order as well
    plugin_error(app.put_json(PERMISSIONS_URL, {**body, **valid}, headers=ADMIN, status=400))
    assert stored_permissions() == {}


@pytest.mark.parametrize("raw", [b"[]", b"{", b"null", b""])
def test_permissions_body_that_is_not_a_json_object_is_400(app, raw):
    plugin_error(app.put(PERMISSIONS_URL, raw, headers=ADMIN, content_type="application/json", status=400))
    assert stored_permissions() == {}


def test_permissions_are_for_sysadmins_only(app):
    grant(app, ON_BEHALF_TO_DEVELOPERS)
    for auth in (ALICE, CAROL):
        plugin_error(app.get(PERMISSIONS_URL, headers=auth, status=403))
        body = {"createAndDeleteOnBehalf": {"groups": ["developers", "api-automation"]}}
        plugin_error(app.put_json(PERMISSIONS_URL, body, headers=auth, status=403))
    assert app.get(PERMISSIONS_URL, status=401).json["errorMessages"] == [NOT_AUTHENTICATED]
    app.put_json(PERMISSIONS_URL, {"useTokens": {"everyone": False}}, status=401)
    assert app.get(PERMISSIONS_URL, headers=ADMIN, status=200).json == {
        **DEFAULT_PERMISSIONS,
        "createAndDeleteOnBehalf": {"groups": ["developers", "jira-administrators"]},
    }


# ----- the effect of each permission ----------------------------------------------------------------------------------
def test_use_tokens_restricted_to_groups(app, create_token):
    alices = create_token(auth=ALICE)
    carols = create_token(auth=CAROL)
    admins = create_token(auth=ADMIN)
    grant(app, {"useTokens": {"everyone": False, "groups": ["developers"]}})
    assert works(app, alices)
    assert not works(app, carols)
    app.get(MYSELF, headers=basic("carol", carols["plainTextToken"]), status=401)
    assert works(app, admins)  # sysadmins hold every permission
    app.get(MYSELF, headers=CAROL, status=200)  # her password is not a token
    grant(app, {"useTokens": {"everyone": False, "groups": ["api-automation"]}})
    assert works(app, carols) and not works(app, alices)
    grant(app, {"useTokens": {"everyone": True, "groups": []}})
    assert works(app, carols) and works(app, alices)


def test_create_tokens_restricted_to_groups(app, create_token):
    carols = create_token(auth=CAROL, tokenDescription="before")
    grant(app, {"createTokens": {"everyone": False, "groups": ["developers"]}})
    before = token_count()
    plugin_error(app.post_json(TOKEN_URL, {"tokenDescription": "x"}, headers=CAROL, status=403))
    assert token_count() == before
    plugin_error(app.patch_json(f"{TOKEN_URL}/{carols['id']}", {"tokenDescription": "y"}, headers=CAROL, status=403))
    plugin_error(app.delete(f"{TOKEN_URL}/{carols['id']}", headers=CAROL, status=403))
    assert listed(app, CAROL)[0]["description"] == "before"
    assert works(app, carols)  # using is another permission
    assert create_token(auth=ALICE)["tokenForUserKey"] == ALICE_KEY
    assert create_token(auth=ADMIN)["tokenForUserKey"] == "admin"


def test_on_behalf_granted_to_a_group(app, create_token):
    token = create_token(auth=CAROL)
    app.get(BY_FILTER_URL, headers=ALICE, status=403)
    grant(app, {"createAndDeleteOnBehalf": {"groups": ["developers"]}})
    body = app.get(BY_FILTER_URL, headers=ALICE, status=200).json
    assert [t["id"] for t in body["content"]] == [token["id"]]
    assert app.get(BY_EMAIL_URL, {"email": "bob@example.com"}, headers=ALICE, status=200).text == BOB_KEY
    assert create_token(auth=ALICE, tokenForUserKey=BOB_KEY)["tokenForUserKey"] == BOB_KEY
    app.get(BY_FILTER_URL, headers=CAROL, status=403)
    # the admin is no longer in the granted groups, and still holds it
    assert app.get(BY_FILTER_URL, headers=ADMIN, status=200).json["total"] == 2


def test_sysadmins_hold_every_permission_even_when_granted_to_nobody(app, create_token):
    grant(
        app,
        {
            "useTokens": {"everyone": False, "groups": []},
            "createTokens": {"everyone": False, "groups": []},
            "createAndDeleteOnBehalf": {"groups": []},
        },
    )
    own = create_token(auth=ADMIN, tokenScope=2)
    assert works(app, own)
    for_bob = create_token(auth=bearer(own["plainTextToken"]), tokenForUserKey=BOB_KEY)
    assert not works(app, for_bob)  # bob lacks Use Tokens
    assert app.get(BY_FILTER_URL, headers=ADMIN, status=200).json["total"] == 2
    assert app.get(BY_EMAIL_URL, {"email": "bob@example.com"}, headers=ADMIN, status=200).text == BOB_KEY
    app.patch_json(f"{TOKEN_URL}/{for_bob['id']}", {"tokenDescription": "r"}, headers=ADMIN, status=200)
    app.delete(f"{TOKEN_URL}/{for_bob['id']}", headers=ADMIN, status=200)
    plugin_error(app.post_json(TOKEN_URL, {}, headers=ALICE, status=403))


def test_a_new_sysadmin_holds_every_permission_at_once(app, create_token):
    token = create_token(auth=CAROL)
    app.get(BY_FILTER_URL, headers=ALICE, status=403)
    app.post_json("/rest/api/2/group/user?groupname=jira-administrators", {"name": "alice"}, headers=ADMIN, status=201)
    assert app.get(BY_FILTER_URL, headers=ALICE, status=200).json["content"][0]["id"] == token["id"]
