"""Contract §2.4/§2.5: per-token IP ranges and header rules, the global allow-list (tokens and passwords), and
the trusted-proxy rule for the client address. The basic cases live in test_token_outcomes.py; these extend them.

The client address is set with WSGI's REMOTE_ADDR (webtest ``extra_environ``)."""

from __future__ import annotations

import http.client
from typing import Any

import pytest

from plugins.apitokenauth import restrictions
from tests.conftest import ADMIN, ALICE, BOB, P, basic, bearer
from tests.realserver import RealServer

PLUGIN = "de.resolution.apitokenauth"
MYSELF = "/rest/api/2/myself"
SERVER_INFO = "/rest/api/2/serverInfo"
SESSION = "/rest/auth/1/session"
AUTH_TEST = f"{P}/user/authTest"
NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."


def settings(host, **changes: Any) -> None:
    host.settings.update(PLUGIN, changes)


def at(address: str) -> dict[str, str]:
    return {"REMOTE_ADDR": address}


def failed(host, name: str) -> int:
    return host.users.by_name(name).failed_login_count


def assert_refused(resp, scheme: str = "basic") -> None:
    assert resp.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    assert resp.headers["X-AUSERNAME"] == "anonymous"
    assert resp.headers["WWW-Authenticate"].lower().startswith(scheme)
    assert resp.json == {"errorMessages": [NOT_AUTHENTICATED], "errors": {}}


def session_login(app, username: str, password: str, address: str, status: int):
    resp = app.post_json(
        SESSION, {"username": username, "password": password}, extra_environ=at(address), status=status
    )
    app.reset()
    return resp


# ----- per-token IP ranges ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "ranges, inside, outside",
    [
        (["192.0.2.0/24"], ["192.0.2.0", "192.0.2.255", "::ffff:192.0.2.9"], ["192.0.3.0", "192.0.1.255", "::1"]),
        (["198.51.100.7/32"], ["198.51.100.7"], ["198.51.100.6", "198.51.100.8"]),
        (["2001:db8:1::/48"], ["2001:db8:1::1", "2001:db8:1:ffff:ffff:ffff:ffff:ffff"], ["2001:db8:2::1", "10.0.0.1"]),
        (["2001:db8::7"], ["2001:db8::7", "2001:DB8:0:0:0:0:0:7"], ["2001:db8::8", "::ffff:0.0.0.7"]),
        (["fe80::/10"], ["fe80::1", "febf::1"], ["fec0::1"]),
        (["0.0.0.0/0"], ["1.2.3.4", "255.255.255.255", "::ffff:8.8.8.8"], ["2001:db8::1", "::1"]),
        (["::/0"], ["::1", "2001:db8::1"], ["127.0.0.1", "10.0.0.1"]),
        (["::ffff:10.0.0.0/104"], ["10.0.0.1", "::ffff:10.255.0.1"], ["11.0.0.1"]),  # mapped range == 10.0.0.0/8
        (
            ["10.0.0.0/8", "172.16.0.0/12", "2001:db8::/32", "203.0.113.5"],
            ["10.9.9.9", "172.31.255.1", "2001:db8:ffff::1", "203.0.113.5"],
            ["172.32.0.1", "203.0.113.6", "2001:db9::1", "127.0.0.1"],
        ),
    ],
)
@pytest.mark.parametrize("kind", ["bearer", "basic"])
def test_ip_ranges_allow_inside_and_refuse_outside(app, host, create_token, ranges, inside, outside, kind):
    token = create_token(auth=BOB, allowedIpRanges=ranges)["plainTextToken"]
    headers = bearer(token) if kind == "bearer" else basic("bob", token)
    for address in inside:
        resp = app.get(MYSELF, headers=headers, extra_environ=at(address), status=200)
        assert resp.json["key"] == "JIRAUSER10101", address
    for address in outside:
        assert_refused(app.get(MYSELF, headers=headers, extra_environ=at(address), status=401), kind)
    assert failed(host, "bob") == 0  # the secret was right: a refused address never counts


def test_ip_ranges_are_per_token(app, create_token):
    restricted = create_token(auth=BOB, allowedIpRanges=["10.0.0.0/8"])["plainTextToken"]
    free = create_token(auth=BOB)["plainTextToken"]
    app.get(MYSELF, headers=bearer(restricted), extra_environ=at("192.0.2.1"), status=401)
    app.get(MYSELF, headers=bearer(free), extra_environ=at("192.0.2.1"), status=200)
    app.get(MYSELF, headers=BOB, extra_environ=at("192.0.2.1"), status=200)  # the password is not restricted


def test_missing_or_unreadable_peer_address_fails_closed(app, create_token):
    token = create_token(auth=BOB, allowedIpRanges=["0.0.0.0/0", "::/0"])["plainTextToken"]
    app.get(MYSELF, headers=bearer(token), extra_environ=at("10.0.0.1"), status=200)
    for peer in ("", "unix:/tmp/socket", "localhost"):
        app.get(MYSELF, headers=bearer(token), extra_environ=at(peer), status=401)


def test_session_login_with_a_token_obeys_its_ip_ranges(app, create_token):
    token = create_token(auth=BOB, allowedIpRanges=["10.1.0.0/16"])["plainTextToken"]
    resp = session_login(app, "bob", token, "10.2.0.1", 401)
    assert resp.json["errorMessages"] == ["Login failed"]
    resp = session_login(app, "bob", token, "10.1.0.1", 200)
    assert resp.json["session"]["name"] == "JSESSIONID"


def test_ip_ranges_and_header_rules_are_both_required(app, create_token):
    token = create_token(
        auth=BOB,
        allowedIpRanges=["10.0.0.0/8"],
        headerValueAccessRules=[{"headerName": "X-Runner", "headerValue": "build-7"}],
    )["plainTextToken"]
    good = {**bearer(token), "X-Runner": "build-7"}
    app.get(MYSELF, headers=good, extra_environ=at("10.0.0.1"), status=200)
    app.get(MYSELF, headers=good, extra_environ=at("11.0.0.1"), status=401)
    app.get(MYSELF, headers=bearer(token), extra_environ=at("10.0.0.1"), status=401)


def test_auth_test_reports_a_restriction_failure_without_answering_401(app, create_token):
    token = create_token(auth=BOB, allowedIpRanges=["10.0.0.0/8"])["plainTextToken"]
    resp = app.get(AUTH_TEST, headers=bearer(token), extra_environ=at("192.0.2.1"), status=200)
    assert resp.json["isSuccessfulAuthentication"] is False
    assert resp.json["userKey"] is None
    ok = app.get(AUTH_TEST, headers=bearer(token), extra_environ=at("10.0.0.1"), status=200).json
    assert ok["isSuccessfulAuthentication"] is True and ok["userKey"] == "JIRAUSER10101"


# ----- header rules ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("rule_name", ["X-Deploy-Key", "x-deploy-key", "X-DEPLOY-KEY"])
@pytest.mark.parametrize("sent_name", ["X-Deploy-Key", "x-deploy-key", "X-dEpLoY-kEy"])
def test_header_rule_name_is_case_insensitive(app, create_token, rule_name, sent_name):
    rules = [{"headerName": rule_name, "headerValue": "s3cr3t Value"}]
    token = create_token(auth=BOB, headerValueAccessRules=rules)["plainTextToken"]
    app.get(MYSELF, headers={**bearer(token), sent_name: "s3cr3t Value"}, status=200)
    app.get(MYSELF, headers={**basic("bob", token), sent_name: "s3cr3t Value"}, status=200)


@pytest.mark.parametrize(
    "sent",
    [
        "s3cr3t value",
        "S3CR3T VALUE",
        "s3cr3t  Value",
        "s3cr3t Valu",
        "s3cr3t Value2",
        "xs3cr3t Value",
        "s3cr3t%20Value",
    ],
)
def test_header_rule_value_is_exact(app, create_token, sent):
    rules = [{"headerName": "X-Deploy-Key", "headerValue": "s3cr3t Value"}]
    token = create_token(auth=BOB, headerValueAccessRules=rules)["plainTextToken"]
    assert_refused(app.get(MYSELF, headers={**bearer(token), "X-Deploy-Key": sent}, status=401), "bearer")


def test_every_header_rule_must_match(app, create_token):
    rules = [{"headerName": f"X-Rule-{i}", "headerValue": f"value-{i}"} for i in range(5)]
    token = create_token(auth=BOB, headerValueAccessRules=rules)["plainTextToken"]
    all_headers = {f"X-Rule-{i}": f"value-{i}" for i in range(5)}
    app.get(MYSELF, headers={**bearer(token), **all_headers}, status=200)
    for missing in range(5):
        partial = {k: v for k, v in all_headers.items() if k != f"X-Rule-{missing}"}
        app.get(MYSELF, headers={**bearer(token), **partial}, status=401)
        wrong = {**all_headers, f"X-Rule-{missing}": "other"}
        app.get(MYSELF, headers={**bearer(token), **wrong}, status=401)


def test_two_rules_on_one_header_can_never_both_match(app, create_token):
    rules = [{"headerName": "X-Env", "headerValue": "a"}, {"headerName": "x-env", "headerValue": "b"}]
    token = create_token(auth=BOB, headerValueAccessRules=rules)["plainTextToken"]
    for value in ("a", "b", "a, b", "a,b"):
        app.get(MYSELF, headers={**bearer(token), "X-Env": value}, status=401)


def test_header_rules_apply_to_every_method_and_to_session_login(app, host, create_token):
    token = create_token(auth=ADMIN, headerValueAccessRules=[{"headerName": "X-Runner", "headerValue": "ci"}])[
        "plainTextToken"
    ]
    app.post_json("/rest/api/2/group", {"name": "hdr-denied"}, headers=bearer(token), status=401)
    assert host.users.group_by_name("hdr-denied") is None
    app.post_json("/rest/api/2/group", {"name": "hdr-ok"}, headers={**bearer(token), "X-Runner": "ci"}, status=201)
    app.post_json(SESSION, {"username": "admin", "password": token}, status=401)
    app.post_json(SESSION, {"username": "admin", "password": token}, headers={"X-Runner": "ci"}, status=200)
    app.reset()


# ----- the global allow-list -------------------------------------------------------------------------------------
@pytest.fixture
def allow_list(host):
    settings(host, allowedIpRanges=["10.0.0.0/8", "2001:db8::/32"])


@pytest.mark.usefixtures("allow_list")
@pytest.mark.parametrize("kind", ["bearer", "basic-token", "basic-password"])
def test_global_allow_list_refuses_outside_for_tokens_and_passwords(app, host, create_token, kind):
    # A token created before the list was set is subject to it too: created from inside here.
    token = app.post_json(f"{P}/user/token", {}, headers=ALICE, extra_environ=at("10.0.0.5"), status=200).json[
        "plainTextToken"
    ]
    headers = {"bearer": bearer(token), "basic-token": basic("alice", token), "basic-password": ALICE}[kind]
    scheme = "bearer" if kind == "bearer" else "basic"
    for inside in ("10.0.0.1", "10.255.255.254", "2001:db8::1", "::ffff:10.1.2.3"):
        resp = app.get(MYSELF, headers=headers, extra_environ=at(inside), status=200)
        assert resp.json["key"] == "JIRAUSER10100"
    for outside in ("127.0.0.1", "11.0.0.1", "2001:db9::1", "::1"):
        assert_refused(app.get(MYSELF, headers=headers, extra_environ=at(outside), status=401), scheme)
    assert failed(host, "alice") == 0  # the secret was right: no count


@pytest.mark.usefixtures("allow_list")
def test_global_allow_list_refuses_session_login_outside(app):
    token = app.post_json(f"{P}/user/token", {}, headers=ALICE, extra_environ=at("10.0.0.5"), status=200).json[
        "plainTextToken"
    ]
    for password in ("alice", token):
        resp = session_login(app, "alice", password, "192.0.2.1", 401)
        assert resp.json["errorMessages"] == ["Login failed"]
        assert "Set-Cookie" not in resp.headers
        resp = session_login(app, "alice", password, "10.0.0.1", 200)
        assert resp.json["session"]["name"] == "JSESSIONID"


@pytest.mark.usefixtures("allow_list")
def test_global_allow_list_leaves_anonymous_requests_alone(app):
    resp = app.get(SERVER_INFO, extra_environ=at("192.0.2.1"), status=200)
    assert resp.headers["X-AUSERNAME"] == "anonymous"
    resp = app.get(MYSELF, extra_environ=at("192.0.2.1"), status=401)
    assert resp.json == {"errorMessages": [NOT_AUTHENTICATED], "errors": {}}
    assert resp.headers["WWW-Authenticate"] == 'Basic realm="protected-area"'
    assert "X-Seraph-LoginReason" not in resp.headers  # no credentials were presented: nothing was refused
    doc = app.get(AUTH_TEST, extra_environ=at("192.0.2.1"), status=200).json
    assert doc["isSuccessfulAuthentication"] is False


@pytest.mark.usefixtures("allow_list")
def test_wrong_password_outside_the_allow_list_still_counts(app, host):
    app.get(MYSELF, headers=basic("alice", "wrong"), extra_environ=at("192.0.2.1"), status=401)
    assert failed(host, "alice") == 1


def test_global_allow_list_and_token_ranges_both_apply(app, host, create_token):
    token = create_token(auth=BOB, allowedIpRanges=["10.0.0.0/8"])["plainTextToken"]
    settings(host, allowedIpRanges=["10.1.0.0/16", "192.0.2.0/24"])
    app.get(MYSELF, headers=bearer(token), extra_environ=at("10.1.0.1"), status=200)
    app.get(MYSELF, headers=bearer(token), extra_environ=at("10.2.0.1"), status=401)  # global list refuses
    app.get(MYSELF, headers=bearer(token), extra_environ=at("192.0.2.1"), status=401)  # the token refuses
    app.get(MYSELF, headers=BOB, extra_environ=at("192.0.2.1"), status=200)


def test_emptying_the_global_allow_list_allows_everyone_again(app, host):
    settings(host, allowedIpRanges=["10.0.0.0/8"])
    app.get(MYSELF, headers=BOB, extra_environ=at("192.0.2.1"), status=401)
    resp = app.put_json(f"{P}/admin/settings", {"allowedIpRanges": []}, headers=ADMIN, extra_environ=at("10.0.0.1"))
    assert resp.status_int == 200 and resp.json["allowedIpRanges"] == []
    app.get(MYSELF, headers=BOB, extra_environ=at("192.0.2.1"), status=200)


def test_global_allow_list_uses_the_client_address_behind_a_trusted_proxy(app, host):
    settings(host, allowedIpRanges=["10.0.0.0/8"], trustedProxies=["192.168.0.0/16"])
    forwarded = {**BOB, "X-Forwarded-For": "10.3.3.3"}
    app.get(MYSELF, headers=forwarded, extra_environ=at("192.168.1.1"), status=200)
    app.get(MYSELF, headers=forwarded, extra_environ=at("203.0.113.1"), status=401)  # spoofed: peer not trusted
    app.get(MYSELF, headers={**BOB, "X-Forwarded-For": "203.0.113.1"}, extra_environ=at("192.168.1.1"), status=401)
    # The proxy itself is not in the allow-list and the header holds no client: the proxy's address counts.
    app.get(MYSELF, headers=BOB, extra_environ=at("192.168.1.1"), status=401)


# ----- the trusted-proxy rule ---------------------------------------------------------------------------------------
@pytest.fixture
def restricted(create_token) -> str:
    return create_token(auth=BOB, allowedIpRanges=["10.1.0.0/16", "2001:db8:1::/48"])["plainTextToken"]


@pytest.mark.parametrize(
    "trusted, peer, forwarded, status",
    [
        # Spoofing: the header is ignored when the peer is not a trusted proxy.
        ([], "203.0.113.5", "10.1.2.3", 401),
        (["192.168.0.0/16"], "203.0.113.5", "10.1.2.3", 401),
        (["192.168.0.0/16"], "10.1.0.1", "203.0.113.5", 200),  # untrusted peer inside the range: the header is moot
        (["192.168.0.1"], "192.168.0.2", "10.1.2.3", 401),  # /32 trusts exactly one address
        # A trusted peer: the rightmost address that is not itself a trusted proxy.
        (["192.168.0.0/16"], "192.168.0.1", "10.1.2.3", 200),
        (["192.168.0.0/16"], "192.168.0.1", "203.0.113.5,10.1.2.3", 200),
        (["192.168.0.0/16"], "192.168.0.1", "10.1.2.3,203.0.113.5", 401),
        (["192.168.0.0/16"], "192.168.0.1", "10.1.2.3, 192.168.7.7, 192.168.8.8", 200),
        (["192.168.0.0/16"], "192.168.0.1", "10.1.2.3, 203.0.113.5, 192.168.7.7", 401),
        (["192.168.0.0/16"], "192.168.0.1", "  10.1.2.3  ,  ,192.168.7.7 ", 200),
        (["192.168.0.0/16"], "192.168.0.1", "10.1.2.3:51234", 200),  # address with a port
        (["192.168.0.0/16"], "192.168.0.1", "[2001:db8:1::9]:443", 200),
        (["192.168.0.0/16"], "192.168.0.1", "2001:db8:1::9", 200),
        (["192.168.0.0/16"], "192.168.0.1", "::ffff:10.1.0.4", 200),
        (["192.168.0.0/16"], "192.168.0.1", "2001:db8:2::9", 401),
        # All trusted: the leftmost.
        (["192.168.0.0/16", "10.1.0.0/16"], "192.168.0.1", "10.1.2.3, 10.1.9.9", 200),
        (["192.168.0.0/16", "10.1.0.0/16"], "192.168.0.1", "192.168.3.3, 10.1.9.9", 401),
        # Broken entries fail closed.
        (["192.168.0.0/16"], "192.168.0.1", "10.1.2.3, garbage", 401),
        (["192.168.0.0/16"], "192.168.0.1", "unknown", 401),
        # A trusted peer with no header: the peer itself.
        (["192.168.0.0/16"], "192.168.0.1", None, 401),
        (["10.1.0.0/16"], "10.1.0.1", None, 200),
        # IPv6 and mapped proxies.
        (["::1"], "::1", "10.1.2.3", 200),
        (["::1"], "::2", "10.1.2.3", 401),
        (["127.0.0.0/8"], "::ffff:127.0.0.1", "10.1.2.3", 200),
        (["fd00::/8"], "fd12::1", "fd34::1, 2001:db8:1::1, fd56::1", 200),
    ],
)
def test_trusted_proxy_rule(app, host, restricted, trusted, peer, forwarded, status):
    settings(host, trustedProxies=trusted)
    headers = bearer(restricted)
    if forwarded is not None:
        headers["X-Forwarded-For"] = forwarded
    app.get(MYSELF, headers=headers, extra_environ=at(peer), status=status)


def test_custom_client_ip_header(app, host, restricted):
    settings(host, trustedProxies=["192.168.0.0/16"], clientIpHeader="x-real-ip")
    proxy = at("192.168.0.1")
    app.get(MYSELF, headers={**bearer(restricted), "X-Real-IP": "10.1.2.3"}, extra_environ=proxy, status=200)
    app.get(MYSELF, headers={**bearer(restricted), "X-REAL-IP": "10.1.2.3"}, extra_environ=proxy, status=200)
    # X-Forwarded-For is no longer read, and the new header is still ignored from an untrusted peer.
    app.get(MYSELF, headers={**bearer(restricted), "X-Forwarded-For": "10.1.2.3"}, extra_environ=proxy, status=401)
    app.get(
        MYSELF, headers={**bearer(restricted), "X-Real-IP": "10.1.2.3"}, extra_environ=at("203.0.113.1"), status=401
    )
    resp = app.get(f"{P}/admin/settings", headers=ADMIN, status=200)
    assert resp.json["clientIpHeader"] == "x-real-ip"


@pytest.mark.parametrize("value", ["", "X Forwarded", "X-Forwarded-For:", "Ä", 5, None, ["X-Forwarded-For"]])
def test_bad_client_ip_header_setting_is_refused(app, value):
    resp = app.put_json(f"{P}/admin/settings", {"clientIpHeader": value}, headers=ADMIN, status=400)
    assert "clientIpHeader" in resp.json["errorMessage"]
    assert app.get(f"{P}/admin/settings", headers=ADMIN, status=200).json["clientIpHeader"] == "X-Forwarded-For"


@pytest.mark.parametrize(
    "headers, expected",
    [
        (["10.1.2.3", "203.0.113.5"], "203.0.113.5"),  # two header lines are one list, in order
        (["203.0.113.5", "10.1.2.3, 192.168.0.9"], "10.1.2.3"),
        (["192.168.0.7", "192.168.0.9"], "192.168.0.7"),
        ([], "192.168.0.1"),
        ([""], "192.168.0.1"),
    ],
)
def test_client_address_over_several_header_lines(headers, expected):
    trusted = restrictions.networks(("192.168.0.0/16",))
    assert str(restrictions.client_address("192.168.0.1", headers, trusted)) == expected


def test_duplicate_forwarded_for_lines_through_a_real_server(tmp_path):
    """gunicorn joins repeated header lines with commas: the rightmost untrusted entry still decides."""
    with RealServer(tmp_path / "proxy", workers=1) as server:
        admin = {"Authorization": ADMIN["Authorization"]}
        resp = server.request("PUT", f"{P}/admin/settings", json_body={"trustedProxies": ["127.0.0.1"]}, headers=admin)
        assert resp.status == 200
        created = server.request(
            "POST", f"{P}/user/token", json_body={"allowedIpRanges": ["10.1.0.0/16"]}, headers=admin
        )
        assert created.status == 200
        token = created.json["plainTextToken"]

        def status(*forwarded: str) -> int:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            try:
                conn.putrequest("GET", MYSELF)
                conn.putheader("Authorization", f"Bearer {token}")
                for value in forwarded:
                    conn.putheader("X-Forwarded-For", value)
                conn.endheaders()
                answer = conn.getresponse()
                answer.read()
                return answer.status
            finally:
                conn.close()

        assert status("10.1.2.3") == 200
        assert status("10.1.2.3", "203.0.113.9") == 401
        assert status("203.0.113.9", "10.1.2.3") == 200
        assert status() == 401  # the trusted peer itself, 127.0.0.1, is outside the range


def test_header_rule_with_a_non_ascii_value_matches_the_utf8_header(app, create_token):
    token = create_token(
        auth=ALICE, headerValueAccessRules=[{"headerName": "X-Team", "headerValue": "Müller & Søn"}]
    )["plainTextToken"]
    sent = "Müller & Søn".encode().decode("latin-1")  # what a WSGI server hands over for UTF-8 bytes
    app.get("/rest/api/2/myself", headers={**bearer(token), "X-Team": sent}, status=200)
    other = "Muller & Son"
    app.get("/rest/api/2/myself", headers={**bearer(token), "X-Team": other}, status=401)
