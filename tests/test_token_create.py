"""Contract §2.2 ``POST P/user/token``: defaults, expiry, scope, the response shape, bad input, permissions
and tokens on behalf of other users."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

import pytest

from plugins.apitokenauth.models import Token
from tests.conftest import ADMIN, ALICE, BOB, P, basic, bearer

PLUGIN = "de.resolution.apitokenauth"
URL = f"{P}/user/token"
CAROL = basic("carol", "carol")
RESPONSE_FIELDS = [
    "id",
    "plainTextToken",
    "tokenDescription",
    "tokenForUserKey",
    "tokenValidityTimeInMonths",
    "tokenExpirationDateTime",
    "tokenExpirationDateTimeMillis",
    "tokenScope",
    "rateLimitBucketLifetime",
    "rateLimitBucketSize",
    "publicKey",
    "allowedIpRanges",
    "headerValueAccessRules",
]
EXPIRY_TOO_LATE = (
    "The custom expiration you've provided is greater than the maximum defined by your administrator. "
    "You need to provide a date within the next {n} months."
)


def ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def set_now(clock, iso: str) -> None:
    clock.now = ms(iso)


def count() -> int:
    return Token.select().count()


def settings(host, **changes: Any) -> None:
    host.settings.update(PLUGIN, changes)


def listed(app, auth) -> list[dict]:
    return app.get(URL, headers=auth, status=200).json


def post_error(app, body: Any, status: int = 400, auth=ADMIN) -> str:
    """POST a body that must be refused; returns the add-on's error message and checks nothing was created."""
    before = count()
    resp = app.post_json(URL, body, headers=auth, status=status)
    assert count() == before
    assert set(resp.json) == {"errorMessage"}, resp.json
    assert isinstance(resp.json["errorMessage"], str) and resp.json["errorMessage"]
    return resp.json["errorMessage"]


# ----- description --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body", [{}, {"tokenDescription": None}, {"tokenDescription": ""}, {"tokenDescription": "  \t "}]
)
def test_missing_or_blank_description_defaults_to_api_token_from_date(app, clock, create_token, body):
    set_now(clock, "2030-03-04T23:30:00Z")
    created = create_token(**body)
    assert created["tokenDescription"] == "API Token from 2030-03-04"
    assert listed(app, ADMIN)[0]["description"] == "API Token from 2030-03-04"


def test_description_is_kept_and_255_characters_are_allowed(app, create_token):
    text = "é" * 255
    created = create_token(tokenDescription=text)
    assert created["tokenDescription"] == text
    assert listed(app, ADMIN)[0]["description"] == text


def test_description_over_255_characters_is_refused(app):
    message = post_error(app, {"tokenDescription": "x" * 256})
    assert "tokenDescription" in message
    assert "255" in message


# ----- months -----------------------------------------------------------------------------------------------
def test_default_validity_is_twelve_months(app, clock, create_token):
    set_now(clock, "2030-01-31T10:20:30.123Z")
    created = create_token(tokenDescription="default")
    assert created["tokenValidityTimeInMonths"] == 12
    assert created["tokenExpirationDateTimeMillis"] == ms("2031-01-31T10:20:30.123Z")
    assert datetime.fromisoformat(created["tokenExpirationDateTime"]) == datetime(
        2031, 1, 31, 10, 20, 30, 123000, tzinfo=timezone.utc
    )
    item = listed(app, ADMIN)[0]
    assert item["created"] == ms("2030-01-31T10:20:30.123Z")
    assert item["validUntil"] == ms("2031-01-31T10:20:30.123Z")


def test_default_validity_follows_the_setting(app, clock, create_token, host):
    settings(host, defaultValidityMonths=3)
    set_now(clock, "2030-05-10T08:00:00Z")
    created = create_token()
    assert created["tokenValidityTimeInMonths"] == 3
    assert created["tokenExpirationDateTimeMillis"] == ms("2030-08-10T08:00:00Z")


@pytest.mark.parametrize(
    "now, months, until",
    [
        ("2030-01-15T10:20:30.123Z", 1, "2030-02-15T10:20:30.123Z"),
        ("2030-01-31T10:20:30.123Z", 1, "2030-02-28T10:20:30.123Z"),  # clamped to the month's end
        ("2028-01-31T23:59:59.999Z", 1, "2028-02-29T23:59:59.999Z"),  # leap year
        ("2030-03-31T00:00:00Z", 1, "2030-04-30T00:00:00Z"),
        ("2030-12-31T12:00:00Z", 2, "2031-02-28T12:00:00Z"),  # over the year's end
        ("2028-02-29T06:00:00Z", 12, "2029-02-28T06:00:00Z"),
        ("2030-08-31T06:00:00Z", 6, "2031-02-28T06:00:00Z"),
    ],
)
def test_months_are_calendar_months_same_wall_clock_time(app, clock, create_token, now, months, until):
    set_now(clock, now)
    created = create_token(tokenValidityTimeInMonths=months)
    assert created["tokenValidityTimeInMonths"] == months
    assert created["tokenExpirationDateTimeMillis"] == ms(until)
    assert listed(app, ADMIN)[0]["validUntil"] == ms(until)


def test_token_expires_at_its_valid_until(app, clock, create_token):
    set_now(clock, "2030-01-31T10:00:00Z")
    created = create_token(tokenValidityTimeInMonths=1)
    token = created["plainTextToken"]
    clock.now = created["tokenExpirationDateTimeMillis"] - 1
    app.get("/rest/api/2/myself", headers=bearer(token), status=200)
    clock.now = created["tokenExpirationDateTimeMillis"]
    app.get("/rest/api/2/myself", headers=bearer(token), status=401)


@pytest.mark.parametrize("maximum, months", [(12, 13), (12, 1200), (12, 10**30), (6, 7), (24, 25)])
def test_months_above_the_maximum_are_refused_naming_the_maximum(app, host, maximum, months):
    settings(host, maxValidityMonths=maximum, defaultValidityMonths=min(12, maximum))
    message = post_error(app, {"tokenValidityTimeInMonths": months})
    assert "tokenValidityTimeInMonths" in message
    assert re.search(rf"\b{maximum}\b", message), message


def test_months_equal_to_the_maximum_are_accepted(app, host, create_token):
    settings(host, maxValidityMonths=24)
    assert create_token(tokenValidityTimeInMonths=24)["tokenValidityTimeInMonths"] == 24


def test_zero_months_is_refused_while_a_maximum_is_set(app):
    message = post_error(app, {"tokenValidityTimeInMonths": 0})
    assert "tokenValidityTimeInMonths" in message
    assert "12" in message


def test_zero_months_gives_a_never_expiring_token_when_the_maximum_is_never(app, host, clock, create_token):
    settings(host, maxValidityMonths=0)
    created = create_token(tokenValidityTimeInMonths=0)
    assert created["tokenValidityTimeInMonths"] == 0
    assert created["tokenExpirationDateTime"] is None
    assert created["tokenExpirationDateTimeMillis"] == 0
    assert listed(app, ADMIN)[0]["validUntil"] == 0
    clock.advance(days=365 * 200)
    app.get("/rest/api/2/myself", headers=bearer(created["plainTextToken"]), status=200)


def test_without_a_maximum_the_default_months_still_apply(app, host, clock, create_token):
    settings(host, maxValidityMonths=0)
    set_now(clock, "2030-01-01T00:00:00Z")
    created = create_token()
    assert created["tokenValidityTimeInMonths"] == 12
    assert created["tokenExpirationDateTimeMillis"] == ms("2031-01-01T00:00:00Z")
    big = create_token(tokenValidityTimeInMonths=600)
    assert big["tokenExpirationDateTimeMillis"] == ms("2080-01-01T00:00:00Z")


# ----- explicit expiration ----------------------------------------------------------------------------------
def test_expiration_date_time_with_offset_wins_over_months(app, clock, create_token):
    set_now(clock, "2030-01-31T10:00:00Z")
    text = "2030-06-15T08:30:00.000+02:00"
    created = create_token(tokenDescription="custom", tokenValidityTimeInMonths=1, tokenExpirationDateTime=text)
    assert created["tokenExpirationDateTime"] == text
    assert created["tokenExpirationDateTimeMillis"] == ms("2030-06-15T06:30:00Z")
    assert listed(app, ADMIN)[0]["validUntil"] == ms("2030-06-15T06:30:00Z")


def test_expiration_with_negative_offset_and_milliseconds(app, clock, create_token):
    set_now(clock, "2030-01-01T00:00:00Z")
    text = "2030-02-01T20:15:00.250-05:30"
    created = create_token(tokenExpirationDateTime=text)
    assert created["tokenExpirationDateTime"] == text
    assert created["tokenExpirationDateTimeMillis"] == ms("2030-02-02T01:45:00.250Z")


def test_expiration_with_z_is_accepted(app, clock, create_token):
    set_now(clock, "2030-01-01T00:00:00Z")
    created = create_token(tokenExpirationDateTime="2030-03-01T12:00:00Z")
    assert created["tokenExpirationDateTimeMillis"] == ms("2030-03-01T12:00:00Z")
    assert datetime.fromisoformat(created["tokenExpirationDateTime"]) == datetime(2030, 3, 1, 12, tzinfo=timezone.utc)


def test_explicit_expiration_is_enforced(app, clock, create_token):
    set_now(clock, "2030-01-01T00:00:00Z")
    token = create_token(tokenExpirationDateTime="2030-01-02T00:00:00Z")["plainTextToken"]
    clock.advance(days=1, seconds=-1)
    app.get("/rest/api/2/myself", headers=bearer(token), status=200)
    clock.advance(seconds=1)
    app.get("/rest/api/2/myself", headers=bearer(token), status=401)


@pytest.mark.parametrize("text", ["2030-06-01T00:00:00", "2030-06-01T00:00:00.000", "2030-06-01"])
def test_expiration_without_offset_is_refused(app, clock, text):
    set_now(clock, "2030-01-01T00:00:00Z")
    assert "tokenExpirationDateTime" in post_error(app, {"tokenExpirationDateTime": text})


@pytest.mark.parametrize("text", ["2029-12-31T23:59:59Z", "2030-01-01T00:00:00Z", "2020-10-19T10:29:00.000+02:00"])
def test_expiration_in_the_past_or_now_is_refused(app, clock, text):
    set_now(clock, "2030-01-01T00:00:00Z")
    assert "tokenExpirationDateTime" in post_error(app, {"tokenExpirationDateTime": text})


def test_expiration_beyond_the_maximum_gets_the_guides_exact_message(app, clock):
    set_now(clock, "2030-01-31T10:20:30.123Z")
    message = post_error(app, {"tokenExpirationDateTime": "2031-01-31T10:20:30.124Z"})
    assert message == EXPIRY_TOO_LATE.format(n=12)


def test_expiration_beyond_a_smaller_maximum_names_it(app, host, clock):
    settings(host, maxValidityMonths=6, defaultValidityMonths=6)
    set_now(clock, "2030-01-01T00:00:00Z")
    message = post_error(app, {"tokenExpirationDateTime": "2030-07-02T00:00:00+00:00"})
    assert message == EXPIRY_TOO_LATE.format(n=6)


def test_expiration_exactly_at_the_maximum_is_accepted(app, clock, create_token):
    set_now(clock, "2030-01-31T10:20:30.123Z")
    created = create_token(tokenExpirationDateTime="2031-01-31T11:20:30.123+01:00")
    assert created["tokenExpirationDateTimeMillis"] == ms("2031-01-31T10:20:30.123Z")


def test_any_future_expiration_is_allowed_when_the_maximum_is_never(app, host, clock, create_token):
    settings(host, maxValidityMonths=0)
    set_now(clock, "2030-01-01T00:00:00Z")
    created = create_token(tokenExpirationDateTime="2130-01-01T00:00:00Z")
    assert created["tokenExpirationDateTimeMillis"] == ms("2130-01-01T00:00:00Z")


# ----- scope ------------------------------------------------------------------------------------------------
def test_scope_defaults_to_read_write(app, create_token):
    assert create_token()["tokenScope"] == 2
    assert create_token(tokenScope=None)["tokenScope"] == 2
    assert [t["tokenScope"] for t in listed(app, ADMIN)] == [2, 2]


@pytest.mark.parametrize("scope", [1, 2])
def test_scope_one_and_two_are_accepted(app, create_token, scope):
    created = create_token(tokenScope=scope)
    assert created["tokenScope"] == scope
    assert listed(app, ADMIN)[0]["tokenScope"] == scope


def test_scope_one_token_is_read_only_and_scope_two_is_not(app, create_token):
    read_only = create_token(tokenScope=1)["plainTextToken"]
    read_write = create_token(tokenScope=2)["plainTextToken"]
    group = {"name": "scope-test"}
    resp = app.post_json("/rest/api/2/group", group, headers=bearer(read_only), status=403)
    assert resp.json["errorMessages"] == ["This token is read-only"]
    app.post_json("/rest/api/2/group", group, headers=bearer(read_write), status=201)


@pytest.mark.parametrize("scope", [0, 3, -1, 10**20, "1", "2", 1.0, 2.0, True, False, [2], {"s": 2}])
def test_invalid_scopes_are_refused(app, scope):
    assert "tokenScope" in post_error(app, {"tokenScope": scope})


def test_read_only_tokens_only_setting_forces_scope_one(app, host, create_token):
    settings(host, readOnlyTokensOnly=True)
    created = create_token(auth=ALICE, tokenScope=2)
    assert created["tokenScope"] == 1
    assert create_token(auth=ALICE)["tokenScope"] == 1
    assert [t["tokenScope"] for t in listed(app, ALICE)] == [1, 1]
    resp = app.delete(f"{URL}/{created['id']}", headers=bearer(created["plainTextToken"]), status=403)
    assert resp.json["errorMessages"] == ["This token is read-only"]


# ----- response shape ---------------------------------------------------------------------------------------
def test_response_holds_the_guides_fields_in_order(app, clock, create_token):
    set_now(clock, "2030-01-01T00:00:00Z")
    created = create_token(tokenDescription="shape", tokenValidityTimeInMonths=2)
    assert list(created)[: len(RESPONSE_FIELDS)] == RESPONSE_FIELDS
    assert "digest" not in created
    assert isinstance(created["id"], int) and created["id"] > 0
    assert created["tokenDescription"] == "shape"
    assert created["tokenForUserKey"] == "admin"
    assert created["tokenValidityTimeInMonths"] == 2
    assert created["tokenExpirationDateTimeMillis"] == ms("2030-03-01T00:00:00Z")
    assert created["tokenScope"] == 2
    assert created["rateLimitBucketLifetime"] == 0
    assert created["rateLimitBucketSize"] == 0
    assert created["publicKey"] == ""
    assert created["allowedIpRanges"] == []
    assert created["headerValueAccessRules"] == []
    assert created["id"] == listed(app, ADMIN)[0]["id"]


def test_response_echoes_restrictions_and_rate_limit(app, create_token):
    created = create_token(
        allowedIpRanges=["10.1.0.0/16", "192.168.1.7", "2001:db8::/32"],
        headerValueAccessRules=[{"headerName": "X-Client", "headerValue": "ci"}],
        rateLimitBucketSize=10,
        rateLimitBucketLifetime=60,
        publicKey="",
    )
    assert created["allowedIpRanges"] == ["10.1.0.0/16", "192.168.1.7/32", "2001:db8::/32"]
    assert created["headerValueAccessRules"] == [{"headerName": "X-Client", "headerValue": "ci"}]
    assert created["rateLimitBucketSize"] == 10
    assert created["rateLimitBucketLifetime"] == 60
    assert created["publicKey"] == ""


def test_create_response_is_compact_json(app):
    resp = app.post_json(URL, {"tokenDescription": "compact"}, headers=ADMIN, status=200)
    assert resp.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert resp.text == json.dumps(resp.json, separators=(",", ":"), ensure_ascii=False)


# ----- bad input --------------------------------------------------------------------------------------------
BAD_FIELDS = [
    ("tokenDescription", 123),
    ("tokenDescription", True),
    ("tokenDescription", ["x"]),
    ("tokenDescription", {"x": 1}),
    ("tokenDescription", "x" * 256),
    ("tokenDescription", "nul\x00byte"),
    ("tokenDescription", "line\nbreak"),
    ("tokenValidityTimeInMonths", "1"),
    ("tokenValidityTimeInMonths", 1.5),
    ("tokenValidityTimeInMonths", 1.0),
    ("tokenValidityTimeInMonths", True),
    ("tokenValidityTimeInMonths", False),
    ("tokenValidityTimeInMonths", -1),
    ("tokenValidityTimeInMonths", 10**40),
    ("tokenValidityTimeInMonths", [1]),
    ("tokenExpirationDateTime", 1893456000000),
    ("tokenExpirationDateTime", True),
    ("tokenExpirationDateTime", ""),
    ("tokenExpirationDateTime", "tomorrow"),
    ("tokenExpirationDateTime", "2030-02-30T00:00:00Z"),
    ("tokenExpirationDateTime", "2030-13-01T00:00:00Z"),
    ("tokenExpirationDateTime", "2030-06-01T24:00:00Z"),
    ("tokenExpirationDateTime", "2030-06-01T10:61:00Z"),
    ("tokenExpirationDateTime", "2030-06-01T10:00:00+24:00"),
    ("tokenExpirationDateTime", "2030-06-01T10:00:00Z\x00"),
    ("tokenExpirationDateTime", "\u0662\u0660\u0663\u0660-06-01T10:00:00Z"),  # non-ASCII digits
    ("tokenExpirationDateTime", "99999-06-01T10:00:00Z"),
    ("tokenForUserKey", 10101),
    ("tokenForUserKey", True),
    ("tokenForUserKey", ["JIRAUSER10101"]),
    ("tokenForUserKey", "no-such-user"),
    ("tokenForUserKey", "x" * 300),
    ("tokenForUserKey", "JIRAUSER10101\x00"),
    ("tokenScope", 7),
    ("allowedIpRanges", "10.0.0.0/8"),
    ("allowedIpRanges", ["300.1.1.1"]),
    ("allowedIpRanges", ["10.0.0.0/33"]),
    ("allowedIpRanges", ["::1/129"]),
    ("allowedIpRanges", ["not-an-ip"]),
    ("allowedIpRanges", [""]),
    ("allowedIpRanges", [10]),
    ("allowedIpRanges", [None]),
    ("allowedIpRanges", ["10.0.0.1\x00"]),
    ("allowedIpRanges", {"range": "10.0.0.0/8"}),
    ("allowedIpRanges", ["10.0.0.0/8"] * 101),
    ("headerValueAccessRules", {"headerName": "X-A", "headerValue": "v"}),
    ("headerValueAccessRules", ["X-A: v"]),
    ("headerValueAccessRules", [{}]),
    ("headerValueAccessRules", [{"headerName": "X-A"}]),
    ("headerValueAccessRules", [{"headerValue": "v"}]),
    ("headerValueAccessRules", [{"headerName": "", "headerValue": "v"}]),
    ("headerValueAccessRules", [{"headerName": "X A", "headerValue": "v"}]),
    ("headerValueAccessRules", [{"headerName": "X-A:", "headerValue": "v"}]),
    ("headerValueAccessRules", [{"headerName": "X-\x00", "headerValue": "v"}]),
    ("headerValueAccessRules", [{"headerName": "X-\x01", "headerValue": "v"}]),
    ("headerValueAccessRules", [{"headerName": "X-Ä", "headerValue": "v"}]),
    ("headerValueAccessRules", [{"headerName": 5, "headerValue": "v"}]),
    ("headerValueAccessRules", [{"headerName": "X-A", "headerValue": 5}]),
    ("headerValueAccessRules", [{"headerName": "X-A", "headerValue": None}]),
    ("headerValueAccessRules", [{"headerName": "X-A", "headerValue": "a\r\nX-B: b"}]),
    ("headerValueAccessRules", [{"headerName": "X-A", "headerValue": "a\x00"}]),
    ("headerValueAccessRules", [{"headerName": "X-A", "headerValue": "v" * 1025}]),
    ("headerValueAccessRules", [{"headerName": "X-A", "headerValue": "v", "extra": 1}]),
    ("headerValueAccessRules", [{"headerName": f"X-{i}", "headerValue": "v"} for i in range(21)]),
    ("rateLimitBucketSize", -1),
    ("rateLimitBucketSize", "5"),
    ("rateLimitBucketSize", True),
    ("rateLimitBucketSize", 1.5),
    ("rateLimitBucketSize", 10**12),
    ("rateLimitBucketLifetime", -1),
    ("rateLimitBucketLifetime", "60"),
    ("rateLimitBucketLifetime", False),
    ("rateLimitBucketLifetime", 10**12),
    ("publicKey", "not an OpenPGP key"),
    ("publicKey", 123),
    ("publicKey", ["-----BEGIN PGP PUBLIC KEY BLOCK-----"]),
]


@pytest.mark.parametrize("field, value", BAD_FIELDS, ids=[f"{f}-{i}" for i, (f, _) in enumerate(BAD_FIELDS)])
def test_bad_field_values_are_refused_naming_the_field(app, clock, field, value):
    set_now(clock, "2030-01-01T00:00:00Z")
    message = post_error(app, {"tokenDescription": "bad input", field: value})
    assert field in message, message


def test_bucket_size_without_lifetime_is_refused_naming_the_lifetime(app):
    message = post_error(app, {"rateLimitBucketSize": 5})
    assert "rateLimitBucketLifetime" in message


@pytest.mark.parametrize("name", ["foo", "tokenscope", "plainTextToken", "id", "tokenCreatedByUserKey", ""])
def test_unknown_fields_are_refused_naming_them(app, name):
    message = post_error(app, {"tokenDescription": "x", name: 1})
    assert f"'{name}'" in message


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b'{"tokenDescription": "x",}',
        b"{'tokenDescription': 'x'}",
        b'{"tokenScope": NaN}',
        b'{"tokenValidityTimeInMonths": Infinity}',
        b"\xff\xfe{}",
        b"[]",
        b'["tokenDescription"]',
        b'"text"',
        b"42",
        b"null",
        b"true",
        b"",
        b"   ",
        b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"tokenValidityTimeInMonths": 1' + b"0" * 5000 + b"}",
        b'{"tokenDescription": "\\ud800"}',  # an unpaired surrogate is no character
    ],
)
def test_malformed_or_non_object_json_is_refused(app, raw):
    before = count()
    resp = app.post(URL, raw, headers=ADMIN, content_type="application/json", status=400)
    assert count() == before
    assert resp.json["errorMessage"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_wrong_content_type_is_refused(app, content_type):
    before = count()
    resp = app.post(URL, b'{"tokenDescription":"x"}', headers=ADMIN, content_type=content_type, status=415)
    assert count() == before
    assert content_type in resp.json["errorMessage"]


def test_json_with_charset_and_vendor_json_types_are_accepted(app):
    app.post(
        URL, b'{"tokenDescription":"a"}', headers=ADMIN, content_type="application/json; charset=UTF-8", status=200
    )
    app.post(URL, b'{"tokenDescription":"b"}', headers=ADMIN, content_type="application/vnd.api+json", status=200)
    assert {t["description"] for t in listed(app, ADMIN)} == {"a", "b"}


def test_body_over_one_mebibyte_is_refused_with_413(app):
    before = count()
    body = json.dumps({"tokenDescription": "x" * (1024 * 1024)}).encode()
    resp = app.post(URL, body, headers=ADMIN, content_type="application/json", status=413)
    assert count() == before
    assert "1048576" in resp.text


def test_body_of_exactly_one_mebibyte_is_read(app):
    padding = 1024 * 1024 - len(b'{"tokenDescription":"x","tokenScope":1}')
    raw = b'{"tokenDescription":"x",' + b" " * padding + b'"tokenScope":1}'
    assert len(raw) == 1024 * 1024
    assert app.post(URL, raw, headers=ADMIN, content_type="application/json", status=200).json["tokenScope"] == 1


# ----- who may create ---------------------------------------------------------------------------------------
def test_anonymous_caller_gets_401(app):
    before = count()
    resp = app.post_json(URL, {"tokenDescription": "anon"}, status=401)
    assert count() == before
    assert resp.json["errorMessages"] == [
        "You are not authenticated. Authentication required to perform this operation."
    ]


def test_user_without_create_permission_gets_403(app, host, create_token):
    host.permissions.update({"createTokens": {"everyone": False, "groups": ["developers"]}})
    before = count()
    resp = app.post_json(URL, {"tokenDescription": "carol"}, headers=CAROL, status=403)
    assert count() == before
    assert resp.json["errorMessage"]
    assert create_token(auth=ALICE)["tokenForUserKey"] == "JIRAUSER10100"  # developers may
    assert create_token(auth=ADMIN)["tokenForUserKey"] == "admin"  # sysadmins always may


def test_the_default_grants_everyone_create(app, create_token):
    for auth, key in ((ALICE, "JIRAUSER10100"), (BOB, "JIRAUSER10101"), (CAROL, "JIRAUSER10102")):
        created = create_token(auth=auth)
        assert created["tokenForUserKey"] == key
        items = listed(app, auth)
        assert [i["id"] for i in items] == [created["id"]]
        assert items[0]["tokenCreatedByUserKey"] == key


def test_own_key_in_token_for_user_key_is_an_own_token(app, create_token):
    created = create_token(auth=ALICE, tokenForUserKey="JIRAUSER10100", tokenValidityTimeInMonths=5)
    assert created["tokenForUserKey"] == "JIRAUSER10100"
    assert created["tokenValidityTimeInMonths"] == 5


# ----- on behalf ------------------------------------------------------------------------------------------
def test_admin_creates_a_token_for_another_user(app, create_token):
    created = create_token(tokenDescription="for bob", tokenForUserKey="JIRAUSER10101")
    assert created["tokenForUserKey"] == "JIRAUSER10101"
    items = listed(app, BOB)
    assert [i["id"] for i in items] == [created["id"]]
    assert items[0]["tokenForUserKey"] == "JIRAUSER10101"
    assert items[0]["tokenCreatedByUserKey"] == "admin"
    assert listed(app, ADMIN) == []
    me = app.get("/rest/api/2/myself", headers=bearer(created["plainTextToken"]), status=200).json
    assert me["key"] == "JIRAUSER10101"
    assert me["name"] == "bob"


def test_on_behalf_months_above_maximum_are_clamped(app, clock, create_token, host):
    settings(host, maxValidityMonths=6, defaultValidityMonths=6)
    set_now(clock, "2030-01-31T00:00:00Z")
    created = create_token(tokenForUserKey="JIRAUSER10101", tokenValidityTimeInMonths=20)
    assert created["tokenValidityTimeInMonths"] == 6
    assert created["tokenExpirationDateTimeMillis"] == ms("2030-07-31T00:00:00Z")
    huge = create_token(tokenForUserKey="JIRAUSER10101", tokenValidityTimeInMonths=10**6)
    assert huge["tokenValidityTimeInMonths"] == 6


def test_on_behalf_missing_months_take_the_default(app, clock, create_token, host):
    settings(host, defaultValidityMonths=4)
    set_now(clock, "2030-01-15T00:00:00Z")
    created = create_token(tokenForUserKey="JIRAUSER10101")
    assert created["tokenValidityTimeInMonths"] == 4
    assert created["tokenExpirationDateTimeMillis"] == ms("2030-05-15T00:00:00Z")


def test_on_behalf_for_an_unknown_user_key_is_400(app):
    message = post_error(app, {"tokenForUserKey": "JIRAUSER99999"})
    assert "tokenForUserKey" in message


def test_user_without_on_behalf_permission_gets_403_and_nothing_is_created(app):
    post_error(app, {"tokenForUserKey": "JIRAUSER10101"}, status=403, auth=ALICE)
    post_error(app, {"tokenForUserKey": "admin"}, status=403, auth=ALICE)
    assert listed(app, BOB) == []
    assert listed(app, ALICE) == []


def test_on_behalf_permission_granted_to_a_group(app, host, create_token):
    host.permissions.update({"createAndDeleteOnBehalf": {"groups": ["developers"]}})
    created = create_token(auth=ALICE, tokenForUserKey="JIRAUSER10102")
    assert created["tokenForUserKey"] == "JIRAUSER10102"
    assert listed(app, CAROL)[0]["tokenCreatedByUserKey"] == "JIRAUSER10100"
    post_error(app, {"tokenForUserKey": "JIRAUSER10100"}, status=403, auth=CAROL)


def test_read_only_token_cannot_create_for_others_and_creates_read_only(app, create_token):
    read_only = create_token(tokenScope=1)["plainTextToken"]
    post_error(app, {"tokenForUserKey": "JIRAUSER10101"}, status=403, auth=bearer(read_only))
    assert listed(app, BOB) == []
    child = create_token(auth=bearer(read_only), tokenScope=2, tokenDescription="child")
    assert child["tokenScope"] == 1
    assert child["tokenForUserKey"] == "admin"
    resp = app.post_json("/rest/api/2/group", {"name": "x"}, headers=bearer(child["plainTextToken"]), status=403)
    assert resp.json["errorMessages"] == ["This token is read-only"]


def test_read_write_token_can_create_a_token(app, create_token):
    parent = create_token(tokenScope=2)["plainTextToken"]
    child = create_token(auth=bearer(parent), tokenForUserKey="JIRAUSER10101")
    assert child["tokenScope"] == 2
    assert child["tokenForUserKey"] == "JIRAUSER10101"


# ----- §2.3/§2.4 defaults --------------------------------------------------------------------------------------
def test_settings_defaults(host):
    assert host.settings.document(PLUGIN) == {
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


def test_permission_defaults(host):
    assert host.permissions.grant("useTokens") == {"everyone": True, "groups": []}
    assert host.permissions.grant("createTokens") == {"everyone": True, "groups": []}
    assert host.permissions.grant("createAndDeleteOnBehalf") == {"groups": ["jira-administrators"]}


def test_on_behalf_can_never_be_granted_to_everyone(host):
    from host.settings import InvalidSetting

    with pytest.raises(InvalidSetting):
        host.permissions.update({"createAndDeleteOnBehalf": {"everyone": True, "groups": []}})
    assert host.permissions.grant("createAndDeleteOnBehalf") == {"groups": ["jira-administrators"]}


def test_sysadmins_hold_every_permission_even_when_granted_to_nobody(app, host, create_token):
    host.permissions.update(
        {
            "useTokens": {"everyone": False, "groups": []},
            "createTokens": {"everyone": False, "groups": []},
            "createAndDeleteOnBehalf": {"groups": []},
        }
    )
    own = create_token(auth=ADMIN)
    for_bob = create_token(auth=ADMIN, tokenForUserKey="JIRAUSER10101")
    app.get("/rest/api/2/myself", headers=bearer(own["plainTextToken"]), status=200)
    app.get("/rest/api/2/myself", headers=bearer(for_bob["plainTextToken"]), status=401)  # bob may not use tokens
    post_error(app, {}, status=403, auth=ALICE)
