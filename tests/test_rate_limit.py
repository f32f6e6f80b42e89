"""Contract §2.4/§2.5: per-token rate limits (``rateLimitBucketSize`` requests per ``rateLimitBucketLifetime``
seconds), the admin's default bucket, the 429 answer and its headers, the price of the bucket in SQL, and
exactness under concurrency through a real multi-worker server."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from host.db import database
from plugins.apitokenauth.models import Token
from tests.conftest import ADMIN, ALICE, BOB, P, basic, bearer
from tests.realserver import RealServer

PLUGIN = "de.resolution.apitokenauth"
MYSELF = "/rest/api/2/myself"
TOKENS = f"{P}/user/token"
BUCKETS = "apitokenauth_rate_bucket"


def settings(host, **changes: Any) -> None:
    host.settings.update(PLUGIN, changes)


def bucket_rows(host) -> list[tuple]:
    return host.db.execute_sql(f"SELECT token_id, window_start, hits FROM {BUCKETS} ORDER BY token_id").fetchall()


def stored_bucket(token_id: int) -> tuple[int, int]:
    token = Token.get_by_id(token_id)
    return token.rate_limit_size, token.rate_limit_lifetime


def assert_limited(resp, limit: int, retry_after: int) -> None:
    assert resp.status_int == 429
    assert resp.headers["Retry-After"] == str(retry_after)
    assert resp.headers["X-RateLimit-Limit"] == str(limit)
    assert resp.headers["X-RateLimit-Remaining"] == "0"
    assert resp.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert set(resp.json) == {"errorMessage"}
    assert "Rate limit exceeded" in resp.json["errorMessage"]


@pytest.fixture
def enabled(host) -> None:
    settings(host, rateLimitEnabled=True)


class StatementTrace:
    """Every SQL statement the database runs inside the block, except the per-process settings cache refresh
    (at most once a second, on a real clock the tests do not control)."""

    CACHE_TABLES = ("host_setting", "host_plugin_state")

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __enter__(self) -> StatementTrace:
        db = database.obj
        original = db.execute_sql

        def traced(sql: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
            if not any(table in sql for table in self.CACHE_TABLES):
                self.statements.append(sql)
            return original(sql, params, *args, **kwargs)

        self._db, self._original = db, original
        db.execute_sql = traced
        return self

    def __exit__(self, *exc: object) -> None:
        self._db.execute_sql = self._original


# ----- disabled ------------------------------------------------------------------------------------------------
def test_disabled_counts_nothing_and_sends_no_headers(app, host, create_token):
    created = create_token(auth=BOB, rateLimitBucketSize=2, rateLimitBucketLifetime=60)
    assert (created["rateLimitBucketSize"], created["rateLimitBucketLifetime"]) == (2, 60)
    for _ in range(6):
        resp = app.get(MYSELF, headers=bearer(created["plainTextToken"]), status=200)
        assert "X-RateLimit-Limit" not in resp.headers and "X-RateLimit-Remaining" not in resp.headers
        assert "Retry-After" not in resp.headers
    assert bucket_rows(host) == []


def test_disabled_costs_no_statement(app, host, create_token):
    token = create_token(auth=BOB, rateLimitBucketSize=1000, rateLimitBucketLifetime=60)["plainTextToken"]
    app.get(MYSELF, headers=bearer(token), status=200)  # warm-up: writes lastAccessed once
    with StatementTrace() as trace:
        app.get(MYSELF, headers=bearer(token), status=200)
    assert len(trace.statements) == 1 and trace.statements[0].lstrip().upper().startswith("SELECT")
    assert not any(BUCKETS in s for s in trace.statements)


# ----- enabled ----------------------------------------------------------------------------------------------------
@pytest.mark.usefixtures("enabled")
def test_headers_on_success_then_429_with_retry_after(app, host, clock, create_token):
    created = create_token(auth=BOB, rateLimitBucketSize=3, rateLimitBucketLifetime=60)
    headers = bearer(created["plainTextToken"])
    remaining = []
    for _ in range(3):
        resp = app.get(MYSELF, headers=headers, status=200)
        assert resp.json["key"] == "JIRAUSER10101"
        assert resp.headers["X-RateLimit-Limit"] == "3"
        remaining.append(resp.headers["X-RateLimit-Remaining"])
        clock.advance(seconds=5)
    assert remaining == ["2", "1", "0"]
    # The window began at the first request, 15 s ago: 45 s are left.
    assert_limited(app.get(MYSELF, headers=headers, status=429), 3, 45)
    clock.advance(seconds=44.5)
    assert_limited(app.get(MYSELF, headers=headers, status=429), 3, 1)  # rounded up, never 0
    clock.advance(seconds=0.499)
    assert_limited(app.get(MYSELF, headers=headers, status=429), 3, 1)
    clock.advance(seconds=0.001)  # exactly one lifetime after the first request: full again
    resp = app.get(MYSELF, headers=headers, status=200)
    assert resp.headers["X-RateLimit-Remaining"] == "2"
    assert bucket_rows(host) == [(created["id"], clock.now, 1)]


@pytest.mark.usefixtures("enabled")
def test_retry_after_counts_from_the_first_request_not_from_creation(app, clock, create_token):
    token = create_token(auth=BOB, rateLimitBucketSize=1, rateLimitBucketLifetime=3600)["plainTextToken"]
    clock.advance(seconds=1000)
    assert app.get(MYSELF, headers=bearer(token), status=200).headers["X-RateLimit-Remaining"] == "0"
    clock.advance(seconds=600)
    assert_limited(app.get(MYSELF, headers=bearer(token), status=429), 1, 3000)


@pytest.mark.usefixtures("enabled")
def test_refused_requests_do_not_extend_the_window(app, clock, create_token):
    token = create_token(auth=BOB, rateLimitBucketSize=2, rateLimitBucketLifetime=10)["plainTextToken"]
    for _ in range(2):
        app.get(MYSELF, headers=bearer(token), status=200)
    for second in range(9):
        assert_limited(app.get(MYSELF, headers=bearer(token), status=429), 2, 10 - second)
        clock.advance(seconds=1)
    clock.advance(seconds=1)
    app.get(MYSELF, headers=bearer(token), status=200)


@pytest.mark.usefixtures("enabled")
def test_bearer_and_basic_share_the_token_bucket_and_buckets_are_per_token(app, host, create_token):
    first = create_token(auth=BOB, rateLimitBucketSize=2, rateLimitBucketLifetime=60)["plainTextToken"]
    second = create_token(auth=BOB, rateLimitBucketSize=2, rateLimitBucketLifetime=60)["plainTextToken"]
    app.get(MYSELF, headers=bearer(first), status=200)
    app.get(MYSELF, headers=basic("bob", first), status=200)
    app.get(MYSELF, headers=basic("bob", first), status=429)
    app.get(MYSELF, headers=bearer(first), status=429)
    assert app.get(MYSELF, headers=bearer(second), status=200).headers["X-RateLimit-Remaining"] == "1"
    resp = app.get(MYSELF, headers=BOB, status=200)  # a password has no bucket
    assert "X-RateLimit-Limit" not in resp.headers
    assert host.users.by_name("bob").failed_login_count == 0  # a 429 is not a failed login


@pytest.mark.usefixtures("enabled")
def test_a_refused_request_does_nothing(app, host, create_token):
    token = create_token(auth=ADMIN, rateLimitBucketSize=1, rateLimitBucketLifetime=60)["plainTextToken"]
    app.post_json("/rest/api/2/group", {"name": "first"}, headers=bearer(token), status=201)
    resp = app.post_json("/rest/api/2/group", {"name": "second"}, headers=bearer(token), status=429)
    assert_limited(resp, 1, 60)
    assert host.users.group_by_name("first") is not None
    assert host.users.group_by_name("second") is None
    resp = app.post_json("/rest/auth/1/session", {"username": "admin", "password": token}, status=429)
    assert "Set-Cookie" not in resp.headers
    assert host.db.execute_sql("SELECT COUNT(*) FROM host_session").fetchone() == (0,)


@pytest.mark.usefixtures("enabled")
def test_token_without_bucket_is_unlimited_when_no_default(app, host, create_token):
    created = create_token(auth=BOB)
    assert (created["rateLimitBucketSize"], created["rateLimitBucketLifetime"]) == (0, 0)
    for _ in range(20):
        resp = app.get(MYSELF, headers=bearer(created["plainTextToken"]), status=200)
        assert "X-RateLimit-Limit" not in resp.headers
    assert bucket_rows(host) == []


def test_switching_rate_limiting_off_and_on(app, host, create_token):
    token = create_token(auth=BOB, rateLimitBucketSize=1, rateLimitBucketLifetime=60)["plainTextToken"]
    settings(host, rateLimitEnabled=True)
    app.get(MYSELF, headers=bearer(token), status=200)
    app.get(MYSELF, headers=bearer(token), status=429)
    app.put_json(f"{P}/admin/settings", {"rateLimitEnabled": False}, headers=ADMIN, status=200)
    resp = app.get(MYSELF, headers=bearer(token), status=200)
    assert "X-RateLimit-Remaining" not in resp.headers
    app.put_json(f"{P}/admin/settings", {"rateLimitEnabled": True}, headers=ADMIN, status=200)
    app.get(MYSELF, headers=bearer(token), status=429)  # nothing was counted meanwhile, the window still runs


@pytest.mark.usefixtures("enabled")
def test_deleting_a_token_drops_its_bucket(app, host, create_token):
    created = create_token(auth=BOB, rateLimitBucketSize=5, rateLimitBucketLifetime=60)
    app.get(MYSELF, headers=bearer(created["plainTextToken"]), status=200)
    assert [row[0] for row in bucket_rows(host)] == [created["id"]]
    app.delete(f"{TOKENS}/{created['id']}", headers=BOB, status=200)
    assert bucket_rows(host) == []


@pytest.mark.usefixtures("enabled")
def test_the_bucket_costs_exactly_one_statement(app, host, create_token):
    token = create_token(auth=BOB, rateLimitBucketSize=1000, rateLimitBucketLifetime=60)["plainTextToken"]
    plain = create_token(auth=BOB)["plainTextToken"]
    for credential in (token, plain):
        app.get(MYSELF, headers=bearer(credential), status=200)  # warm-up: lastAccessed written once
    with StatementTrace() as without:
        app.get(MYSELF, headers=bearer(plain), status=200)
    with StatementTrace() as trace:
        resp = app.get(MYSELF, headers=bearer(token), status=200)
    assert resp.headers["X-RateLimit-Remaining"] == "998"
    assert len(without.statements) == 1
    assert len(trace.statements) == 2
    bucket = [s for s in trace.statements if BUCKETS in s]
    assert len(bucket) == 1
    assert bucket[0].lstrip().upper().startswith("INSERT") and "ON CONFLICT" in bucket[0].upper()
    with StatementTrace() as refused:
        for _ in range(998):
            app.get(MYSELF, headers=bearer(token), status=200)
        app.get(MYSELF, headers=bearer(token), status=429)
    assert len(refused.statements) == 2 * 999


# ----- the admin's default bucket -----------------------------------------------------------------------------------
def test_default_bucket_is_stored_on_new_tokens_when_enabled(app, host, create_token):
    app.put_json(
        f"{P}/admin/settings",
        {"rateLimitEnabled": True, "defaultRateLimitBucketSize": 2, "defaultRateLimitBucketLifetime": 30},
        headers=ADMIN,
        status=200,
    )
    created = create_token(auth=ALICE)
    assert (created["rateLimitBucketSize"], created["rateLimitBucketLifetime"]) == (2, 30)
    assert stored_bucket(created["id"]) == (2, 30)
    on_behalf = create_token(auth=ADMIN, tokenForUserKey="JIRAUSER10101")
    assert (on_behalf["rateLimitBucketSize"], on_behalf["rateLimitBucketLifetime"]) == (2, 30)
    explicit_zero = create_token(auth=ALICE, rateLimitBucketSize=0, rateLimitBucketLifetime=0)
    assert stored_bucket(explicit_zero["id"]) == (2, 30)  # 0 is "none given": the default applies
    for _ in range(2):
        app.get(MYSELF, headers=bearer(created["plainTextToken"]), status=200)
    assert_limited(app.get(MYSELF, headers=bearer(created["plainTextToken"]), status=429), 2, 30)
    # The default is stored at creation: changing it later does not touch existing tokens.
    settings(host, defaultRateLimitBucketSize=50, defaultRateLimitBucketLifetime=600)
    assert stored_bucket(created["id"]) == (2, 30)
    assert stored_bucket(create_token(auth=ALICE)["id"]) == (50, 600)


def test_token_with_explicit_bucket_keeps_it(app, host, create_token):
    settings(host, rateLimitEnabled=True, defaultRateLimitBucketSize=2, defaultRateLimitBucketLifetime=30)
    created = create_token(auth=ALICE, rateLimitBucketSize=7, rateLimitBucketLifetime=90)
    assert (created["rateLimitBucketSize"], created["rateLimitBucketLifetime"]) == (7, 90)
    assert stored_bucket(created["id"]) == (7, 90)
    resp = app.get(MYSELF, headers=bearer(created["plainTextToken"]), status=200)
    assert (resp.headers["X-RateLimit-Limit"], resp.headers["X-RateLimit-Remaining"]) == ("7", "6")


def test_default_bucket_is_not_stored_while_disabled(app, host, create_token):
    settings(host, rateLimitEnabled=False, defaultRateLimitBucketSize=2, defaultRateLimitBucketLifetime=30)
    created = create_token(auth=ALICE)
    assert (created["rateLimitBucketSize"], created["rateLimitBucketLifetime"]) == (0, 0)
    assert stored_bucket(created["id"]) == (0, 0)
    settings(host, rateLimitEnabled=True)
    for _ in range(5):
        app.get(MYSELF, headers=bearer(created["plainTextToken"]), status=200)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"rateLimitBucketSize": 1_000_000_001, "rateLimitBucketLifetime": 60}, "rateLimitBucketSize"),
        ({"rateLimitBucketSize": 5, "rateLimitBucketLifetime": 1_000_000_001}, "rateLimitBucketLifetime"),
        ({"rateLimitBucketSize": 5, "rateLimitBucketLifetime": 60.0}, "rateLimitBucketLifetime"),
        ({"rateLimitBucketSize": 5, "rateLimitBucketLifetime": 0}, "rateLimitBucketLifetime"),
        ({"rateLimitBucketSize": [5], "rateLimitBucketLifetime": 60}, "rateLimitBucketSize"),
        ({"rateLimitBucketSize": {"size": 5}, "rateLimitBucketLifetime": 60}, "rateLimitBucketSize"),
    ],
)
@pytest.mark.parametrize("rate_limiting", [False, True])
def test_bad_bucket_values_are_400_and_create_nothing(app, host, body, field, rate_limiting):
    settings(host, rateLimitEnabled=rate_limiting)
    resp = app.post_json(TOKENS, body, headers=ALICE, status=400)
    assert field in resp.json["errorMessage"]
    assert Token.select().count() == 0


@pytest.mark.parametrize(
    "change, field",
    [
        ({"defaultRateLimitBucketSize": -1}, "defaultRateLimitBucketSize"),
        ({"defaultRateLimitBucketLifetime": "60"}, "defaultRateLimitBucketLifetime"),
        ({"defaultRateLimitBucketSize": 10}, "defaultRateLimitBucketLifetime"),
        ({"rateLimitEnabled": "yes"}, "rateLimitEnabled"),
    ],
)
def test_bad_default_bucket_settings_are_400_and_save_nothing(app, change, field):
    before = app.get(f"{P}/admin/settings", headers=ADMIN, status=200).json
    resp = app.put_json(f"{P}/admin/settings", {"rateLimitEnabled": True, **change}, headers=ADMIN, status=400)
    assert field in resp.json["errorMessage"]
    assert app.get(f"{P}/admin/settings", headers=ADMIN, status=200).json == before


# ----- exact under concurrency, across worker processes ----------------------------------------------------------
def test_a_bucket_of_n_lets_exactly_n_through_across_workers(tmp_path):
    data_dir = tmp_path / "rate"
    # Rate limiting on before any worker starts, so no worker can hold a cached "off" (settings cache: 1 s).
    subprocess.run(
        [sys.executable, "-m", "host", "tokens", "set", "--data-dir", str(data_dir), "rateLimitEnabled=true"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    size, total, threads = 25, 100, 16
    with RealServer(data_dir, workers=4) as server:
        admin = {"Authorization": ADMIN["Authorization"]}
        assert server.request("GET", f"{P}/admin/settings", headers=admin).json["rateLimitEnabled"] is True
        created = server.request(
            "POST", TOKENS, json_body={"rateLimitBucketSize": size, "rateLimitBucketLifetime": 300}, headers=admin
        )
        assert created.status == 200
        headers = {"Authorization": f"Bearer {created.json['plainTextToken']}"}

        def hit(_: int) -> tuple[int, str | None, str | None, str | None]:
            resp = server.request("GET", MYSELF, headers=headers)
            return (
                resp.status,
                resp.headers.get("X-RateLimit-Remaining"),
                resp.headers.get("Retry-After"),
                resp.headers.get("X-RateLimit-Limit"),
            )

        with ThreadPoolExecutor(threads) as pool:
            answers = list(pool.map(hit, range(total)))
        statuses = Counter(status for status, *_ in answers)
        assert statuses == {200: size, 429: total - size}, statuses
        # Every admitted request saw a different count: no two workers ever shared one slot.
        remaining = sorted(int(r) for status, r, _, _ in answers if status == 200)
        assert remaining == list(range(size))
        for status, left, retry, limit in answers:
            assert limit == str(size)
            if status == 429:
                assert left == "0" and 1 <= int(retry) <= 300
        # The bucket stays empty for every worker, with Basic too.
        again = Counter(server.request("GET", MYSELF, headers=headers).status for _ in range(8))
        assert again == {429: 8}
        basic_auth = basic("admin", created.json["plainTextToken"])
        assert server.request("GET", MYSELF, headers=basic_auth).status == 429
