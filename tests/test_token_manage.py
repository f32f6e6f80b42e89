"""Contract §2.1/§2.2: listing, renaming and deleting tokens, ``lastAccessed`` bookkeeping and ``authTest``."""

from __future__ import annotations

import pytest

from plugins.apitokenauth import tokens
from plugins.apitokenauth.models import Token
from tests.conftest import ADMIN, ALICE, BOB, P, basic, bearer, sql_trace

PLUGIN = "de.resolution.apitokenauth"
URL = f"{P}/user/token"
AUTH_TEST = f"{P}/user/authTest"
ITEM_FIELDS = {
    "id",
    "description",
    "created",
    "lastAccessed",
    "validUntil",
    "tokenScope",
    "tokenForUserKey",
    "tokenCreatedByUserKey",
}
NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."


def row(token_id: int) -> Token | None:
    return Token.get_or_none(Token.id == token_id)


def failed(host, name: str) -> int:
    return host.users.by_name(name).failed_login_count


# ----- GET P/user/token -----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [URL, URL + "/"])
def test_list_shows_own_tokens_newest_first_with_exact_fields(app, clock, create_token, path):
    first = create_token(auth=ALICE, tokenDescription="first")
    clock.advance(seconds=5)
    create_token(auth=BOB, tokenDescription="bob's")
    clock.advance(seconds=5)
    on_behalf = create_token(auth=ADMIN, tokenDescription="from admin", tokenForUserKey="JIRAUSER10100", tokenScope=1)
    clock.advance(seconds=5)
    create_token(auth=ADMIN, tokenDescription="admin's own")
    clock.advance(seconds=5)
    third = create_token(auth=ALICE, tokenDescription="third")

    resp = app.get(path, headers=ALICE, status=200)
    items = resp.json
    assert isinstance(items, list)
    assert [i["id"] for i in items] == [third["id"], on_behalf["id"], first["id"]]
    assert [i["description"] for i in items] == ["third", "from admin", "first"]
    for item in items:
        assert set(item) == ITEM_FIELDS
        assert item["tokenForUserKey"] == "JIRAUSER10100"
        assert item["lastAccessed"] == 0
    assert items[1]["tokenCreatedByUserKey"] == "admin"
    assert items[1]["tokenScope"] == 1
    assert items[0]["tokenCreatedByUserKey"] == "JIRAUSER10100"
    assert items[0]["created"] == clock.now
    assert items[0]["validUntil"] == third["tokenExpirationDateTimeMillis"]
    assert items[2]["created"] == clock.now - 20_000
    for secret in (first["plainTextToken"], third["plainTextToken"], on_behalf["plainTextToken"]):
        assert secret not in resp.text
        assert row(first["id"]).digest not in resp.text
    assert "digest" not in resp.text and "plainTextToken" not in resp.text


def test_list_orders_tokens_created_in_the_same_millisecond_by_id(app, create_token):
    ids = [create_token(auth=BOB, tokenDescription=str(i))["id"] for i in range(4)]
    assert [i["id"] for i in app.get(URL, headers=BOB, status=200).json] == sorted(ids, reverse=True)


def test_list_is_empty_for_a_user_without_tokens(app, create_token):
    create_token(auth=ALICE)
    resp = app.get(URL, headers=BOB, status=200)
    assert resp.json == []
    assert resp.text == "[]"


def test_list_includes_expired_tokens(app, clock, create_token):
    created = create_token(auth=BOB, tokenValidityTimeInMonths=1)
    clock.advance(days=40)
    app.get("/rest/api/2/myself", headers=bearer(created["plainTextToken"]), status=401)
    assert [i["id"] for i in app.get(URL, headers=BOB, status=200).json] == [created["id"]]


def test_list_needs_authentication(app):
    resp = app.get(URL, status=401)
    assert resp.json["errorMessages"] == [NOT_AUTHENTICATED]


def test_list_with_a_token_shows_the_token_owners_tokens(app, create_token):
    mine = create_token(auth=BOB, tokenScope=1)
    create_token(auth=ALICE)
    items = app.get(URL, headers=bearer(mine["plainTextToken"]), status=200).json
    assert [i["id"] for i in items] == [mine["id"]]


# ----- PATCH P/user/token/<id> --------------------------------------------------------------------------
def test_rename_own_token(app, create_token):
    created = create_token(auth=ALICE, tokenDescription="old")
    resp = app.patch_json(f"{URL}/{created['id']}", {"tokenDescription": "  new name  "}, headers=ALICE, status=200)
    body = resp.json
    assert set(body) >= ITEM_FIELDS
    assert "plainTextToken" not in body and "digest" not in body
    assert created["plainTextToken"] not in resp.text
    assert row(created["id"]).digest not in resp.text
    assert body["id"] == created["id"]
    assert body["description"] == "new name"
    assert app.get(URL, headers=ALICE, status=200).json[0]["description"] == "new name"
    # the token itself is unchanged
    app.get("/rest/api/2/myself", headers=bearer(created["plainTextToken"]), status=200)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"tokenDescription": ""},
        {"tokenDescription": "   "},
        {"tokenDescription": None},
        {"tokenDescription": 5},
        {"tokenDescription": True},
        {"tokenDescription": ["x"]},
        {"tokenDescription": "x" * 256},
        {"tokenDescription": "nul\x00"},
        {"tokenDescription": "ok", "tokenScope": 1},
        {"description": "ok"},
    ],
)
def test_rename_refuses_bad_bodies(app, create_token, body):
    created = create_token(auth=ALICE, tokenDescription="keep")
    resp = app.patch_json(f"{URL}/{created['id']}", body, headers=ALICE, status=400)
    message = resp.json["errorMessage"]
    assert set(resp.json) == {"errorMessage"}
    named = [name for name in ("tokenDescription", "tokenScope", "description") if name in message]
    assert named, message
    assert row(created["id"]).description == "keep"
    assert row(created["id"]).scope == 2


@pytest.mark.parametrize("raw, status", [(b"{", 400), (b"[]", 400), (b"", 400), (b'"x"', 400)])
def test_rename_refuses_malformed_json(app, create_token, raw, status):
    created = create_token(auth=ALICE, tokenDescription="keep")
    app.patch(f"{URL}/{created['id']}", raw, headers=ALICE, content_type="application/json", status=status)
    assert row(created["id"]).description == "keep"


def test_rename_refuses_wrong_content_type(app, create_token):
    created = create_token(auth=ALICE, tokenDescription="keep")
    app.patch(
        f"{URL}/{created['id']}", b'{"tokenDescription":"x"}', headers=ALICE, content_type="text/plain", status=415
    )
    assert row(created["id"]).description == "keep"


def test_rename_another_users_token_is_404_without_on_behalf(app, create_token):
    bobs = create_token(auth=BOB, tokenDescription="bob's")
    resp = app.patch_json(f"{URL}/{bobs['id']}", {"tokenDescription": "hacked"}, headers=ALICE, status=404)
    unknown = app.patch_json(f"{URL}/999999", {"tokenDescription": "x"}, headers=ALICE, status=404)
    # indistinguishable from a token that does not exist, apart from the id
    assert resp.json["errorMessage"].replace(str(bobs["id"]), "N") == unknown.json["errorMessage"].replace(
        "999999", "N"
    )
    assert row(bobs["id"]).description == "bob's"


def test_admin_renames_another_users_token(app, create_token):
    bobs = create_token(auth=BOB, tokenDescription="bob's")
    body = app.patch_json(
        f"{URL}/{bobs['id']}", {"tokenDescription": "renamed by admin"}, headers=ADMIN, status=200
    ).json
    assert body["description"] == "renamed by admin"
    assert body["tokenForUserKey"] == "JIRAUSER10101"
    assert app.get(URL, headers=BOB, status=200).json[0]["description"] == "renamed by admin"


def test_on_behalf_group_member_renames_another_users_token(app, host, create_token):
    host.permissions.update({"createAndDeleteOnBehalf": {"groups": ["developers"]}})
    carols = create_token(auth=basic("carol", "carol"))
    app.patch_json(f"{URL}/{carols['id']}", {"tokenDescription": "by alice"}, headers=ALICE, status=200)
    assert row(carols["id"]).description == "by alice"


def test_rename_own_token_needs_create_permission(app, host, create_token):
    carols = create_token(auth=basic("carol", "carol"), tokenDescription="carol's")
    host.permissions.update({"createTokens": {"everyone": False, "groups": ["developers"]}})
    app.patch_json(f"{URL}/{carols['id']}", {"tokenDescription": "x"}, headers=basic("carol", "carol"), status=403)
    app.delete(f"{URL}/{carols['id']}", headers=basic("carol", "carol"), status=403)
    assert row(carols["id"]).description == "carol's"


def test_rename_unknown_id_is_404(app):
    resp = app.patch_json(f"{URL}/424242", {"tokenDescription": "x"}, headers=ADMIN, status=404)
    assert "424242" in resp.json["errorMessage"]


@pytest.mark.parametrize("token_id", ["abc", "-1", "1.0", "1e3", "%C2%B2", "%D9%A1", "9" * 30, "0x1", "%20"])
def test_non_numeric_ids_are_400(app, create_token, token_id):
    create_token()
    resp = app.patch_json(f"{URL}/{token_id}", {"tokenDescription": "x"}, headers=ADMIN, status=400)
    assert resp.json["errorMessage"]
    app.delete(f"{URL}/{token_id}", headers=ADMIN, status=400)
    assert Token.select().count() == 1


def test_rename_is_a_write_refused_to_a_read_only_token(app, create_token):
    created = create_token(auth=ALICE, tokenScope=1, tokenDescription="ro")
    resp = app.patch_json(
        f"{URL}/{created['id']}", {"tokenDescription": "x"}, headers=bearer(created["plainTextToken"]), status=403
    )
    assert resp.json["errorMessages"] == ["This token is read-only"]
    assert row(created["id"]).description == "ro"


# ----- DELETE P/user/token/<id> -------------------------------------------------------------------------
def test_delete_own_token_answers_true_and_the_token_stops_working(app, create_token):
    created = create_token(auth=ALICE)
    token = created["plainTextToken"]
    app.get("/rest/api/2/myself", headers=bearer(token), status=200)
    resp = app.delete(f"{URL}/{created['id']}", headers=ALICE, status=200)
    assert resp.text == "true"
    assert resp.json is True
    assert row(created["id"]) is None
    app.get("/rest/api/2/myself", headers=bearer(token), status=401)
    app.get("/rest/api/2/myself", headers=basic("alice", token), status=401)
    assert app.get(URL, headers=ALICE, status=200).json == []
    app.delete(f"{URL}/{created['id']}", headers=ALICE, status=404)


def test_a_token_may_delete_itself(app, create_token):
    created = create_token(auth=BOB)
    token = created["plainTextToken"]
    app.delete(f"{URL}/{created['id']}", headers=bearer(token), status=200)
    app.get(URL, headers=bearer(token), status=401)


def test_delete_another_users_token_is_404_without_on_behalf(app, create_token):
    bobs = create_token(auth=BOB)
    app.delete(f"{URL}/{bobs['id']}", headers=ALICE, status=404)
    assert row(bobs["id"]) is not None
    app.get("/rest/api/2/myself", headers=bearer(bobs["plainTextToken"]), status=200)


def test_admin_deletes_another_users_token(app, create_token):
    bobs = create_token(auth=BOB)
    assert app.delete(f"{URL}/{bobs['id']}", headers=ADMIN, status=200).json is True
    app.get("/rest/api/2/myself", headers=bearer(bobs["plainTextToken"]), status=401)
    assert app.get(URL, headers=BOB, status=200).json == []


def test_delete_unknown_id_is_404(app):
    app.delete(f"{URL}/31337", headers=ADMIN, status=404)


def test_delete_needs_authentication(app, create_token):
    created = create_token()
    app.delete(f"{URL}/{created['id']}", status=401)
    assert row(created["id"]) is not None


def test_deleting_one_token_leaves_the_others_working(app, create_token):
    first = create_token(auth=ALICE)
    second = create_token(auth=ALICE)
    app.delete(f"{URL}/{first['id']}", headers=ALICE, status=200)
    app.get("/rest/api/2/myself", headers=bearer(second["plainTextToken"]), status=200)
    assert [i["id"] for i in app.get(URL, headers=ALICE, status=200).json] == [second["id"]]


# ----- lastAccessed ---------------------------------------------------------------------------------------
def _last_accessed(app, auth, token_id: int) -> int:
    return next(i["lastAccessed"] for i in app.get(URL, headers=auth, status=200).json if i["id"] == token_id)


def test_last_accessed_is_written_at_most_once_a_minute(app, clock, create_token):
    created = create_token(auth=ALICE)
    token, token_id = created["plainTextToken"], created["id"]
    assert _last_accessed(app, ALICE, token_id) == 0

    clock.advance(seconds=10)
    first_use = clock.now
    app.get("/rest/api/2/myself", headers=bearer(token), status=200)
    assert _last_accessed(app, ALICE, token_id) == first_use

    clock.advance(seconds=30)
    app.get("/rest/api/2/myself", headers=bearer(token), status=200)
    assert _last_accessed(app, ALICE, token_id) == first_use  # no write on the hot path

    clock.advance(seconds=29)
    app.get("/rest/api/2/serverInfo", headers=basic("alice", token), status=200)
    assert _last_accessed(app, ALICE, token_id) == first_use

    clock.advance(seconds=2)  # 61 s after the first use
    app.get("/rest/api/2/myself", headers=bearer(token), status=200)
    assert _last_accessed(app, ALICE, token_id) == clock.now


@pytest.mark.parametrize("scheme", ["bearer", "basic"])
def test_verifying_a_token_writes_nothing_within_the_interval(app, host, clock, create_token, scheme):
    """The hot path: after the first use, requests within the interval issue no write statement at all."""
    token = create_token(auth=ALICE)["plainTextToken"]
    headers = bearer(token) if scheme == "bearer" else basic("alice", token)
    with sql_trace(host) as statements:
        app.get("/rest/api/2/myself", headers=headers, status=200)
        first = [s for s in statements if s.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))]
        assert len(first) == 1 and "apitokenauth_token" in first[0]  # the first use records lastAccessed
        statements.clear()
        for _ in range(5):
            clock.advance(seconds=10)
            app.get("/rest/api/2/myself", headers=headers, status=200)
        writes = [s for s in statements if s.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE", "REPLACE"))]
        assert writes == []
        token_reads = [s for s in statements if "apitokenauth_token" in s]
        assert len(token_reads) == 5  # one read per request


def test_last_accessed_write_interval_is_configurable(app, host, clock, create_token):
    host.settings.update(PLUGIN, {"lastAccessedWriteIntervalSeconds": 5})
    created = create_token(auth=BOB)
    app.get("/rest/api/2/myself", headers=bearer(created["plainTextToken"]), status=200)
    first = clock.now
    clock.advance(seconds=4)
    app.get("/rest/api/2/myself", headers=bearer(created["plainTextToken"]), status=200)
    assert _last_accessed(app, BOB, created["id"]) == first
    clock.advance(seconds=2)
    app.get("/rest/api/2/myself", headers=bearer(created["plainTextToken"]), status=200)
    assert _last_accessed(app, BOB, created["id"]) == clock.now


def test_failed_uses_do_not_touch_last_accessed(app, clock, create_token):
    created = create_token(auth=ALICE, allowedIpRanges=["10.0.0.0/8"])
    clock.advance(seconds=120)
    app.get("/rest/api/2/myself", headers=bearer(created["plainTextToken"]), status=401)
    assert _last_accessed(app, ALICE, created["id"]) == 0
    app.get(
        "/rest/api/2/myself",
        headers=bearer(created["plainTextToken"]),
        extra_environ={"REMOTE_ADDR": "10.9.8.7"},
        status=200,
    )
    assert _last_accessed(app, ALICE, created["id"]) == clock.now


def test_unused_tokens_keep_last_accessed_zero(app, create_token):
    used = create_token(auth=ALICE)
    unused = create_token(auth=ALICE)
    app.get("/rest/api/2/myself", headers=bearer(used["plainTextToken"]), status=200)
    assert _last_accessed(app, ALICE, unused["id"]) == 0
    assert _last_accessed(app, ALICE, used["id"]) > 0


# ----- GET P/user/authTest ---------------------------------------------------------------------------------
def _auth_test(app, headers=None) -> dict:
    resp = app.get(AUTH_TEST, headers=headers or {}, status=200)
    doc = resp.json
    assert {"isSuccessfulAuthentication", "authenticationFailureDetails", "userKey"} <= set(doc)
    return doc


def test_auth_test_without_credentials(app):
    doc = _auth_test(app)
    assert doc["isSuccessfulAuthentication"] is False
    assert isinstance(doc["authenticationFailureDetails"], str) and doc["authenticationFailureDetails"]
    assert doc["userKey"] is None
    assert "tokenId" not in doc


def test_auth_test_with_a_password(app):
    doc = _auth_test(app, ALICE)
    assert doc["isSuccessfulAuthentication"] is True
    assert doc["authenticationFailureDetails"] is None
    assert doc["userKey"] == "JIRAUSER10100"
    assert "tokenId" not in doc


@pytest.mark.parametrize("scheme", ["bearer", "basic"])
def test_auth_test_with_a_token_reports_its_id_scope_and_expiry(app, create_token, scheme):
    created = create_token(auth=BOB, tokenScope=1, tokenValidityTimeInMonths=3)
    token = created["plainTextToken"]
    headers = bearer(token) if scheme == "bearer" else basic("bob", token)
    doc = _auth_test(app, headers)
    assert doc["isSuccessfulAuthentication"] is True
    assert doc["authenticationFailureDetails"] is None
    assert doc["userKey"] == "JIRAUSER10101"
    assert doc["tokenId"] == created["id"]
    assert doc["tokenScope"] == 1
    assert doc["validUntil"] == created["tokenExpirationDateTimeMillis"]


def test_auth_test_with_a_never_expiring_token(app, host, create_token):
    host.settings.update(PLUGIN, {"maxValidityMonths": 0})
    created = create_token(auth=BOB, tokenValidityTimeInMonths=0)
    doc = _auth_test(app, bearer(created["plainTextToken"]))
    assert doc["validUntil"] == 0
    assert doc["tokenScope"] == 2


@pytest.mark.parametrize(
    "headers",
    [
        bearer(tokens.generate()),
        bearer("not-a-token"),
        basic("alice", tokens.generate()),
        basic("alice", "wrong password"),
        {"Authorization": "Basic !!!"},
        {"Authorization": "Negotiate abc"},
    ],
    ids=[
        "bearer-unknown",
        "bearer-garbage",
        "basic-unknown-token",
        "basic-wrong-password",
        "basic-malformed",
        "scheme",
    ],
)
def test_auth_test_with_bad_credentials_is_200_never_401(app, headers):
    doc = _auth_test(app, headers)
    assert doc["isSuccessfulAuthentication"] is False
    assert doc["authenticationFailureDetails"]
    assert doc["userKey"] is None
    assert "tokenId" not in doc


def test_auth_test_with_an_expired_token(app, clock, create_token):
    created = create_token(auth=ALICE, tokenValidityTimeInMonths=1)
    clock.advance(days=32)
    doc = _auth_test(app, bearer(created["plainTextToken"]))
    assert doc["isSuccessfulAuthentication"] is False
    assert doc["userKey"] is None


def test_auth_test_for_a_captcha_locked_user(app, host, create_token):
    token = create_token(auth=ALICE)["plainTextToken"]
    for _ in range(3):
        app.get("/rest/api/2/myself", headers=basic("alice", "wrong"), status=401)
    assert failed(host, "alice") == 3
    for headers in (ALICE, basic("alice", token)):
        doc = _auth_test(app, headers)
        assert doc["isSuccessfulAuthentication"] is False
        assert doc["userKey"] is None
        assert doc["authenticationFailureDetails"]
    assert failed(host, "alice") == 3  # refused before any secret was checked
    doc = _auth_test(app, bearer(token))  # a Bearer token is not blocked by the lock
    assert doc["isSuccessfulAuthentication"] is True
    assert doc["userKey"] == "JIRAUSER10100"


def test_auth_test_answers_404_while_the_plugin_is_disabled(app, host):
    host.plugins.set_enabled(PLUGIN, False)
    app.get(AUTH_TEST, status=404)
    app.get(AUTH_TEST, headers=ALICE, status=404)
    host.plugins.set_enabled(PLUGIN, True)
    assert _auth_test(app, ALICE)["isSuccessfulAuthentication"] is True
