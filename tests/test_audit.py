"""Contract §1.5 (``GET /rest/api/2/auditing/record``) and §2.7: the host's audit log, written by the plugin
through the host. Every event is written exactly once with its actor, target, token and remote address; the
optional events only when their setting is on; ``python -m host audit-export`` writes JSON lines."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import pytest

from host.audit import iso
from host.cli import main
from host.db import database
from host.models import Setting
from plugins.apitokenauth import tokens
from tests.conftest import ADMIN, ALICE, BOB, P, basic, bearer

PLUGIN = "de.resolution.apitokenauth"
PLUGIN_NAME = "API Token Authentication"
RECORDS = "/rest/api/2/auditing/record"
TOKENS = f"{P}/user/token"
MYSELF = "/rest/api/2/myself"
ALICE_KEY, BOB_KEY = "JIRAUSER10100", "JIRAUSER10101"
RECORD_KEYS = {
    "id",
    "summary",
    "remoteAddress",
    "authorKey",
    "created",
    "category",
    "eventSource",
    "changedValues",
    "associatedItems",
}
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$")


def at(address: str) -> dict[str, str]:
    return {"REMOTE_ADDR": address}


def settings(host, **changes: Any) -> None:
    host.settings.update(PLUGIN, changes)


def records(app, **params: Any) -> list[dict[str, Any]]:
    query = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in params.items())
    doc = app.get(f"{RECORDS}?{query}", headers=ADMIN, status=200).json
    for record in doc["records"]:
        assert RECORD_KEYS <= set(record) <= RECORD_KEYS | {"objectItem"}
        assert ISO.match(record["created"])
    return doc["records"]


def with_summary(app, summary: str) -> list[dict[str, Any]]:
    return [r for r in records(app) if r["summary"] == summary]


def one(app, summary: str) -> dict[str, Any]:
    found = with_summary(app, summary)
    assert len(found) == 1, [r["summary"] for r in records(app)]
    return found[0]


def token_item(token_id: int, description: str) -> dict[str, str]:
    return {"id": str(token_id), "name": description, "typeName": "API_TOKEN"}


def user_item(key: str, name: str) -> list[dict[str, str]]:
    return [{"id": key, "name": name, "typeName": "USER"}]


def run_cli(host, *args: str, invalidate: bool = True) -> int:
    """``python -m host`` in-process on this test's database; the test's host keeps its own connection and,
    unless ``invalidate``, its cached settings (as another node would)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HOST_SECRET", host.config.secret.decode())
        code = main([*args, "--data-dir", str(host.config.data_dir), "--database-url", host.config.database_url])
    database.initialize(host.db)
    if invalidate:
        host.settings.invalidate()
    return code


# ----- always-on events --------------------------------------------------------------------------------------------
def test_own_token_created(app, host, clock):
    created = app.post_json(
        TOKENS, {"tokenDescription": "ci token", "tokenScope": 1}, headers=ALICE, extra_environ=at("192.0.2.10")
    ).json
    record = one(app, "API token created")
    assert record == {
        "id": record["id"],
        "summary": "API token created",
        "remoteAddress": "192.0.2.10",
        "authorKey": ALICE_KEY,
        "created": iso(clock.now),
        "category": "tokens",
        "eventSource": PLUGIN,
        "objectItem": token_item(created["id"], "ci token"),
        "changedValues": [
            {"fieldName": "scope", "changedFrom": None, "changedTo": "1"},
            {
                "fieldName": "validUntil",
                "changedFrom": None,
                "changedTo": str(created["tokenExpirationDateTimeMillis"]),
            },
        ],
        "associatedItems": user_item(ALICE_KEY, "alice"),
    }
    assert len(records(app)) == 1


def test_token_created_on_behalf(app):
    created = app.post_json(
        TOKENS, {"tokenDescription": "for bob", "tokenForUserKey": BOB_KEY}, headers=ADMIN, extra_environ=at("::1")
    ).json
    record = one(app, "API token created on behalf of another user")
    assert record["authorKey"] == "admin"
    assert record["remoteAddress"] == "::1"
    assert record["objectItem"] == token_item(created["id"], "for bob")
    assert record["associatedItems"] == user_item(BOB_KEY, "bob")
    assert with_summary(app, "API token created") == []


def test_token_renamed(app, create_token):
    created = create_token(auth=BOB, tokenDescription="old name")
    app.patch_json(
        f"{TOKENS}/{created['id']}", {"tokenDescription": "new name"}, headers=ADMIN, extra_environ=at("10.9.8.7")
    )
    record = one(app, "API token renamed")
    assert record["authorKey"] == "admin"
    assert record["remoteAddress"] == "10.9.8.7"
    assert record["category"] == "tokens" and record["eventSource"] == PLUGIN
    assert record["objectItem"] == token_item(created["id"], "new name")
    assert record["associatedItems"] == user_item(BOB_KEY, "bob")
    assert record["changedValues"] == [{"fieldName": "description", "changedFrom": "old name", "changedTo": "new name"}]


def test_token_deleted(app, create_token):
    created = create_token(auth=BOB, tokenDescription="doomed")
    app.delete(f"{TOKENS}/{created['id']}", headers=BOB, extra_environ=at("10.0.0.3"), status=200)
    record = one(app, "API token deleted")
    assert record["authorKey"] == BOB_KEY
    assert record["remoteAddress"] == "10.0.0.3"
    assert record["objectItem"] == token_item(created["id"], "doomed")
    assert record["associatedItems"] == user_item(BOB_KEY, "bob")
    # A failed delete (unknown id) writes nothing.
    app.delete(f"{TOKENS}/{created['id']}", headers=BOB, status=404)
    assert len(with_summary(app, "API token deleted")) == 1


def test_all_tokens_of_a_user_deleted(app, create_token):
    for i in range(3):
        create_token(auth=BOB, tokenDescription=f"t{i}")
    app.delete(f"{TOKENS}/deleteAllFor/{BOB_KEY}", headers=ADMIN, extra_environ=at("10.0.0.4"), status=200)
    record = one(app, "All API tokens of a user deleted (3)")
    assert record["authorKey"] == "admin"
    assert record["remoteAddress"] == "10.0.0.4"
    assert "objectItem" not in record
    assert record["associatedItems"] == user_item(BOB_KEY, "bob")
    assert record["changedValues"] == [{"fieldName": "tokens", "changedFrom": "3", "changedTo": "0"}]
    app.delete(f"{TOKENS}/deleteAllFor/{BOB_KEY}", headers=ALICE, status=403)
    app.delete(f"{TOKENS}/deleteAllFor/NOBODY", headers=ADMIN, status=404)
    assert len([r for r in records(app) if r["summary"].startswith("All API tokens")]) == 1


def test_settings_change(app):
    app.put_json(
        f"{P}/admin/settings",
        {
            "maxValidityMonths": 6,
            "defaultValidityMonths": 6,
            "trustedProxies": ["10.0.0.0/8"],
            "readOnlyTokensOnly": False,
        },
        headers=ADMIN,
        extra_environ=at("10.0.0.5"),
        status=200,
    )
    record = one(app, "API token settings changed")
    assert record["authorKey"] == "admin"
    assert record["remoteAddress"] == "10.0.0.5"
    assert record["category"] == "settings" and record["eventSource"] == PLUGIN
    assert record["associatedItems"] == [] and "objectItem" not in record
    # Only what changed, with old and new values (readOnlyTokensOnly was already false).
    assert sorted(record["changedValues"], key=lambda c: c["fieldName"]) == [
        {"fieldName": "defaultValidityMonths", "changedFrom": "12", "changedTo": "6"},
        {"fieldName": "maxValidityMonths", "changedFrom": "12", "changedTo": "6"},
        {"fieldName": "trustedProxies", "changedFrom": "[]", "changedTo": '["10.0.0.0/8"]'},
    ]
    # No change, a refused change, a non-admin: no record.
    app.put_json(f"{P}/admin/settings", {"maxValidityMonths": 6}, headers=ADMIN, status=200)
    app.put_json(f"{P}/admin/settings", {"maxValidityMonths": -1}, headers=ADMIN, status=400)
    app.put_json(f"{P}/admin/settings", {"maxValidityMonths": 3}, headers=ALICE, status=403)
    assert len(records(app)) == 1


def test_settings_change_sees_a_change_made_elsewhere(app, host):
    app.get(f"{P}/admin/settings", headers=ADMIN, status=200)  # this process now caches maxValidityMonths 12
    # Another node changes the setting (straight into the database), then this node changes it again.
    Setting.insert(key=f"{PLUGIN}:maxValidityMonths", value="9").on_conflict(
        conflict_target=[Setting.key], preserve=[Setting.value]
    ).execute()
    app.put_json(f"{P}/admin/settings", {"maxValidityMonths": 14}, headers=ADMIN, status=200)
    record = one(app, "API token settings changed")
    assert record["changedValues"] == [{"fieldName": "maxValidityMonths", "changedFrom": "9", "changedTo": "14"}]


def test_permissions_change(app):
    app.put_json(
        f"{P}/admin/permissions",
        {"useTokens": {"everyone": False, "groups": ["developers"]}, "createTokens": {"everyone": True, "groups": []}},
        headers=ADMIN,
        extra_environ=at("10.0.0.6"),
        status=200,
    )
    record = one(app, "API token permissions changed")
    assert record["authorKey"] == "admin" and record["remoteAddress"] == "10.0.0.6"
    assert record["category"] == "settings" and record["eventSource"] == PLUGIN
    assert len(record["changedValues"]) == 1
    change = record["changedValues"][0]
    assert change["fieldName"] == "useTokens"
    assert json.loads(change["changedFrom"]) == {"everyone": True, "groups": []}
    assert json.loads(change["changedTo"]) == {"everyone": False, "groups": ["developers"]}
    app.put_json(f"{P}/admin/permissions", {"useTokens": {"groups": ["x"]}}, headers=ALICE, status=403)
    app.put_json(f"{P}/admin/permissions", {"useTokens": {"groups": [5]}}, headers=ADMIN, status=400)
    assert len(records(app)) == 1


def test_plugin_disabled_and_enabled_through_rest(app):
    url = f"/rest/plugins/1.0/{PLUGIN}-key"
    app.put_json(url, {"enabled": False}, headers=ADMIN, extra_environ=at("10.0.0.7"), status=200)
    app.put_json(url, {"enabled": False}, headers=ADMIN, status=200)  # no change: no record
    app.put_json(url, {"enabled": True}, headers=ADMIN, extra_environ=at("10.0.0.8"), status=200)
    disabled, enabled = one(app, "Plugin disabled"), one(app, "Plugin enabled")
    for record, was, now, address in ((disabled, "true", "false", "10.0.0.7"), (enabled, "false", "true", "10.0.0.8")):
        assert record["authorKey"] == "admin" and record["remoteAddress"] == address
        assert record["category"] == "plugins" and record["eventSource"] == "host"
        assert record["objectItem"] == {"id": PLUGIN, "name": PLUGIN_NAME, "typeName": "PLUGIN"}
        assert record["changedValues"] == [{"fieldName": "enabled", "changedFrom": was, "changedTo": now}]
    assert [r["summary"] for r in records(app)] == ["Plugin enabled", "Plugin disabled"]


def test_plugin_disabled_and_enabled_through_the_cli(app, host, capsys):
    assert run_cli(host, "disable-plugin", PLUGIN) == 0
    app.get(TOKENS, headers=ADMIN, status=404)
    assert run_cli(host, "disable-plugin", PLUGIN) == 0  # already disabled: no record
    assert run_cli(host, "enable-plugin", PLUGIN) == 0
    capsys.readouterr()
    disabled, enabled = one(app, "Plugin disabled"), one(app, "Plugin enabled")
    for record in (disabled, enabled):
        assert record["authorKey"] == "cli" and record["remoteAddress"] == ""
        assert record["objectItem"]["id"] == PLUGIN
    # The REST enable after a CLI disable on "another node" sees the stored state, not its cache.
    app.get(TOKENS, headers=ADMIN, status=200)
    assert run_cli(host, "disable-plugin", PLUGIN, invalidate=False) == 0
    app.put_json(f"/rest/plugins/1.0/{PLUGIN}-key", {"enabled": True}, headers=ADMIN, status=200)
    assert [r["summary"] for r in records(app)][:2] == ["Plugin enabled", "Plugin disabled"]
    assert len(with_summary(app, "Plugin enabled")) == 2


def test_plugin_disable_keeps_writing_host_records_and_old_records(app, create_token):
    create_token(auth=ALICE)
    app.put_json(f"/rest/plugins/1.0/{PLUGIN}-key", {"enabled": False}, headers=ADMIN, status=200)
    assert [r["summary"] for r in records(app)] == ["Plugin disabled", "API token created"]


# ----- optional events ------------------------------------------------------------------------------------------------
def test_optional_events_are_off_by_default(app, host, clock, create_token):
    token = create_token(auth=BOB, allowedIpRanges=["10.0.0.0/8"])["plainTextToken"]
    app.get(MYSELF, headers=bearer(token), extra_environ=at("10.0.0.1"), status=200)
    app.get(MYSELF, headers=bearer(token), extra_environ=at("192.0.2.1"), status=401)
    app.get(MYSELF, headers=bearer(tokens.generate()), status=401)
    app.get(f"{P}/admin/settings", headers=ALICE, status=403)
    assert [r["summary"] for r in records(app)] == ["API token created"]


@pytest.mark.parametrize("kind", ["bearer", "basic"])
def test_successful_token_authentication(app, host, create_token, kind):
    created = create_token(auth=BOB, tokenDescription="build bot")
    settings(host, auditSuccessfulAuthentication=True)
    headers = bearer(created["plainTextToken"]) if kind == "bearer" else basic("bob", created["plainTextToken"])
    app.get(MYSELF, headers=headers, extra_environ=at("10.1.1.1"), status=200)
    record = one(app, "API token authentication succeeded")
    assert record["authorKey"] == BOB_KEY
    assert record["remoteAddress"] == "10.1.1.1"
    assert record["category"] == "authentication" and record["eventSource"] == PLUGIN
    assert record["objectItem"] == token_item(created["id"], "build bot")
    assert record["associatedItems"] == user_item(BOB_KEY, "bob")
    app.get(MYSELF, headers=BOB, status=200)  # a password is not a token authentication
    app.get(MYSELF, headers=headers, status=200)
    assert len(with_summary(app, "API token authentication succeeded")) == 2
    assert not [r for r in records(app) if "failed" in r["summary"]]


def test_successful_session_login_with_a_token_is_audited_once(app, host, create_token):
    created = create_token(auth=BOB)
    settings(host, auditSuccessfulAuthentication=True)
    app.post_json("/rest/auth/1/session", {"username": "bob", "password": created["plainTextToken"]}, status=200)
    app.reset()
    assert one(app, "API token authentication succeeded")["objectItem"]["id"] == str(created["id"])


def test_token_refused_by_the_global_allow_list_is_not_a_success(app, host, create_token):
    created = create_token(auth=BOB)
    settings(host, auditSuccessfulAuthentication=True, auditFailedAuthentication=True, allowedIpRanges=["10.0.0.0/8"])
    app.get(MYSELF, headers=bearer(created["plainTextToken"]), extra_environ=at("192.0.2.9"), status=401)
    summaries = [r["summary"] for r in app.get(RECORDS, headers=ADMIN, extra_environ=at("10.0.0.1")).json["records"]]
    assert summaries.count("API token authentication failed: client address outside the global allow-list") == 1
    assert "API token authentication succeeded" not in summaries
    # A password refused by the allow-list is audited too, as what it is.
    app.get(MYSELF, headers=ALICE, extra_environ=at("192.0.2.9"), status=401)
    doc = app.get(RECORDS, headers=ADMIN, extra_environ=at("10.0.0.1")).json
    password = [
        r
        for r in doc["records"]
        if r["summary"] == "Authentication failed: client address outside the global allow-list"
    ]
    assert len(password) == 1
    assert password[0]["authorKey"] == ALICE_KEY and password[0]["remoteAddress"] == "192.0.2.9"
    assert "objectItem" not in password[0]


def failure_case(app, host, clock, create_token, case: str) -> tuple[str, dict[str, str], str | None, str]:
    """Present a failing token; returns (reason, address, token id or None, owner key or "")."""
    address = "10.20.30.40"
    if case in ("unknown-bearer", "unknown-basic"):
        token = tokens.generate()
        headers = bearer(token) if case == "unknown-bearer" else basic("alice", token)
        app.get(MYSELF, headers=headers, extra_environ=at(address), status=401)
        return "unknown or revoked token", address, None, ""
    if case == "not-a-token":
        app.get(MYSELF, headers=bearer("no-token-at-all"), extra_environ=at(address), status=401)
        return "not an API token", address, None, ""
    created = create_token(
        auth=ALICE,
        tokenDescription=f"case {case}",
        tokenValidityTimeInMonths=1,
        allowedIpRanges=["10.0.0.0/8"] if case == "ip" else [],
        headerValueAccessRules=[{"headerName": "X-Ci", "headerValue": "yes"}] if case == "header" else [],
    )
    token = created["plainTextToken"]
    if case in ("expired-bearer", "expired-basic"):
        clock.now = created["tokenExpirationDateTimeMillis"] + 1
        headers = bearer(token) if case == "expired-bearer" else basic("alice", token)
        app.get(MYSELF, headers=headers, extra_environ=at(address), status=401)
        return "token expired", address, str(created["id"]), ALICE_KEY
    if case == "ip":
        address = "192.0.2.77"
        app.get(MYSELF, headers=bearer(token), extra_environ=at(address), status=401)
        return "client address outside the token's allowed IP ranges", address, str(created["id"]), ALICE_KEY
    if case == "header":
        app.get(MYSELF, headers=bearer(token), extra_environ=at(address), status=401)
        return "a header rule of the token is not met", address, str(created["id"]), ALICE_KEY
    if case == "other-user":
        app.get(MYSELF, headers=basic("bob", token), extra_environ=at(address), status=401)
        return "token of another user", address, str(created["id"]), ALICE_KEY
    raise AssertionError(case)


FAILURES = [
    "unknown-bearer",
    "unknown-basic",
    "not-a-token",
    "expired-bearer",
    "expired-basic",
    "ip",
    "header",
    "other-user",
]


@pytest.mark.parametrize("case", FAILURES)
def test_failed_token_authentication_with_reason(app, host, clock, create_token, case):
    settings(host, auditFailedAuthentication=True)
    reason, address, token_id, owner = failure_case(app, host, clock, create_token, case)
    failures = [r for r in records(app) if r["category"] == "authentication"]
    assert len(failures) == 1, [r["summary"] for r in failures]
    record = failures[0]
    assert record["summary"] == f"API token authentication failed: {reason}"
    assert record["remoteAddress"] == address
    assert record["authorKey"] == owner
    assert record["eventSource"] == PLUGIN
    if token_id is None:
        assert "objectItem" not in record and record["associatedItems"] == []
    else:
        assert record["objectItem"] == token_item(int(token_id), f"case {case}")
        assert record["associatedItems"] == user_item(ALICE_KEY, "alice")


@pytest.mark.parametrize("case", FAILURES)
def test_failed_token_authentication_is_not_audited_when_off(app, host, clock, create_token, case):
    failure_case(app, host, clock, create_token, case)
    assert [r for r in records(app) if r["category"] == "authentication"] == []


def test_failed_basic_token_with_passwords_disabled_is_audited_once(app, host):
    settings(host, auditFailedAuthentication=True, disableBasicAuthWithPassword=True)
    app.get(MYSELF, headers=basic("alice", tokens.generate()), status=401)
    settings(host, disableBasicAuthWithPassword=False)  # so that the admin can read the log with a password
    assert len(with_summary(app, "API token authentication failed: unknown or revoked token")) == 1


def test_a_wrong_password_is_not_a_failed_token_authentication(app, host):
    settings(host, auditFailedAuthentication=True)
    app.get(MYSELF, headers=basic("alice", "wrong"), status=401)
    assert [r for r in records(app) if r["category"] == "authentication"] == []


def test_permission_denied(app, host, create_token):
    read_only = create_token(auth=ADMIN, tokenScope=1)["plainTextToken"]
    settings(host, auditPermissionDenied=True)
    app.get(f"{P}/admin/settings", headers=ALICE, extra_environ=at("10.0.0.9"), status=403)
    app.post_json("/rest/api/2/group", {"name": "g"}, headers=bearer(read_only), status=403)
    denied = [r for r in records(app) if r["category"] == "permissions"]
    assert [r["summary"] for r in denied] == [
        "Permission denied: This token is read-only",
        "Permission denied: Only system administrators may perform this operation",
    ]
    assert [r["authorKey"] for r in denied] == ["admin", ALICE_KEY]
    assert denied[1]["remoteAddress"] == "10.0.0.9"
    assert all(r["eventSource"] == PLUGIN for r in denied)


def test_permission_denied_off_and_captcha_is_not_a_denial(app, host):
    app.get(f"{P}/admin/settings", headers=ALICE, status=403)
    settings(host, auditPermissionDenied=True)
    for _ in range(3):
        app.get(MYSELF, headers=basic("bob", "wrong"), status=401)
    app.get(MYSELF, headers=BOB, status=403)  # the captcha lock
    assert [r for r in records(app) if r["category"] == "permissions"] == []


# ----- GET /rest/api/2/auditing/record -----------------------------------------------------------------------------
@pytest.fixture
def five(app, clock, create_token) -> list[dict[str, Any]]:
    """Five 'API token created' records, one minute apart; returns the created tokens, oldest first."""
    made = []
    for i in range(5):
        made.append(
            create_token(auth=ALICE if i % 2 else BOB, tokenDescription=f"Token-{i} {'odd' if i % 2 else 'even'}")
        )
        clock.advance(seconds=60)
    return made


def test_envelope_newest_first(app, five):
    doc = app.get(RECORDS, headers=ADMIN, status=200).json
    assert set(doc) == {"offset", "limit", "total", "records"}
    assert (doc["offset"], doc["limit"], doc["total"]) == (0, 1000, 5)
    assert [r["objectItem"]["id"] for r in doc["records"]] == [str(t["id"]) for t in reversed(five)]
    ids = [r["id"] for r in doc["records"]]
    assert ids == sorted(ids, reverse=True)
    assert app.get(RECORDS, headers=ADMIN).headers["Content-Type"] == "application/json;charset=UTF-8"


def test_paging(app, five):
    doc = app.get(f"{RECORDS}?offset=1&limit=2", headers=ADMIN, status=200).json
    assert (doc["offset"], doc["limit"], doc["total"]) == (1, 2, 5)
    assert [r["objectItem"]["id"] for r in doc["records"]] == [str(five[3]["id"]), str(five[2]["id"])]
    assert [r["objectItem"]["id"] for r in records(app, offset=4, limit=2)] == [str(five[0]["id"])]
    doc = app.get(f"{RECORDS}?offset=10", headers=ADMIN, status=200).json
    assert doc["records"] == [] and doc["total"] == 5
    assert app.get(f"{RECORDS}?limit=5000", headers=ADMIN, status=200).json["limit"] == 1000


def test_filter_is_case_insensitive_text(app, five):
    assert len(records(app, filter="TOKEN CREATED")) == 5
    assert [r["objectItem"]["name"] for r in records(app, filter="token-3")] == ["Token-3 odd"]
    assert len(records(app, filter="ODD")) == 2
    assert len(records(app, filter="alice")) == 2  # the associated user's name
    assert len(records(app, filter="TOKENS")) == 5  # the category
    assert records(app, filter="no such thing") == []
    for wildcard in ("%", "_", "Token-_"):
        assert records(app, filter=wildcard) == []  # LIKE wildcards are literal
    doc = app.get(f"{RECORDS}?filter=odd&limit=1", headers=ADMIN, status=200).json
    assert doc["total"] == 2 and len(doc["records"]) == 1


def test_from_and_to(app, five):
    created = [t["created"] for t in five]
    assert [r["objectItem"]["id"] for r in records(app, **{"from": created[1], "to": created[3]})] == [
        str(five[3]["id"]),
        str(five[2]["id"]),
        str(five[1]["id"]),
    ]  # both bounds inclusive
    assert len(records(app, **{"from": created[4] + 1})) == 0
    assert len(records(app, to=created[0] - 1)) == 0
    moment = datetime.fromtimestamp(created[2] / 1000, tz=timezone.utc)
    for text in (
        iso(created[2]),  # Jira's own format, +0000
        moment.isoformat(),  # +00:00
        moment.isoformat().replace("+00:00", "Z"),
        moment.astimezone(timezone(timedelta(hours=2))).isoformat(),
        moment.astimezone(timezone(timedelta(hours=-5, minutes=-30))).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "-0530",
    ):
        assert len(records(app, **{"from": text})) == 3, text
        assert len(records(app, to=text)) == 3, text
    doc = app.get(f"{RECORDS}?from={created[2]}&limit=1", headers=ADMIN, status=200).json
    assert doc["total"] == 3


@pytest.mark.parametrize(
    "query, field",
    [
        ("offset=-1", "offset"),
        ("offset=abc", "offset"),
        ("limit=0", "limit"),
        ("limit=ten", "limit"),
        ("limit=1.5", "limit"),
        ("from=yesterday", "from"),
        ("from=2030-01-01T00:00:00", "from"),  # no offset
        ("to=2030-13-01T00:00:00Z", "to"),
        ("to=-5", "to"),
        ("from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z", "from"),
        ("filter=" + "x" * 256, "filter"),
    ],
)
def test_bad_parameters_are_400_naming_them(app, five, query, field):
    resp = app.get(f"{RECORDS}?{query}", headers=ADMIN, status=400)
    assert resp.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert field in resp.json["errors"]
    assert any(f"'{field}'" in m for m in resp.json["errorMessages"])


def test_sysadmins_only(app, create_token):
    admin_token = create_token(auth=ADMIN)["plainTextToken"]
    assert app.get(RECORDS, headers=bearer(admin_token), status=200).json["total"] == 1
    resp = app.get(RECORDS, headers=ALICE, status=403)
    assert resp.json["errorMessages"] and resp.json["errors"] == {}
    app.get(RECORDS, headers=bearer(create_token(auth=ALICE)["plainTextToken"]), status=403)
    app.get(RECORDS, status=401)
    app.get(RECORDS, headers=basic("admin", "wrong"), status=401)
    app.get("/rest/api/latest/auditing/record", headers=ADMIN, status=200)


# ----- python -m host audit-export ------------------------------------------------------------------------------------
def test_audit_export_to_a_file_oldest_first(app, host, five, tmp_path, capsys):
    out = tmp_path / "audit.jsonl"
    assert run_cli(host, "audit-export", "--output", str(out)) == 0
    assert "exported 5 audit records" in capsys.readouterr().err
    lines = out.read_text(encoding="utf-8").splitlines()
    exported = [json.loads(line) for line in lines]
    assert exported == list(reversed(records(app)))
    assert [e["objectItem"]["id"] for e in exported] == [str(t["id"]) for t in five]


def test_audit_export_to_stdout_with_since_and_until(app, host, five, capsys):
    created = [t["created"] for t in five]
    capsys.readouterr()
    assert run_cli(host, "audit-export", "--since", str(created[1]), "--until", iso(created[3])) == 0
    captured = capsys.readouterr()
    exported = [json.loads(line) for line in captured.out.splitlines()]
    assert [e["objectItem"]["id"] for e in exported] == [str(t["id"]) for t in five[1:4]]
    assert "exported 3 audit records" in captured.err


def test_audit_export_refuses_a_bad_bound(host, capsys):
    assert run_cli(host, "audit-export", "--since", "last tuesday") == 1
    assert "since" in capsys.readouterr().err
