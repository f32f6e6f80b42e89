"""Two real `host serve` nodes (2 workers each) on one PostgreSQL database: the cluster rules of contract 1.1.
Runs on every test run: CI has PostgreSQL at 127.0.0.1:5432; the test makes and drops its own database."""

from __future__ import annotations

import base64
import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests import pg
from tests.realserver import RealServer, assert_within_a_second

P = "/rest/de.resolution.apitokenauth/latest"
pytestmark = pytest.mark.server


def basic(user: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


ADMIN = basic("admin", "admin")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    url = pg.create_database("host_cluster")
    env = {"HOST_SECRET": secrets.token_urlsafe(32)}
    nodes = [
        RealServer(tmp_path_factory.mktemp(f"node{i}"), workers=2, extra_args=("--database-url", url), env=env)
        for i in range(2)
    ]
    try:
        for node in nodes:  # both start on the same empty database: migrations and fixtures run once
            node.start()
        yield nodes
    finally:
        for node in nodes:
            node.stop()
        pg.drop_database(url)


def test_a_token_made_on_one_node_works_on_the_other_and_revocation_is_immediate(cluster):
    a, b = cluster
    created = a.request("POST", f"{P}/user/token", json_body={"tokenDescription": "cluster"}, headers=ADMIN).json
    bearer = {"Authorization": f"Bearer {created['plainTextToken']}"}
    assert {b.request("GET", "/rest/api/2/myself", headers=bearer).status for _ in range(6)} == {200}
    assert a.request("DELETE", f"{P}/user/token/{created['id']}", headers=ADMIN).status == 200
    # Never cached: the very next request on any worker of the other node is refused.
    assert {b.request("GET", "/rest/api/2/myself", headers=bearer).status for _ in range(6)} == {401}


def test_plugin_state_and_settings_reach_the_other_node_within_a_second(cluster):
    a, b = cluster
    token = a.request("POST", f"{P}/user/token", json_body={}, headers=ADMIN).json["plainTextToken"]
    bearer = {"Authorization": f"Bearer {token}"}
    key = "/rest/plugins/1.0/de.resolution.apitokenauth-key"
    try:
        assert a.request("PUT", key, json_body={"enabled": False}, headers=ADMIN).status == 200
        assert_within_a_second(lambda: b.request("GET", "/rest/api/2/myself", headers=bearer).status, 401)
    finally:
        assert a.request("PUT", key, json_body={"enabled": True}, headers=ADMIN).status == 200
    assert_within_a_second(lambda: b.request("GET", "/rest/api/2/myself", headers=bearer).status, 200)

    settings = f"{P}/admin/settings"
    admin_token = a.request("POST", f"{P}/user/token", json_body={}, headers=ADMIN).json["plainTextToken"]
    as_admin = {"Authorization": f"Bearer {admin_token}"}  # passwords are about to stop working on REST
    try:
        assert a.request("PUT", settings, json_body={"disableBasicAuthWithPassword": True}, headers=as_admin).status == 200
        assert_within_a_second(lambda: b.request("GET", "/rest/api/2/myself", headers=basic("bob", "bob")).status, 401)
        assert b.request("GET", "/rest/api/2/myself", headers=bearer).status == 200  # tokens keep working
    finally:
        assert a.request("PUT", settings, json_body={"disableBasicAuthWithPassword": False}, headers=as_admin).status == 200
        # The next test uses passwords on node b: wait out its settings cache (at most 1 s, contract 1.1).
        assert_within_a_second(lambda: b.request("GET", "/rest/api/2/myself", headers=basic("bob", "bob")).status, 200)


def test_failed_login_counter_is_shared(cluster):
    a, b = cluster
    wrong = basic("carol", "wrong")
    assert a.request("GET", "/rest/api/2/myself", headers=wrong).status == 401
    assert b.request("GET", "/rest/api/2/myself", headers=wrong).status == 401
    assert a.request("GET", "/rest/api/2/myself", headers=wrong).status == 401
    # Three failures across two nodes reach the limit of 3: the correct password is now refused on both.
    for node in (b, a):
        resp = node.request("GET", "/rest/api/2/myself", headers=basic("carol", "carol"))
        assert resp.status == 403
        assert resp.headers["X-Authentication-Denied-Reason"].startswith("CAPTCHA_CHALLENGE")
    assert a.request("POST", "/rest/api/2/user/resetFailedLoginCount?username=carol", headers=ADMIN).status == 204
    assert b.request("GET", "/rest/api/2/myself", headers=basic("carol", "carol")).status == 200


def test_rate_limit_bucket_is_shared_exactly(cluster):
    a, b = cluster
    settings = f"{P}/admin/settings"
    assert a.request("PUT", settings, json_body={"rateLimitEnabled": True}, headers=ADMIN).status == 200
    try:
        limited = {"rateLimitBucketSize": 20, "rateLimitBucketLifetime": 600}
        token = a.request("POST", f"{P}/user/token", json_body=limited, headers=ADMIN).json["plainTextToken"]
        roomy = {"rateLimitBucketSize": 100000, "rateLimitBucketLifetime": 600}
        probe = a.request("POST", f"{P}/user/token", json_body=roomy, headers=ADMIN).json["plainTextToken"]

        def b_enforces() -> int:  # 1 once node b's workers count requests (the setting reached them)
            resp = b.request("GET", "/rest/api/2/serverInfo", headers={"Authorization": f"Bearer {probe}"})
            return int("X-RateLimit-Limit" in resp.headers)

        assert_within_a_second(b_enforces, 1)

        def hit(node: RealServer) -> int:
            return node.request("GET", "/rest/api/2/myself", headers={"Authorization": f"Bearer {token}"}).status

        with ThreadPoolExecutor(max_workers=12) as pool:
            statuses = list(pool.map(hit, [a, b] * 30))
        assert statuses.count(200) == 20
        assert statuses.count(429) == 40
    finally:
        assert a.request("PUT", settings, json_body={"rateLimitEnabled": False}, headers=ADMIN).status == 200


def test_a_node_with_another_secret_refuses_to_start(cluster, tmp_path):
    url = cluster[0].args[cluster[0].args.index("--database-url") + 1]
    odd = RealServer(tmp_path / "odd", workers=1, extra_args=("--database-url", url), env={"HOST_SECRET": "other"})
    with pytest.raises(RuntimeError, match="server exited"):
        odd.start(timeout=20)
    assert "HOST_SECRET" in odd.log()
