"""The two most used Python clients, unmodified, against a real ``python -m host serve`` (2 gunicorn workers):
``jira`` (pycontribs) and ``atlassian-python-api`` (``atlassian.Jira`` and ``atlassian.Confluence``).

Each client is built with an API token in each of the three ways scripts use one: Basic ``user:token``, a
Bearer token, and a cookie session opened with the token as the password. Then the user and group calls, and
what each client shows its user on a wrong token and on a captcha-locked username."""

from __future__ import annotations

import warnings

import atlassian
import jira
import pytest
import requests
from jira.resources import User as JiraUser

from tests.conftest import basic
from tests.realserver import RealServer

P = "/rest/de.resolution.apitokenauth/latest"
NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."
MODES = ("basic", "bearer", "cookie")
pytestmark = [pytest.mark.server, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = RealServer(tmp_path_factory.mktemp("clients"), workers=2)
    srv.start()
    yield srv
    srv.stop()


def new_token(server: RealServer, user: str, password: str, description: str = "client test") -> str:
    body = {"tokenDescription": description}
    resp = server.request("POST", f"{P}/user/token", json_body=body, headers=basic(user, password))
    assert resp.status == 200, resp.body
    return resp.json["plainTextToken"]


def create_user(server: RealServer, name: str) -> None:
    body = {"name": name, "emailAddress": f"{name}@example.com", "displayName": name.title(), "password": name}
    resp = server.request("POST", "/rest/api/2/user", json_body=body, headers=basic("admin", "admin"))
    assert resp.status == 201, resp.body


def fail_logins(server: RealServer, name: str, times: int = 3) -> None:
    for _ in range(times):
        assert server.request("GET", "/rest/api/2/myself", headers=basic(name, "wrong password")).status == 401


def reset_failed_logins(server: RealServer, name: str) -> None:
    resp = server.request(
        "POST", f"/rest/api/2/user/resetFailedLoginCount?username={name}", headers=basic("admin", "admin")
    )
    assert resp.status == 204, resp.body


def all_usernames(server: RealServer) -> list[str]:
    resp = server.request("GET", "/rest/api/2/user/search?username=.&maxResults=1000", headers=basic("admin", "admin"))
    assert resp.status == 200, resp.body
    return [u["name"] for u in resp.json]


@pytest.fixture(scope="module")
def tokens(server):
    return {"alice": new_token(server, "alice", "alice"), "admin": new_token(server, "admin", "admin")}


# ----- building the clients --------------------------------------------------------------------------------------
def pycontribs(server: RealServer, mode: str, user: str, token: str) -> jira.JIRA:
    if mode == "basic":
        return jira.JIRA(server.url, basic_auth=(user, token))
    if mode == "bearer":
        return jira.JIRA(server.url, token_auth=token)
    # Cookie: the client POSTs /rest/auth/1/session with the token as the password, then sends JSESSIONID.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client = jira.JIRA(server.url, auth=(user, token))
    assert "JSESSIONID" in client._session.cookies
    return client


def atlassian_login(client: atlassian.rest_client.AtlassianRestAPI, user: str, secret: str) -> None:
    """The client's own POST to Jira's session resource; its requests session keeps the cookie."""
    answer = client.post("rest/auth/1/session", data={"username": user, "password": secret})
    assert answer["session"]["name"] == "JSESSIONID"
    assert "JSESSIONID" in client.session.cookies


def atlassian_jira(server: RealServer, mode: str, user: str, token: str) -> atlassian.Jira:
    if mode == "basic":
        return atlassian.Jira(server.url, username=user, password=token)
    if mode == "bearer":
        return atlassian.Jira(server.url, token=token)
    client = atlassian.Jira(server.url)
    atlassian_login(client, user, token)
    return client


def atlassian_confluence(server: RealServer, mode: str, user: str, token: str) -> atlassian.Confluence:
    if mode == "basic":
        return atlassian.Confluence(server.url, username=user, password=token)
    if mode == "bearer":
        return atlassian.Confluence(server.url, token=token)
    client = atlassian.Confluence(server.url)
    atlassian_login(client, user, token)
    return client


# ----- jira (pycontribs) -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_pycontribs_user_calls(server, tokens, mode):
    client = pycontribs(server, mode, "alice", tokens["alice"])
    info = client.server_info()  # also called by the constructor
    assert info["deploymentType"] == "Server" and tuple(info["versionNumbers"]) >= (9, 12, 0)
    assert client._version >= (9, 12, 0)

    me = client.myself()
    assert (me["name"], me["key"], me["emailAddress"]) == ("alice", "JIRAUSER10100", "alice@example.com")

    bob = client.user("bob")
    assert (bob.name, bob.key, bob.displayName, bob.active) == ("bob", "JIRAUSER10101", "Bob Brown", True)
    assert client.user("BOB").key == "JIRAUSER10101"  # case-insensitive, as in Jira
    emile = client.user("Émile Zoë", expand="groups")
    assert (emile.name, emile.key) == ("Émile Zoë", "JIRAUSER10104")
    # The client's own User resource, pointed at ?key= (it builds ?accountId= lookups the same way).
    by_key = JiraUser(client._options, client._session, _query_param="key")
    by_key.find("JIRAUSER10101")
    assert by_key.name == "bob"
    with pytest.raises(jira.JIRAError) as missing:
        client.user("nobody")
    assert missing.value.status_code == 404 and missing.value.text == "The user named 'nobody' does not exist"

    assert [u.name for u in client.search_users("b")] == ["bob"]
    assert [u.key for u in client.search_users("shared@")] == ["JIRAUSER10102", "JIRAUSER10103"]
    everyone = [u.name for u in client.search_users(".", maxResults=0)]  # "all, in batches"
    assert everyone == all_usernames(server)
    assert {"admin", "alice", "bob", "carol", "dave", "Émile Zoë"} <= set(everyone) and "frank" not in everyone
    assert "frank" in [u.name for u in client.search_users("frank", includeInactive=True)]

    assert {"developers", "jira-administrators"} <= set(client.groups())
    assert client.groups(query="develop") == ["developers"]
    members = client.group_members("developers")
    assert list(members) == ["alice", "bob"]
    assert members["bob"]["fullname"] == "Bob Brown" and members["bob"]["email"] == "bob@example.com"
    group = client.group("developers", expand="users")
    assert group.name == "developers" and group.users.size == 2

    if mode == "cookie":
        assert client.session().name == "alice"
        assert client.kill_session().status_code == 204


@pytest.mark.parametrize("mode", MODES)
def test_pycontribs_group_administration(server, tokens, mode):
    client = pycontribs(server, mode, "admin", tokens["admin"])
    name = f"client-group-{mode}"
    assert client.add_group(name) is True
    added = client.add_user_to_group("alice", name)
    assert added["name"] == name and added["users"]["size"] == 1
    assert list(client.group_members(name)) == ["alice"]
    assert client.remove_user_from_group("alice", name) is True
    assert list(client.group_members(name)) == []
    with pytest.raises(jira.JIRAError) as again:
        client.remove_user_from_group("alice", name)
    assert again.value.status_code == 404
    assert client.remove_group(name) is True
    assert name not in client.groups()

    with pytest.raises(jira.JIRAError) as forbidden:
        pycontribs(server, mode, "alice", tokens["alice"]).add_group(f"{name}-by-alice")
    assert forbidden.value.status_code == 403
    assert "Only system administrators" in forbidden.value.text


def test_pycontribs_many_group_members_are_paged(server, tokens):
    client = pycontribs(server, "basic", "admin", tokens["admin"])
    client.add_group("client-big")
    names = [f"pager{n:02d}" for n in range(53)]
    for name in names:
        resp = server.request(
            "POST",
            "/rest/api/2/user",
            json_body={"name": name, "emailAddress": f"{name}@example.com", "displayName": name},
            headers={"Authorization": f"Bearer {tokens['admin']}"},
        )
        assert resp.status == 201, resp.body
        client.add_user_to_group(name, "client-big")
    assert list(client.group_members("client-big")) == names  # the client pages with expand=users[51:100]


def test_pycontribs_wrong_token(server, tokens):
    create_user(server, "wrongtok")
    revoked = new_token(server, "wrongtok", "wrongtok")
    token_id = server.request("GET", f"{P}/user/token", headers=basic("wrongtok", "wrongtok")).json[0]["id"]
    assert server.request("DELETE", f"{P}/user/token/{token_id}", headers=basic("wrongtok", "wrongtok")).status == 200

    with pytest.raises(jira.JIRAError) as basic_error:
        jira.JIRA(server.url, basic_auth=("wrongtok", revoked))
    error = basic_error.value
    assert error.status_code == 401 and error.text == NOT_AUTHENTICATED
    assert error.url.endswith("/rest/api/2/serverInfo")
    assert error.response.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    assert "JiraError HTTP 401" in str(error) and NOT_AUTHENTICATED in str(error)

    with pytest.raises(jira.JIRAError) as bearer_error:
        jira.JIRA(server.url, token_auth=revoked)
    assert bearer_error.value.status_code == 401 and bearer_error.value.text == NOT_AUTHENTICATED
    assert 'error="invalid_token"' in bearer_error.value.response.headers["WWW-Authenticate"]

    with pytest.raises(jira.JIRAError) as cookie_error:
        jira.JIRA(server.url, auth=("wrongtok", revoked))
    assert cookie_error.value.status_code == 401 and cookie_error.value.text == "Login failed"
    assert cookie_error.value.url.endswith("/rest/auth/1/session")
    reset_failed_logins(server, "wrongtok")


def test_pycontribs_captcha_lock(server):
    create_user(server, "lockedj")
    token = new_token(server, "lockedj", "lockedj")
    fail_logins(server, "lockedj")
    captcha = f"CAPTCHA_CHALLENGE; login-url={server.url}/login.jsp"

    for build in (
        lambda: jira.JIRA(server.url, basic_auth=("lockedj", token)),
        lambda: jira.JIRA(server.url, basic_auth=("lockedj", "lockedj")),
        lambda: jira.JIRA(server.url, auth=("lockedj", "lockedj")),
    ):
        with pytest.raises(jira.JIRAError) as locked:
            build()
        assert locked.value.status_code == 403
        assert locked.value.text == captcha  # the client reads X-Authentication-Denied-Reason
        assert locked.value.response.headers["X-Seraph-LoginReason"] == "AUTHENTICATION_DENIED"

    # A Bearer token carries no username: the lock does not apply to it.
    assert jira.JIRA(server.url, token_auth=token).myself()["name"] == "lockedj"

    reset_failed_logins(server, "lockedj")
    assert jira.JIRA(server.url, basic_auth=("lockedj", token)).myself()["name"] == "lockedj"


# ----- atlassian-python-api: Jira -----------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_atlassian_jira_user_calls(server, tokens, mode):
    client = atlassian_jira(server, mode, "alice", tokens["alice"])
    assert client.get_server_info()["version"] == "9.12.0"
    me = client.myself()
    assert (me["name"], me["key"]) == ("alice", "JIRAUSER10100")

    assert client.user(username="bob")["key"] == "JIRAUSER10101"
    assert client.user(key="JIRAUSER10101")["name"] == "bob"
    assert client.user(key="JIRAUSER10104")["name"] == "Émile Zoë"
    expanded = client.user(username="alice", expand="groups")
    assert "developers" in [g["name"] for g in expanded["groups"]["items"]]
    with pytest.raises(requests.HTTPError) as missing:
        client.user(username="nobody")
    assert missing.value.response.status_code == 404
    assert str(missing.value) == "The user named 'nobody' does not exist"

    assert [u["name"] for u in client.user_find_by_user_string(username="b")] == ["bob"]
    everyone = all_usernames(server)
    assert [u["name"] for u in client.user_find_by_user_string(username=".", limit=3)] == everyone[:3]
    assert [u["name"] for u in client.user_find_by_user_string(username=".", start=3, limit=3)] == everyone[3:6]
    inactive = client.user_find_by_user_string(username="frank", include_inactive_users=True)
    assert [(u["name"], u["active"]) for u in inactive] == [("frank", False)]

    groups = client.get_groups()
    assert {"developers", "jira-administrators"} <= {g["name"] for g in groups["groups"]}
    assert [g["name"] for g in client.get_groups(query="develop")["groups"]] == ["developers"]
    members = client.get_all_users_from_group("developers")
    assert [u["name"] for u in members["values"]] == ["alice", "bob"]
    assert (members["total"], members["isLast"], members["startAt"]) == (2, True, 0)
    page = client.get_all_users_from_group("developers", start=1, limit=1)
    assert [u["key"] for u in page["values"]] == ["JIRAUSER10101"] and page["isLast"] is True


@pytest.mark.parametrize("mode", MODES)
def test_atlassian_jira_group_administration(server, tokens, mode):
    client = atlassian_jira(server, mode, "admin", tokens["admin"])
    name = f"atl-group-{mode}"
    assert client.create_group(name)["name"] == name
    assert client.add_user_to_group(username="bob", group_name=name)["users"]["size"] == 1
    assert [u["name"] for u in client.get_all_users_from_group(name)["values"]] == ["bob"]
    client.remove_user_from_group(username="bob", group_name=name)
    assert client.get_all_users_from_group(name)["values"] == []
    client.remove_group(name)
    with pytest.raises(requests.HTTPError) as gone:
        client.get_all_users_from_group(name)
    assert gone.value.response.status_code == 404 and str(gone.value) == f"The group named '{name}' does not exist"


def test_atlassian_jira_inactive_group_members(server, tokens):
    client = atlassian_jira(server, "basic", "admin", tokens["admin"])
    client.create_group("atl-inactive")
    client.add_user_to_group(username="frank", group_name="atl-inactive")
    assert client.get_all_users_from_group("atl-inactive")["values"] == []
    with_inactive = client.get_all_users_from_group("atl-inactive", include_inactive_users=True)
    assert [(u["name"], u["active"]) for u in with_inactive["values"]] == [("frank", False)]


def test_atlassian_wrong_token(server):
    create_user(server, "wrongatl")
    wrong = new_token(server, "wrongatl", "wrongatl")[:-1] + "x"  # one character off: fails the checksum
    for client in (
        atlassian.Jira(server.url, username="wrongatl", password=wrong),
        atlassian.Jira(server.url, token=wrong),
        atlassian.Confluence(server.url, username="wrongatl", password=wrong),
        atlassian.Confluence(server.url, token=wrong),
    ):
        call = client.myself if isinstance(client, atlassian.Jira) else client.get_current_user
        with pytest.raises(requests.HTTPError) as error:
            call()
        assert error.value.response.status_code == 401
        assert str(error.value) == NOT_AUTHENTICATED  # read from Jira's envelope (needs the exact Content-Type)

    with pytest.raises(requests.HTTPError) as login:
        atlassian_login(atlassian.Jira(server.url), "wrongatl", wrong)
    assert login.value.response.status_code == 401 and str(login.value) == "Login failed"
    reset_failed_logins(server, "wrongatl")


def test_atlassian_captcha_lock(server):
    create_user(server, "lockeda")
    token = new_token(server, "lockeda", "lockeda")
    fail_logins(server, "lockeda")
    for call in (
        atlassian.Jira(server.url, username="lockeda", password=token).myself,
        atlassian.Jira(server.url, username="lockeda", password="lockeda").myself,
        atlassian.Confluence(server.url, username="lockeda", password=token).get_current_user,
        lambda: atlassian_login(atlassian.Jira(server.url), "lockeda", "lockeda"),
    ):
        with pytest.raises(requests.HTTPError) as locked:
            call()
        assert locked.value.response.status_code == 403
        assert str(locked.value) == "Login denied"
        assert locked.value.response.headers["X-Authentication-Denied-Reason"] == (
            f"CAPTCHA_CHALLENGE; login-url={server.url}/login.jsp"
        )
    assert atlassian.Jira(server.url, token=token).myself()["name"] == "lockeda"  # Bearer is not locked
    reset_failed_logins(server, "lockeda")
    assert atlassian.Jira(server.url, username="lockeda", password=token).myself()["name"] == "lockeda"


# ----- atlassian-python-api: Confluence -------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_atlassian_confluence_user_calls(server, tokens, mode):
    client = atlassian_confluence(server, mode, "alice", tokens["alice"])
    current = client.get_current_user()
    assert (current["type"], current["username"], current["userKey"]) == ("known", "alice", "JIRAUSER10100")
    bob = client.get_user_details_by_username("bob")
    assert (bob["userKey"], bob["displayName"]) == ("JIRAUSER10101", "Bob Brown") and "email" not in bob
    assert client.get_user_details_by_userkey("JIRAUSER10104")["username"] == "Émile Zoë"
    with pytest.raises(atlassian.errors.ApiNotFoundError):
        client.get_user_details_by_username("nobody")
    with pytest.raises(atlassian.errors.ApiNotFoundError):
        client.get_user_details_by_userkey("JIRAUSER99999")


# ----- hostile input through the real server (gunicorn) -------------------------------------------------------------
def send_chunked(server: RealServer, path: str, chunks: list[bytes], token: str) -> tuple[int, bytes]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.putrequest("POST", path)
        conn.putheader("Authorization", f"Bearer {token}")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for chunk in chunks:
            conn.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        conn.send(b"0\r\n\r\n")
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_chunked_bodies_through_gunicorn(server, tokens):
    status, body = send_chunked(server, f"{P}/user/token", [b'{"tokenDescr', b'iption": "chunked"}'], tokens["alice"])
    assert status == 200, body
    assert b'"tokenDescription":"chunked"' in body
    big = [b'{"tokenDescription": "'] + [b"x" * 65536] * 17 + [b'"}']  # 1.06 MiB, no Content-Length
    status, body = send_chunked(server, f"{P}/user/token", big, tokens["alice"])
    assert status == 413, body
    assert b"larger than the limit" in body
    listed = server.request("GET", f"{P}/user/token", headers={"Authorization": f"Bearer {tokens['alice']}"})
    assert listed.status == 200
    assert [t["description"] for t in listed.json].count("chunked") == 1
    assert all(not t["description"].startswith("xxx") for t in listed.json)


def test_oversized_authorization_header_through_gunicorn(server):
    resp = server.request("GET", "/rest/api/2/myself", headers={"Authorization": "Basic " + "A" * 100_000})
    assert 400 <= resp.status < 500  # gunicorn refuses a header line over its limit before the app sees it
