"""Contract §2.2 ``GET P/user/tokensByFilter``: every filter parameter alone and combined, inclusive bounds,
paging and its links, bad values, who may call it, and that it is answered by indexed SQL."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from host.db import database, is_postgres
from plugins.apitokenauth.models import Token
from tests.conftest import ADMIN, ALICE, BASE_URL, BOB, P, basic, bearer

URL = f"{P}/user/tokensByFilter"
FULL_URL = BASE_URL + URL
CAROL = basic("carol", "carol")
ALICE_KEY, BOB_KEY, CAROL_KEY, DAVE_KEY = "JIRAUSER10100", "JIRAUSER10101", "JIRAUSER10102", "JIRAUSER10103"
ENVELOPE_KEYS = {"content", "currentPage", "limit", "offset", "total", "totalPages", "paginationLinks"}
ITEM_KEYS = {
    "created",
    "description",
    "id",
    "lastAccessed",
    "tokenCreatedByUserKey",
    "tokenForUserKey",
    "tokenScope",
    "validUntil",
}
DAY = 86_400_000
T0 = int(datetime(2030, 1, 1, tzinfo=timezone.utc).timestamp() * 1000)


def query(app, params: Any = (), *, auth: dict[str, str] = ADMIN, status: int = 200) -> Any:
    """GET tokensByFilter with ``params`` (pairs in order, repeats allowed)."""
    pairs = list(params.items()) if isinstance(params, dict) else list(params)
    qs = urlencode(pairs)
    return app.get(f"{URL}?{qs}" if qs else URL, headers=auth, status=status)


def ids(app, params: Any = (), **kwargs: Any) -> list[int]:
    return [item["id"] for item in query(app, params, **kwargs).json["content"]]


def error(app, params: Any, status: int = 400, auth: dict[str, str] = ADMIN) -> str:
    resp = query(app, params, auth=auth, status=status)
    assert set(resp.json) == {"errorMessage"}, resp.json
    assert isinstance(resp.json["errorMessage"], str)
    return resp.json["errorMessage"]


@pytest.fixture
def make(clock, create_token):
    """Create a token at the instant ``at`` (epoch ms) as ``auth`` (on behalf when ``for_key`` is given)."""

    def _make(at: int = T0, auth: dict[str, str] = ADMIN, for_key: str | None = None, **body: Any) -> dict[str, Any]:
        clock.now = at
        if for_key is not None:
            body["tokenForUserKey"] = for_key
        return create_token(auth=auth, **body)

    return _make


def use_at(app, clock, token: dict[str, Any], at: int) -> None:
    """Authenticate with the token at ``at``: its first use writes ``lastAccessed`` = ``at``."""
    clock.now = at
    app.get("/rest/api/2/myself", headers=bearer(token["plainTextToken"]), status=200)
    assert Token.get_by_id(token["id"]).last_accessed == at


# ----- the envelope -------------------------------------------------------------------------------------------
def test_envelope_of_all_tokens_with_exact_keys_and_items(app, clock, make):
    mine = make(T0, tokenDescription="admin's own")
    for_bob = make(T0 + 5, for_key=BOB_KEY, tokenDescription="for bob", tokenScope=1)
    alices = make(T0 + 10, auth=ALICE, tokenDescription="alice's", tokenValidityTimeInMonths=1)
    use_at(app, clock, alices, T0 + 20)

    resp = query(app)
    assert resp.headers["Content-Type"].startswith("application/json")
    body = resp.json
    assert set(body) == ENVELOPE_KEYS
    assert body["currentPage"] == 0
    assert body["limit"] == 50
    assert body["offset"] == 0
    assert body["total"] == 3
    assert body["totalPages"] == 1
    assert body["paginationLinks"] == {"baseUrl": BASE_URL, "nextPage": "", "previousPage": ""}
    assert [set(item) for item in body["content"]] == [ITEM_KEYS] * 3
    assert body["content"] == [
        {
            "created": T0 + 10,
            "description": "alice's",
            "id": alices["id"],
            "lastAccessed": T0 + 20,
            "tokenCreatedByUserKey": ALICE_KEY,
            "tokenForUserKey": ALICE_KEY,
            "tokenScope": 2,
            "validUntil": alices["tokenExpirationDateTimeMillis"],
        },
        {
            "created": T0 + 5,
            "description": "for bob",
            "id": for_bob["id"],
            "lastAccessed": 0,
            "tokenCreatedByUserKey": "admin",
            "tokenForUserKey": BOB_KEY,
            "tokenScope": 1,
            "validUntil": for_bob["tokenExpirationDateTimeMillis"],
        },
        {
            "created": T0,
            "description": "admin's own",
            "id": mine["id"],
            "lastAccessed": 0,
            "tokenCreatedByUserKey": "admin",
            "tokenForUserKey": "admin",
            "tokenScope": 2,
            "validUntil": mine["tokenExpirationDateTimeMillis"],
        },
    ]
    for token in (mine, for_bob, alices):
        assert token["plainTextToken"] not in resp.text
    assert "digest" not in resp.text


def test_no_tokens_gives_an_empty_envelope(app):
    assert query(app).json == {
        "content": [],
        "currentPage": 0,
        "limit": 50,
        "offset": 0,
        "total": 0,
        "totalPages": 0,
        "paginationLinks": {"baseUrl": BASE_URL, "nextPage": "", "previousPage": ""},
    }


def test_order_is_id_descending_whatever_the_creation_times(app, make):
    a = make(T0 + 30 * DAY)
    b = make(T0)  # created earlier, but a later id
    c = make(T0 + 10 * DAY)
    assert ids(app) == [c["id"], b["id"], a["id"]]
    assert ids(app) == ids(app)  # stable


def test_expired_tokens_are_included(app, clock, make):
    expired = make(T0, tokenValidityTimeInMonths=1)
    live = make(T0 + 40 * DAY)
    clock.now = T0 + 40 * DAY
    app.get("/rest/api/2/myself", headers=bearer(expired["plainTextToken"]), status=401)
    assert ids(app) == [live["id"], expired["id"]]


# ----- userFilter -------------------------------------------------------------------------------------------------
@pytest.fixture
def per_user(make):
    """Two tokens for alice, one each for bob and carol, one for admin."""
    return {
        "alice1": make(T0, auth=ALICE),
        "bob": make(T0 + 1, auth=BOB),
        "alice2": make(T0 + 2, for_key=ALICE_KEY),
        "carol": make(T0 + 3, auth=CAROL),
        "admin": make(T0 + 4),
    }


def test_user_filter_alone(app, per_user):
    assert ids(app, {"userFilter": ALICE_KEY}) == [per_user["alice2"]["id"], per_user["alice1"]["id"]]
    assert ids(app, {"userFilter": "admin"}) == [per_user["admin"]["id"]]
    body = query(app, {"userFilter": BOB_KEY}).json
    assert [i["tokenForUserKey"] for i in body["content"]] == [BOB_KEY]
    assert body["total"] == 1


def test_user_filter_repeated_is_an_or(app, per_user):
    got = ids(app, [("userFilter", ALICE_KEY), ("userFilter", CAROL_KEY)])
    assert got == [per_user[k]["id"] for k in ("carol", "alice2", "alice1")]
    got = ids(app, [("userFilter", BOB_KEY), ("userFilter", "admin"), ("userFilter", ALICE_KEY)])
    assert got == [per_user[k]["id"] for k in ("admin", "alice2", "bob", "alice1")]


def test_user_filter_of_a_user_without_tokens_or_an_unknown_key_is_empty(app, per_user):
    assert query(app, {"userFilter": DAVE_KEY}).json["total"] == 0
    assert ids(app, {"userFilter": "JIRAUSER99999"}) == []
    # an unknown key among known ones does not hide the others
    assert ids(app, [("userFilter", "nobody"), ("userFilter", BOB_KEY)]) == [per_user["bob"]["id"]]


def test_user_filter_matches_the_key_not_the_username(app, per_user):
    assert ids(app, {"userFilter": "alice"}) == []


# ----- descriptionFilter ----------------------------------------------------------------------------------------
@pytest.fixture
def described(make):
    return {
        name: make(T0 + i, tokenDescription=name)
        for i, name in enumerate(
            ["Nightly FindMe build", "findme", "other", "Ärger im Büro", "ärgerlich", "100% sure", "a_b", "axb"]
        )
    }


def test_description_filter_is_a_case_insensitive_substring(app, described):
    expected = [described[n]["id"] for n in ("findme", "Nightly FindMe build")]
    for term in ("findme", "FINDME", "FindMe", "ndM"):
        assert ids(app, {"descriptionFilter": term}) == expected
    assert ids(app, {"descriptionFilter": "nightly findme build"}) == [described["Nightly FindMe build"]["id"]]
    assert ids(app, {"descriptionFilter": "no such text"}) == []


def test_description_filter_folds_non_ascii_letters(app, described):
    expected = [described[n]["id"] for n in ("ärgerlich", "Ärger im Büro")]
    for term in ("ÄRGER", "ärger", "ÄrGeR"):
        assert ids(app, {"descriptionFilter": term}) == expected
    assert ids(app, {"descriptionFilter": "BÜRO"}) == [described["Ärger im Büro"]["id"]]
    assert ids(app, {"descriptionFilter": "arger"}) == []  # no accent folding, just case


def test_description_filter_wildcard_characters_are_literal(app, described):
    assert ids(app, {"descriptionFilter": "%"}) == [described["100% sure"]["id"]]
    assert ids(app, {"descriptionFilter": "a_b"}) == [described["a_b"]["id"]]
    assert ids(app, {"descriptionFilter": "_"}) == [described["a_b"]["id"]]


def test_description_filter_sees_renamed_tokens(app, described):
    token_id = described["other"]["id"]
    app.patch_json(f"{P}/user/token/{token_id}", {"tokenDescription": "Now FINDME too"}, headers=ADMIN, status=200)
    assert token_id in ids(app, {"descriptionFilter": "findme"})
    assert ids(app, {"descriptionFilter": "other"}) == []


# ----- notValidAfter ------------------------------------------------------------------------------------------------
@pytest.fixture
def expiring(host, make):
    """Tokens expiring at T0+1 month, +2 months, +3 months, one never-expiring (max "never")."""
    host.settings.update("de.resolution.apitokenauth", {"maxValidityMonths": 0})
    tokens = {m: make(T0, tokenValidityTimeInMonths=m) for m in (1, 2, 3)}
    tokens[0] = make(T0, tokenValidityTimeInMonths=0)
    assert tokens[0]["tokenExpirationDateTimeMillis"] == 0
    return tokens


def test_not_valid_after_includes_tokens_expiring_at_or_before_the_instant(app, expiring):
    two = expiring[2]["tokenExpirationDateTimeMillis"]
    assert ids(app, {"notValidAfter": two}) == [expiring[2]["id"], expiring[1]["id"]]
    assert ids(app, {"notValidAfter": two - 1}) == [expiring[1]["id"]]
    assert ids(app, {"notValidAfter": expiring[1]["tokenExpirationDateTimeMillis"] - 1}) == []
    assert ids(app, {"notValidAfter": 0}) == []


def test_not_valid_after_never_includes_never_expiring_tokens(app, expiring):
    far = 253402300799999  # the last millisecond of year 9999
    assert ids(app, {"notValidAfter": far}) == [expiring[m]["id"] for m in (3, 2, 1)]


def test_not_valid_after_minus_one_is_no_limit(app, expiring):
    everything = [expiring[m]["id"] for m in (0, 3, 2, 1)]
    assert ids(app, {"notValidAfter": -1}) == everything
    assert ids(app) == everything
    body = query(app, {"notValidAfter": "-1"}).json
    assert body["total"] == 4


# ----- tokenScope -----------------------------------------------------------------------------------------------------
@pytest.fixture
def scoped(make):
    tokens = {
        "rw": make(T0, tokenScope=2),
        "ro": make(T0 + 1, tokenScope=1),
        "legacy": make(T0 + 2),
        "ro2": make(T0 + 3, for_key=BOB_KEY, tokenScope=1),
    }
    Token.update(scope=0).where(Token.id == tokens["legacy"]["id"]).execute()  # a pre-1.5.0 token
    return tokens


@pytest.mark.parametrize("scope, names", [(0, ["legacy"]), (1, ["ro2", "ro"]), (2, ["rw"])])
def test_token_scope_alone(app, scoped, scope, names):
    body = query(app, {"tokenScope": scope}).json
    assert [i["id"] for i in body["content"]] == [scoped[n]["id"] for n in names]
    assert {i["tokenScope"] for i in body["content"]} == {scope}
    assert body["total"] == len(names)


# ----- inclusive time ranges ------------------------------------------------------------------------------------------
def test_created_range_is_inclusive_at_both_bounds(app, make):
    before = make(T0 - 1)
    low = make(T0)
    middle = make(T0 + 500)
    high = make(T0 + 1000)
    after = make(T0 + 1001)
    assert ids(app, {"fromCreated": T0, "untilCreated": T0 + 1000}) == [high["id"], middle["id"], low["id"]]
    assert ids(app, {"fromCreated": T0 + 1000}) == [after["id"], high["id"]]
    assert ids(app, {"untilCreated": T0}) == [low["id"], before["id"]]
    assert ids(app, {"fromCreated": T0 + 500, "untilCreated": T0 + 500}) == [middle["id"]]
    assert ids(app, {"fromCreated": T0 + 1, "untilCreated": T0 + 499}) == []


def test_last_used_range_is_inclusive_and_skips_never_used_tokens(app, clock, make):
    never = make(T0)
    tokens = [make(T0) for _ in range(4)]
    for token, at in zip(tokens, (T0 + 99, T0 + 100, T0 + 200, T0 + 201), strict=True):
        use_at(app, clock, token, at)
    assert ids(app, {"fromLastUsed": T0 + 100, "untilLastUsed": T0 + 200}) == [tokens[2]["id"], tokens[1]["id"]]
    assert ids(app, {"fromLastUsed": T0 + 200}) == [tokens[3]["id"], tokens[2]["id"]]
    # "never used" (0) is in no range, not even one starting at 0
    assert ids(app, {"untilLastUsed": T0 + 99}) == [tokens[0]["id"]]
    assert ids(app, {"fromLastUsed": 0}) == [t["id"] for t in reversed(tokens)]
    assert never["id"] not in ids(app, {"fromLastUsed": 0, "untilLastUsed": T0 + 1000})


def test_expires_during_range_is_inclusive_and_skips_never_expiring_tokens(app, expiring):
    one, two, three = (expiring[m]["tokenExpirationDateTimeMillis"] for m in (1, 2, 3))
    assert ids(app, {"fromExpiresDuring": one, "untilExpiresDuring": two}) == [expiring[2]["id"], expiring[1]["id"]]
    assert ids(app, {"fromExpiresDuring": one + 1, "untilExpiresDuring": three - 1}) == [expiring[2]["id"]]
    assert ids(app, {"fromExpiresDuring": three}) == [expiring[3]["id"]]
    assert ids(app, {"untilExpiresDuring": one}) == [expiring[1]["id"]]
    assert ids(app, {"fromExpiresDuring": 0}) == [expiring[m]["id"] for m in (3, 2, 1)]


# ----- combinations ---------------------------------------------------------------------------------------------------
def test_all_filters_combined_are_anded(app, clock, make):
    """The guide's full parameter list: each token below misses exactly one condition but ``match``."""
    common = dict(tokenDescription="please FindMe", tokenScope=1, tokenValidityTimeInMonths=1)
    match = make(T0, auth=ALICE, **common)
    other_user = make(T0, auth=CAROL, **common)
    bob_match = make(T0 + 1, auth=BOB, **common)
    wrong_description = make(T0, auth=ALICE, **{**common, "tokenDescription": "other"})
    wrong_scope = make(T0, auth=ALICE, **{**common, "tokenScope": 2})
    created_late = make(T0 + 2 * DAY, auth=ALICE, **common)
    expires_late = make(T0, auth=ALICE, **{**common, "tokenValidityTimeInMonths": 3})
    never_used = make(T0, auth=ALICE, **common)
    for token in (match, other_user, bob_match, wrong_description, wrong_scope, created_late, expires_late):
        use_at(app, clock, token, T0 + 3 * DAY)
    used_late = make(T0, auth=ALICE, **common)
    use_at(app, clock, used_late, T0 + 10 * DAY)
    assert never_used["id"] and created_late["id"]

    params = [
        ("userFilter", ALICE_KEY),
        ("userFilter", BOB_KEY),
        ("fromCreated", T0),
        ("untilCreated", T0 + DAY),
        ("descriptionFilter", "findme"),
        ("tokenScope", 1),
        ("fromLastUsed", T0 + DAY),
        ("untilLastUsed", T0 + 5 * DAY),
        ("fromExpiresDuring", T0 + 20 * DAY),
        ("untilExpiresDuring", T0 + 40 * DAY),
    ]
    body = query(app, params).json
    assert [i["id"] for i in body["content"]] == [bob_match["id"], match["id"]]
    assert body["total"] == 2
    # and with notValidAfter on top (bob's token expires 1 ms after alice's)
    feb_first = match["tokenExpirationDateTimeMillis"]
    assert bob_match["tokenExpirationDateTimeMillis"] == feb_first + 1
    assert ids(app, params + [("notValidAfter", feb_first + 1)]) == [bob_match["id"], match["id"]]
    assert ids(app, params + [("notValidAfter", feb_first)]) == [match["id"]]
    assert ids(app, params + [("notValidAfter", feb_first - 1)]) == []
    assert ids(app, params + [("notValidAfter", -1)]) == [bob_match["id"], match["id"]]


def test_two_filters_combined(app, make):
    a = make(T0, auth=ALICE, tokenScope=1, tokenDescription="deploy")
    make(T0, auth=ALICE, tokenScope=2, tokenDescription="deploy")
    make(T0, auth=BOB, tokenScope=1, tokenDescription="deploy")
    d = make(T0, auth=ALICE, tokenScope=1, tokenDescription="other")
    assert ids(app, {"userFilter": ALICE_KEY, "tokenScope": 1}) == [d["id"], a["id"]]
    assert ids(app, {"descriptionFilter": "DEPLOY", "tokenScope": 1, "userFilter": ALICE_KEY}) == [a["id"]]
    assert query(app, {"descriptionFilter": "deploy", "tokenScope": 1}).json["total"] == 2


# ----- paging ---------------------------------------------------------------------------------------------------------
@pytest.fixture
def twenty_three(make):
    users = [None, ALICE_KEY, BOB_KEY, CAROL_KEY]
    created = [make(T0 + i, for_key=users[i % 4], tokenDescription=f"t{i}") for i in range(23)]
    return [t["id"] for t in reversed(created)]  # newest (highest id) first


def test_paging_walks_every_token_once_in_id_descending_order(app, twenty_three):
    seen: list[int] = []
    body = query(app, {"limit": 5}).json
    pages = 1
    while True:
        assert body["total"] == 23
        assert body["totalPages"] == 5
        assert body["limit"] == 5
        assert body["offset"] == body["currentPage"] * 5
        seen += [i["id"] for i in body["content"]]
        next_link = body["paginationLinks"]["nextPage"]
        if not next_link:
            break
        assert next_link.startswith(FULL_URL + "?")
        body = app.get(next_link[len(BASE_URL) :], headers=ADMIN, status=200).json
        pages += 1
    assert pages == 5
    assert body["currentPage"] == 4 and len(body["content"]) == 3
    assert seen == twenty_three
    assert len(set(seen)) == 23


def test_paging_backwards_with_previous_links(app, twenty_three):
    body = query(app, {"page": 4, "limit": 5}).json
    seen = [i["id"] for i in body["content"]]
    while body["paginationLinks"]["previousPage"]:
        link = body["paginationLinks"]["previousPage"]
        body = app.get(link[len(BASE_URL) :], headers=ADMIN, status=200).json
        seen = [i["id"] for i in body["content"]] + seen
    assert body["currentPage"] == 0
    assert seen == twenty_three


@pytest.mark.parametrize("page", [0, 1, 2, 3, 4])
def test_each_page_and_its_links(app, twenty_three, page):
    body = query(app, {"page": page, "limit": 5}).json
    assert body["currentPage"] == page
    assert [i["id"] for i in body["content"]] == twenty_three[page * 5 : page * 5 + 5]
    links = body["paginationLinks"]
    assert links["baseUrl"] == BASE_URL
    assert links["nextPage"] == (f"{FULL_URL}?page={page + 1}&limit=5" if page < 4 else "")
    assert links["previousPage"] == (f"{FULL_URL}?page={page - 1}&limit=5" if page > 0 else "")


def test_exact_page_multiple_has_no_empty_last_page(app, make):
    for i in range(10):
        make(T0 + i)
    last = query(app, {"page": 1, "limit": 5}).json
    assert len(last["content"]) == 5
    assert last["totalPages"] == 2
    assert last["paginationLinks"]["nextPage"] == ""


def test_page_beyond_the_end_is_empty(app, twenty_three):
    body = query(app, {"page": 9, "limit": 5}).json
    assert body["content"] == []
    assert body["total"] == 23 and body["totalPages"] == 5
    assert body["currentPage"] == 9 and body["offset"] == 45
    assert body["paginationLinks"]["nextPage"] == ""
    assert body["paginationLinks"]["previousPage"] == f"{FULL_URL}?page=8&limit=5"
    assert query(app, {"page": 10**15}).json["content"] == []


def test_default_limit_is_50_and_larger_limits_become_50(app, make):
    created = [make(T0 + i)["id"] for i in range(53)]
    default = query(app).json
    assert default["limit"] == 50 and len(default["content"]) == 50
    assert default["totalPages"] == 2
    assert default["paginationLinks"]["nextPage"] == f"{FULL_URL}?page=1&limit=50"
    for limit in (51, 500, 10**15):
        body = query(app, {"limit": limit}).json
        assert body["limit"] == 50
        assert len(body["content"]) == 50
        assert body["paginationLinks"]["nextPage"] == f"{FULL_URL}?page=1&limit=50"
    second = query(app, {"page": 1, "limit": 1000}).json
    assert [i["id"] for i in second["content"]] == created[2::-1]
    assert second["offset"] == 50


def test_links_repeat_the_other_parameters_in_their_original_order(app, make):
    for i in range(3):
        make(T0 + i, auth=ALICE, tokenDescription="Große Ärger & more")
    make(T0 + 3, auth=BOB, tokenDescription="Große Ärger & more")
    params = [
        ("userFilter", ALICE_KEY),
        ("limit", "1"),
        ("descriptionFilter", "große ärger & more"),
        ("userFilter", BOB_KEY),
        ("page", "1"),
        ("notValidAfter", "-1"),
    ]
    body = query(app, params).json
    rest = urlencode([p for p in params if p[0] not in ("page", "limit")])
    assert body["paginationLinks"]["nextPage"] == f"{FULL_URL}?page=2&limit=1&{rest}"
    assert body["paginationLinks"]["previousPage"] == f"{FULL_URL}?page=0&limit=1&{rest}"
    assert body["total"] == 4
    # the link decodes back to the same filter
    link = urlsplit(body["paginationLinks"]["nextPage"])
    assert parse_qsl(link.query) == [("page", "2"), ("limit", "1")] + [
        p for p in params if p[0] not in ("page", "limit")
    ]
    followed = app.get(f"{link.path}?{link.query}", headers=ADMIN, status=200).json
    assert followed["currentPage"] == 2 and followed["total"] == 4


def test_links_use_the_configured_base_url(host, app):
    host.config.base_url = "https://jira.example.com/jira"
    for _ in range(3):
        app.post_json(f"{P}/user/token", {}, headers=ADMIN, status=200)
    links = app.get(f"{URL}?page=1&limit=1", headers=ADMIN, status=200).json["paginationLinks"]
    assert links == {
        "baseUrl": "https://jira.example.com/jira",
        "nextPage": f"https://jira.example.com/jira{URL}?page=2&limit=1",
        "previousPage": f"https://jira.example.com/jira{URL}?page=0&limit=1",
    }


# ----- bad values -----------------------------------------------------------------------------------------------------
NUMERIC = [
    "notValidAfter",
    "tokenScope",
    "fromCreated",
    "untilCreated",
    "fromLastUsed",
    "untilLastUsed",
    "fromExpiresDuring",
    "untilExpiresDuring",
    "page",
    "limit",
]


@pytest.mark.parametrize("name", NUMERIC)
@pytest.mark.parametrize(
    "value", ["abc", "-5", "1.5", "1e3", "0x10", "+1", "99999999999999999999999", "²", "٣", "1 2", "NaN"]
)
def test_bad_numbers_are_400_naming_the_parameter(app, make, name, value):
    make(T0)
    assert name in error(app, {name: value})


@pytest.mark.parametrize("name", [n for n in NUMERIC if n != "notValidAfter"])
def test_minus_one_is_only_special_for_not_valid_after(app, name):
    assert name in error(app, {name: "-1"})


def test_not_valid_after_below_minus_one_is_400(app):
    assert "notValidAfter" in error(app, {"notValidAfter": "-2"})


@pytest.mark.parametrize("name", NUMERIC[2:8])
def test_instants_beyond_year_9999_are_400(app, name):
    assert name in error(app, {name: "253402300800000"})


def test_limit_zero_is_400(app):
    assert "limit" in error(app, {"limit": "0"})


@pytest.mark.parametrize("scope", ["3", "4", "100"])
def test_unknown_token_scope_is_400(app, scope):
    assert "tokenScope" in error(app, {"tokenScope": scope})


@pytest.mark.parametrize(
    "low, high",
    [("fromCreated", "untilCreated"), ("fromLastUsed", "untilLastUsed"), ("fromExpiresDuring", "untilExpiresDuring")],
)
def test_from_after_until_is_400(app, low, high):
    message = error(app, {low: T0 + 1, high: T0})
    assert low in message and high in message
    query(app, {low: T0, high: T0}, status=200)


@pytest.mark.parametrize("name", NUMERIC + ["descriptionFilter"])
def test_a_single_parameter_given_twice_is_400(app, name):
    assert name in error(app, [(name, "1"), (name, "1")])


def test_over_long_texts_are_400(app):
    assert "descriptionFilter" in error(app, {"descriptionFilter": "x" * 256})
    assert "userFilter" in error(app, [("userFilter", ALICE_KEY), ("userFilter", "k" * 256)])
    query(app, {"descriptionFilter": "x" * 255}, status=200)


def test_bad_value_with_otherwise_good_parameters_is_still_400(app, make):
    make(T0)
    assert "limit" in error(app, [("userFilter", "admin"), ("page", "0"), ("limit", "-1")])


# ----- who may call it ------------------------------------------------------------------------------------------------
def test_anonymous_gets_401(app):
    resp = app.get(URL, status=401)
    assert resp.json["errorMessages"] == [
        "You are not authenticated. Authentication required to perform this operation."
    ]


def test_wrong_credentials_get_401(app):
    app.get(URL, headers=basic("admin", "wrong"), status=401)


def test_users_without_on_behalf_get_403(app, make):
    make(T0)
    for auth in (ALICE, BOB, CAROL):
        assert error(app, {}, status=403, auth=auth)
        assert "admin" not in query(app, {"userFilter": "admin"}, auth=auth, status=403).text


def test_a_group_granted_on_behalf_may_filter(app, make):
    token = make(T0, for_key=CAROL_KEY)
    app.put_json(
        f"{P}/admin/permissions",
        {"createAndDeleteOnBehalf": {"groups": ["jira-administrators", "developers"]}},
        headers=ADMIN,
        status=200,
    )
    for auth in (ALICE, BOB):  # both in developers
        assert ids(app, auth=auth) == [token["id"]]
    error(app, {}, status=403, auth=CAROL)
    app.put_json(f"{P}/admin/permissions", {"createAndDeleteOnBehalf": {"groups": []}}, headers=ADMIN, status=200)
    error(app, {}, status=403, auth=ALICE)
    assert ids(app) == [token["id"]]  # sysadmins always may


def test_a_token_of_an_on_behalf_holder_may_filter_even_read_only(app, make):
    created = make(T0, tokenScope=1)
    assert ids(app, auth=bearer(created["plainTextToken"])) == [created["id"]]


# ----- answered by indexed SQL ----------------------------------------------------------------------------------------
@pytest.fixture
def statements(monkeypatch):
    """Record every SQL statement the database runs."""
    seen: list[tuple[str, tuple]] = []
    db = database.obj
    original = db.execute_sql

    def record(sql: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        seen.append((sql, tuple(params or ())))
        return original(sql, params, *args, **kwargs)

    monkeypatch.setattr(db, "execute_sql", record)
    return seen


def test_counts_in_sql_and_fetches_one_page(app, make, statements):
    for i in range(30):
        make(T0 + i, for_key=ALICE_KEY if i % 2 else None)
    statements.clear()
    body = query(app, {"userFilter": ALICE_KEY, "fromCreated": T0, "page": 1, "limit": 4}).json
    assert body["total"] == 15 and len(body["content"]) == 4
    token_sql = [(s, p) for s, p in statements if "apitokenauth_token" in s]
    counts = [s for s, _ in token_sql if "COUNT(" in s.upper()]
    pages = [(s, p) for s, p in token_sql if "COUNT(" not in s.upper()]
    assert len(counts) == 1
    assert len(pages) == 1
    page_sql, page_params = pages[0]
    assert "LIMIT" in page_sql.upper() and "OFFSET" in page_sql.upper()
    assert 4 in page_params or " LIMIT 4" in page_sql
    assert "ORDER BY" in page_sql.upper()


@pytest.mark.parametrize(
    "params, index",
    [
        ({"userFilter": ALICE_KEY}, "apitokenauth_token_user_key"),
        ({"fromCreated": T0, "untilCreated": T0 + 5}, "created"),
        ({"fromLastUsed": T0}, "last_accessed"),
        ({"notValidAfter": T0 + DAY}, "valid_until"),
        ({"tokenScope": 1, "fromExpiresDuring": T0}, "apitokenauth_token_scope_valid_until"),
    ],
)
def test_selective_filters_use_an_index(app, make, statements, params, index):
    for i in range(5):
        make(T0 + i, for_key=ALICE_KEY)
    statements.clear()
    query(app, params)
    for sql, values in [(s, p) for s, p in statements if "apitokenauth_token" in s]:
        plan = query_plan(sql, values)
        assert "index" in plan.lower(), plan
        assert index in plan, plan


def query_plan(sql: str, params: tuple) -> str:
    """The plan of a statement. PostgreSQL is told to avoid sequential scans, so that a test table of a
    few rows shows whether an index can answer the query at all."""
    if is_postgres():
        with database.atomic():
            database.execute_sql("SET LOCAL enable_seqscan = off")
            rows = database.execute_sql("EXPLAIN " + sql, params).fetchall()
        return " ".join(str(row[0]) for row in rows)
    return " ".join(str(row[-1]) for row in database.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
