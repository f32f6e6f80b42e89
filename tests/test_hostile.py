"""A catalogue of hostile input for every REST endpoint of the host and the add-on (contract §3).

Every case is sent to the WSGI app in process as raw WSGI (so that bodies without a Content-Length, NUL
characters in the path and odd header values reach the app exactly as sent) and must get a 4xx whose body
names the problem, never a 5xx, and must leave the database as it was (no user, group, membership, token,
session or setting created, changed or deleted). Filter values that look like SQL or LIKE patterns must be
matched literally."""

from __future__ import annotations

import base64
import io
import json
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, unquote_to_bytes

import pytest

from host.app import create_app
from host.config import Config
from host.db import close_database
from host.fixtures import load_fixtures
from host.passwords import FAST_TEST_PARAMS, PasswordHasher
from tests import pg
from tests.conftest import BASE_URL, Clock

P = "/rest/de.resolution.apitokenauth/latest"
MIB = 1024 * 1024
PLUGIN = "de.resolution.apitokenauth"

# Every REST route the host and the add-on serve, with its methods (checked against the router below).
ENDPOINTS: dict[str, tuple[str, ...]] = {
    "/rest/api/2/serverInfo": ("GET",),
    "/rest/api/2/myself": ("GET",),
    "/rest/api/2/user": ("GET", "POST", "PUT", "DELETE"),
    "/rest/api/2/user/search": ("GET",),
    "/rest/api/2/user/resetFailedLoginCount": ("POST",),
    "/rest/api/2/settings/authentication": ("GET", "PUT"),
    "/rest/api/2/group": ("GET", "POST", "DELETE"),
    "/rest/api/2/group/user": ("POST", "DELETE"),
    "/rest/api/2/group/member": ("GET",),
    "/rest/api/2/groups/picker": ("GET",),
    "/rest/api/2/auditing/record": ("GET",),
    "/rest/auth/1/session": ("GET", "POST", "DELETE"),
    "/rest/api/user": ("GET",),
    "/rest/api/user/current": ("GET",),
    "/rest/plugins/1.0": ("GET",),
    f"/rest/plugins/1.0/{PLUGIN}-key": ("GET", "PUT"),
    f"{P}/user/token": ("GET", "POST"),
    f"{P}/user/token/1": ("PATCH", "DELETE"),
    f"{P}/user/authTest": ("GET",),
    f"{P}/user/tokensByFilter": ("GET",),
    f"{P}/user/userKeyByEmail": ("GET",),
    f"{P}/user/token/deleteAllFor/JIRAUSER10101": ("DELETE",),
    f"{P}/admin/settings": ("GET", "PUT"),
    f"{P}/admin/permissions": ("GET", "PUT"),
}
# Required query parameters, so that a body reaches the validation it is meant for.
QUERY = {
    "/rest/api/2/user": "username=bob",
    "/rest/api/2/group/user": "groupname=developers&username=bob",
}
BODY_METHODS = ("POST", "PUT", "PATCH")
# resetFailedLoginCount takes its username from the query and reads no body (as in Jira).
BODY_ENDPOINTS = [
    (m, p) for p, methods in ENDPOINTS.items() for m in methods if m in BODY_METHODS and "resetFailed" not in p
]
ALL_ENDPOINTS = [(m, p) for p, methods in ENDPOINTS.items() for m in methods]

# State that may legitimately change on a refused request (counters, audit, lastAccessed, rate buckets).
IGNORED_TABLES = {"host_audit_record", "host_captcha_challenge", "apitokenauth_rate_bucket", "host_schema_migration"}
IGNORED_COLUMNS = {"failed_login_count", "last_failed_login", "login_count", "last_login", "last_accessed"}


# ----- the app, raw WSGI ------------------------------------------------------------------------------------------
class Answer:
    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = int(status.split()[0])
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    def message(self) -> str:
        """Everything an error body says: Jira's envelope, the add-on's errorMessage, Confluence's message."""
        doc = self.json
        assert isinstance(doc, dict), self.body
        parts = list(doc.get("errorMessages") or [])
        parts += [str(v) for v in (doc.get("errors") or {}).values()]
        for key in ("errorMessage", "message"):
            if doc.get(key):
                parts.append(str(doc[key]))
        return " | ".join(parts)


class Client:
    def __init__(self, host, auth: str) -> None:
        self.host = host
        self.auth = auth

    def call(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        body: bytes | None = None,
        json_body: Any = None,
        content_type: str | None = "application/json",
        content_length: bool = True,
        headers: dict[str, str] | None = None,
        auth: str | None = "default",
    ) -> Answer:
        if json_body is not None:
            body = json.dumps(json_body).encode()
        if "?" in path:
            path, query = path.split("?", 1)
        environ = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
            "QUERY_STRING": query,
            "SERVER_NAME": "jira.test",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body or b""),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        if body is not None:
            if content_type:
                environ["CONTENT_TYPE"] = content_type
            if content_length:
                environ["CONTENT_LENGTH"] = str(len(body))
            else:
                environ["HTTP_TRANSFER_ENCODING"] = "chunked"
        authorization = self.auth if auth == "default" else auth
        if authorization is not None:
            environ["HTTP_AUTHORIZATION"] = authorization
        for name, value in (headers or {}).items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        captured: dict[str, Any] = {}

        def start_response(status, response_headers, exc_info=None):
            captured["status"], captured["headers"] = status, response_headers

        chunks = self.host.app(environ, start_response)
        try:
            data = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        return Answer(captured["status"], captured["headers"], data)


def basic_header(user: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


@pytest.fixture(scope="module")
def host(tmp_path_factory, postgres_database):
    """One host for the whole catalogue: every case must leave its database as it found it."""
    tmp = tmp_path_factory.mktemp("hostile")
    if postgres_database is None:
        url = f"sqlite:///{tmp / 'host.sqlite3'}"
    else:
        pg.reset_database(postgres_database)
        url = postgres_database
    config = Config(data_dir=tmp, database_url=url, base_url=BASE_URL, secret=b"test-server-secret")
    built = create_app(config, hasher=PasswordHasher(**FAST_TEST_PARAMS), clock=Clock())
    load_fixtures(built)
    yield built
    close_database(built.db)


@pytest.fixture(scope="module")
def admin(host) -> Client:
    client = Client(host, basic_header("admin", "admin"))
    created = client.call("POST", f"{P}/user/token", json_body={"tokenDescription": "catalogue admin"})
    assert created.status == 200, created.body
    token = created.json["plainTextToken"]
    alice = Client(host, basic_header("alice", "alice"))
    for n in range(2):  # tokens 2 and 3 belong to alice; ids to PATCH and DELETE with hostile bodies
        assert alice.call("POST", f"{P}/user/token", json_body={"tokenDescription": f"alice {n}"}).status == 200
    return Client(host, f"Bearer {token}")


def snapshot(host) -> dict[str, list]:
    """Every row of every table that holds users, groups, memberships, tokens, sessions and settings."""
    state: dict[str, list] = {}
    for table in sorted(host.db.get_tables()):
        if table in IGNORED_TABLES:
            continue
        cursor = host.db.execute_sql(f"SELECT * FROM {table}")
        names = [d[0] for d in cursor.description]
        rows = [
            tuple(v for n, v in zip(names, row, strict=True) if n not in IGNORED_COLUMNS) for row in cursor.fetchall()
        ]
        state[table] = sorted(rows, key=repr)
    return state


@pytest.fixture
def unchanged(host, admin) -> Iterator[None]:
    before = snapshot(host)
    yield
    assert snapshot(host) == before, "a refused request changed the database"


def assert_refused(answer: Answer, *mentions: str, status: int | tuple[int, int] = (400, 499)) -> str:
    """A 4xx (or exactly ``status``) with a JSON body whose message mentions one of ``mentions``."""
    low, high = (status, status) if isinstance(status, int) else status
    assert low <= answer.status <= high, (answer.status, answer.body[:500])
    message = answer.message()
    assert message.strip(), answer.body
    if mentions:
        assert any(m.lower() in message.lower() for m in mentions), (mentions, message)
    return message


# ----- the catalogue covers every route ------------------------------------------------------------------------------
def test_catalogue_lists_every_rest_route(host):
    served = {t for t in host.router.templates if "#" not in t and t.startswith("/rest/")}
    concrete = {f"{P}/user/token/1": f"{P}/user/token/{{}}", f"{PLUGIN}-key": "{}-key", "/JIRAUSER10101": "/{}"}
    listed = set()
    for path in ENDPOINTS:
        for value, template in concrete.items():
            path = path.replace(value, template)
        listed.add(host.router._shape(path))
    assert served - listed <= {f"{P}/openapi.json"}, served - listed


# ----- malformed bodies on every endpoint that takes one --------------------------------------------------------------
def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


MALFORMED = {
    "invalid-json": (b'{"name": ', ("JSON",)),
    "trailing-garbage": (b'{"name": "x"} x', ("JSON",)),
    "json-array": (b"[]", ("JSON object",)),
    "json-string": (b'"name"', ("JSON object",)),
    "json-number": (b"1e999", ("JSON", "object")),
    "json-null": (b"null", ("JSON object",)),
    "nan": (b'{"name": NaN}', ("JSON",)),
    "deeply-nested-array": (nested(100_000), ("JSON",)),
    "deeply-nested-in-object": (b'{"name": ' + nested(50_000) + b"}", ("JSON", "name", "nested")),
    "huge-integer": (b'{"name": 1' + b"0" * 5000 + b"}", ("JSON",)),
    "empty": (b"", ("empty",)),
    "whitespace": (b"   \n", ("empty",)),
    "invalid-utf8": (b'{"name": "\xff\xfe"}', ("JSON",)),
    "lone-surrogate": (b'{"name": "\\ud800"}', ("surrogate",)),
    "nul-in-value": (b'{"name": "a\\u0000b"}', ("NUL",)),
    "nul-in-key": (b'{"a\\u0000": 1}', ("NUL",)),
    "raw-nul": (b'{"name": "a\x00b"}', ("JSON",)),
}


@pytest.mark.parametrize("case", list(MALFORMED), ids=list(MALFORMED))
@pytest.mark.parametrize(("method", "path"), BODY_ENDPOINTS, ids=[f"{m} {p}" for m, p in BODY_ENDPOINTS])
def test_malformed_body(admin, unchanged, method, path, case):
    body, mentions = MALFORMED[case]
    answer = admin.call(method, path, query=QUERY.get(path, ""), body=body)
    assert_refused(answer, *mentions, status=400)


@pytest.mark.parametrize("with_length", [True, False], ids=["content-length", "chunked"])
@pytest.mark.parametrize(("method", "path"), BODY_ENDPOINTS, ids=[f"{m} {p}" for m, p in BODY_ENDPOINTS])
def test_oversized_body(admin, unchanged, method, path, with_length):
    body = b'{"name": "' + b"x" * MIB + b'"}'
    answer = admin.call(method, path, query=QUERY.get(path, ""), body=body, content_length=with_length)
    assert_refused(answer, "larger than the limit", status=413)


@pytest.mark.parametrize(("method", "path"), BODY_ENDPOINTS, ids=[f"{m} {p}" for m, p in BODY_ENDPOINTS])
def test_wrong_content_type(admin, unchanged, method, path):
    form = "application/x-www-form-urlencoded"
    answer = admin.call(method, path, query=QUERY.get(path, ""), body=b"name=x", content_type=form)
    assert_refused(answer, "content type", status=415)


def test_oversized_body_is_refused_even_on_bodiless_endpoints(admin, unchanged):
    answer = admin.call("GET", "/rest/api/2/myself", body=b"x" * (MIB + 1))
    assert_refused(answer, "larger than the limit", status=413)


# ----- wrong types and bad values, field by field ---------------------------------------------------------------------
HUGE = "x" * 10_000
EMOJI = "🙂" * 300
RTL = "\u202eevil"
FIELD_CASES: list[tuple[str, str, str, dict, tuple[str, ...]]] = []


def field_case(method: str, path: str, body: dict, *mentions: str, query: str = "") -> None:
    FIELD_CASES.append((method, path + (f"?{query}" if query else ""), json.dumps(body)[:60], body, mentions))


TOKEN = f"{P}/user/token"
for value in (1, 1.5, True, [], {}, HUGE, EMOJI * 2, "a\u0007b"):
    field_case("POST", TOKEN, {"tokenDescription": value}, "tokenDescription")
    field_case("PATCH", f"{TOKEN}/2", {"tokenDescription": value}, "tokenDescription")
for value in (-1, -0.0, 1.5, "12", True, 10**30, 10**400, 2**63, 1e3, 1e300, 1201):
    field_case("POST", TOKEN, {"tokenValidityTimeInMonths": value}, "tokenValidityTimeInMonths")
for value in (
    "2026-02-30T10:00:00+00:00",
    "2027-01-01T24:00:00+00:00",
    "2027-01-01T10:00:00",
    "0000-01-01T00:00:00+00:00",
    "2027-13-01T00:00:00+00:00",
    "2027-01-01T10:00:00+25:00",
    "yesterday",
    "",
    HUGE,
    1767225600000,
    [],
):
    field_case("POST", TOKEN, {"tokenExpirationDateTime": value}, "tokenExpirationDateTime")
for value in (1, [], "JIRAUSER-1", "JIRAUSER99999999999999999999", "JIRAUSER١٠١٠١", "' OR 1=1 --", "%", HUGE):
    field_case("POST", TOKEN, {"tokenForUserKey": value}, "tokenForUserKey")
for value in (0, 3, -1, "1", True, 1.5, 2**64):
    field_case("POST", TOKEN, {"tokenScope": value}, "tokenScope")
for value in (
    "10.0.0.0/8",
    ["999.1.1.1/8"],
    ["::g"],
    ["10.0.0.0/33"],
    ["2001:db8::/129"],
    ["10.0.0.0/-1"],
    [1],
    [None],
    [""],
    [HUGE],
    ["10.0.0.0/8"] * 10_000,
    ["' OR 1=1 --"],
):
    field_case("POST", TOKEN, {"allowedIpRanges": value}, "allowedIpRanges")
for value in (
    "X-Job",
    [1],
    [{"headerName": "X-Job"}],
    [{"headerName": "bad name", "headerValue": "v"}],
    [{"headerName": "X-Job", "headerValue": 1}],
    [{"headerName": HUGE, "headerValue": "v"}],
    [{"headerName": "X-Job", "headerValue": "v", "extra": 1}],
    [{"headerName": "X-Job", "headerValue": "v"}] * 1000,
):
    field_case("POST", TOKEN, {"headerValueAccessRules": value}, "headerValueAccessRules")
for name in ("rateLimitBucketSize", "rateLimitBucketLifetime"):
    for value in (-1, 1.5, "5", True, 10**12):
        field_case("POST", TOKEN, {"rateLimitBucketSize": 5, "rateLimitBucketLifetime": 5} | {name: value}, name)
for value in ("garbage", 1, "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnope\n-----END PGP PUBLIC KEY BLOCK-----", HUGE):
    field_case("POST", TOKEN, {"publicKey": value}, "publicKey")
field_case("POST", TOKEN, {"tokenDescription": "x", "unknownField": 1}, "unknownField")
field_case("PATCH", f"{TOKEN}/2", {"tokenDescription": "x", "tokenScope": 1}, "tokenScope")
field_case("PATCH", f"{TOKEN}/2", {}, "tokenDescription")

SETTINGS = f"{P}/admin/settings"
for name, values in {
    "maxValidityMonths": (-1, "12", 1.5, True, 10**30, 10**400, 1e300, None, 1201),
    "defaultValidityMonths": (-1, "12", 13, None),
    "readOnlyTokensOnly": ("yes", 1, None, "true"),
    "disableBasicAuthWithPassword": ("no", 0, []),
    "allowedIpRanges": ("10.0.0.0/8", ["999.1.1.1/8"], ["::g"], ["10.0.0.0/33"], [1]),
    "trustedProxies": (["::g"], ["10.0.0.0/33"], "127.0.0.1"),
    "clientIpHeader": ("", "bad header", 1, HUGE, "X-Forwarded-For\u0000", "Ünïcode"),
    "rateLimitEnabled": ("on",),
    "defaultRateLimitBucketSize": (-1, 10**12, "5"),
    "defaultRateLimitBucketLifetime": (-1, 1.5),
    "auditSuccessfulAuthentication": (1,),
    "lastAccessedWriteIntervalSeconds": (-1, 0, 86_401, "60"),
}.items():
    for value in values:
        field_case("PUT", SETTINGS, {name: value}, name)
field_case("PUT", SETTINGS, {"maxValidityMonths": 6, "unknownSetting": 1}, "unknownSetting")
field_case("PUT", SETTINGS, {"maxValidityMonths": 3, "defaultValidityMonths": 12}, "defaultValidityMonths")

PERMISSIONS = f"{P}/admin/permissions"
for body in (
    {"useTokens": "everyone"},
    {"useTokens": {"everyone": "yes"}},
    {"useTokens": {"everyone": False, "groups": "developers"}},
    {"createTokens": {"everyone": False, "groups": [1]}},
    {"createTokens": {"everyone": False, "groups": ["no-such-group"]}},
    {"createTokens": {"everyone": False, "groups": [HUGE]}},
    {"createTokens": {"everyone": False, "groups": ["' OR 1=1 --"]}},
    {"createAndDeleteOnBehalf": {"everyone": True, "groups": []}},
):
    field_case("PUT", PERMISSIONS, body, *body)
field_case("PUT", PERMISSIONS, {"useTokens": {"everyone": True}, "madeUp": {}}, "madeUp")

for value in (-1, "3", 1.5, True, 10**30, [], HUGE):
    attempts = "maximumAuthenticationAttemptsAllowed"
    field_case("PUT", "/rest/api/2/settings/authentication", {attempts: value}, attempts)
field_case("PUT", "/rest/api/2/settings/authentication", {"unknown": 1}, "unknown")

USER = "/rest/api/2/user"
NEW = {"name": "newbie", "emailAddress": "newbie@example.com", "displayName": "Newbie", "password": "pw"}
for value in (1, None, "", "a:b", "x" * 256, "a\u0001b", RTL, "a\u2028b", [], "bob", "BOB"):
    field_case("POST", USER, NEW | {"name": value}, "username")
for value in (1, None, "nope", "x" * 300 + "@example.com", "a b@example.com", "a@b\u0000"):
    field_case("POST", USER, NEW | {"emailAddress": value}, "email")
for value in (1, None, "", HUGE, "a\u0007b"):
    field_case("POST", USER, NEW | {"displayName": value}, "displayName", "full name")
for value in (1, "", "x" * 2000, []):
    field_case("POST", USER, NEW | {"password": value}, "password")
for body, mention in (
    ({"active": "yes"}, "active"),
    ({"active": None}, "active"),
    ({"name": ""}, "username"),
    ({"name": "alice"}, "username"),
    ({"name": "a:b"}, "username"),
    ({"emailAddress": "x"}, "email"),
    ({"key": "other"}, "key"),
    ({"displayName": HUGE}, "displayName"),
    ({"password": 1}, "password"),
    ({"unknownField": 1}, "unknownField"),
    ({"name": "renamed", "emailAddress": "bad"}, "email"),  # nothing of it is written
):
    field_case("PUT", USER, body, mention, query="username=bob")

for value in (1, None, "", HUGE, [], "a\u0000b", "developers", "DEVELOPERS"):
    field_case("POST", "/rest/api/2/group", {"name": value}, "name", "group")
for value in (1, None, "", "nobody", [], HUGE):
    field_case("POST", "/rest/api/2/group/user", {"name": value}, "name", "user", query="groupname=api-automation")

for body, mention in (
    ({"username": 1, "password": "x"}, "username"),
    ({"username": "alice"}, "password"),
    ({"username": "", "password": "x"}, "username"),
    ({"username": "alice", "password": ["alice"]}, "password"),
    ({"username": HUGE, "password": "x"}, "Login failed"),
    ({"username": "' OR 1=1 --", "password": "' OR 1=1 --"}, "Login failed"),
    ({"username": "%", "password": "%"}, "Login failed"),
):
    field_case("POST", "/rest/auth/1/session", body, mention)

PLUGIN_ONE = f"/rest/plugins/1.0/{PLUGIN}-key"
for body in ({"enabled": "false"}, {"enabled": None}, {"enabled": 0}, {"unknown": True, "enabled": True}, {}):
    field_case("PUT", PLUGIN_ONE, body, "enabled", "unknown")


@pytest.mark.parametrize(
    ("method", "path", "body", "mentions"),
    [(m, p, b, ms) for m, p, _, b, ms in FIELD_CASES],
    ids=[f"{m} {p.rsplit('/', 2)[-2:][-1]} {label}" for m, p, label, _, _ in FIELD_CASES],
)
def test_bad_field(admin, unchanged, method, path, body, mentions):
    answer = admin.call(method, path, json_body=body)
    assert_refused(answer, *mentions)


# ----- hostile query parameters and path segments ---------------------------------------------------------------------
ARABIC_ONE_TWO = quote("١٢")
QUERY_CASES: list[tuple[str, str, tuple[str, ...], int | tuple[int, int]]] = [
    ("GET", "/rest/api/2/user", ("username", "key"), 400),
    ("GET", "/rest/api/2/user?username=" + "x" * 10_000, ("does not exist",), 404),
    ("GET", "/rest/api/2/user?key=JIRAUSER-1", ("does not exist",), 404),
    ("GET", f"/rest/api/2/user?key=JIRAUSER{ARABIC_ONE_TWO}", ("does not exist",), 404),
    ("GET", "/rest/api/2/user?key=JIRAUSER99999999999999999999999", ("does not exist",), 404),
    ("GET", "/rest/api/2/user?username=%27%20OR%201%3D1%20--", ("does not exist",), 404),
    ("GET", "/rest/api/2/user?username=%25", ("does not exist",), 404),
    ("GET", "/rest/api/2/user?username=_lice", ("does not exist",), 404),
    ("GET", "/rest/api/2/user?username=a%00b", ("NUL",), 400),
    ("GET", "/rest/api/2/my%00self", ("NUL",), 400),
    ("GET", "/rest/api/2/user/search", ("username",), 400),
    ("GET", "/rest/api/2/user/search?username=a&maxResults=-1", ("maxResults",), 400),
    ("GET", "/rest/api/2/user/search?username=a&maxResults=abc", ("maxResults",), 400),
    ("GET", "/rest/api/2/user/search?username=a&maxResults=1e3", ("maxResults",), 400),
    ("GET", "/rest/api/2/user/search?username=a&maxResults=99999999999999999999", ("maxResults",), 400),
    ("GET", f"/rest/api/2/user/search?username=a&maxResults={ARABIC_ONE_TWO}", ("maxResults",), 400),
    ("GET", "/rest/api/2/user/search?username=a&startAt=-5", ("startAt",), 400),
    ("GET", "/rest/api/2/user/search?username=a&startAt=1.5", ("startAt",), 400),
    ("GET", "/rest/api/2/user/search?username=a&includeActive=yes", ("includeActive",), 400),
    ("GET", "/rest/api/2/user/search?username=a&includeInactive=1", ("includeInactive",), 400),
    ("POST", "/rest/api/2/user/resetFailedLoginCount", ("username",), 400),
    ("POST", "/rest/api/2/user/resetFailedLoginCount?username=nobody", ("does not exist",), 404),
    ("DELETE", "/rest/api/2/user", ("username", "key"), 400),
    ("DELETE", "/rest/api/2/user?username=admin", ("currently logged-in",), 400),
    ("DELETE", "/rest/api/2/user?username=%25", ("does not exist",), 404),
    ("PUT", "/rest/api/2/user?username=nobody", ("does not exist",), 404),
    ("GET", "/rest/api/2/group", ("groupname",), 400),
    ("GET", "/rest/api/2/group?groupname=%25", ("does not exist",), 404),
    ("GET", "/rest/api/2/group?groupname=developers&expand=users%5B5%3A1%5D", ("expand",), 400),
    ("DELETE", "/rest/api/2/group?groupname=jira-administrators", ("cannot be deleted",), 400),
    ("DELETE", "/rest/api/2/group?groupname=_evelopers", ("does not exist",), 404),
    ("DELETE", "/rest/api/2/group/user?groupname=developers", ("username",), 400),
    ("DELETE", "/rest/api/2/group/user?groupname=developers&username=carol", ("not a member",), 404),
    ("DELETE", "/rest/api/2/group/user?username=bob", ("groupname",), 400),
    ("GET", "/rest/api/2/group/member", ("groupname",), 400),
    ("GET", "/rest/api/2/group/member?groupname=developers&maxResults=0", ("maxResults",), 400),
    ("GET", "/rest/api/2/group/member?groupname=developers&startAt=-1", ("startAt",), 400),
    ("GET", "/rest/api/2/group/member?groupname=developers&includeInactiveUsers=maybe", ("includeInactiveUsers",), 400),
    ("GET", "/rest/api/2/groups/picker?maxResults=-5", ("maxResults",), 400),
    ("GET", "/rest/api/2/auditing/record?from=2026-02-30T00:00:00%2B00:00", ("from",), 400),
    ("GET", "/rest/api/2/auditing/record?to=2026-01-01T24:00:00%2B00:00", ("to",), 400),
    ("GET", "/rest/api/2/auditing/record?from=2026-01-01T00:00:00", ("from",), 400),
    ("GET", "/rest/api/2/auditing/record?from=0000-01-01T00:00:00%2B00:00", ("from",), 400),
    ("GET", "/rest/api/2/auditing/record?from=-1", ("from",), 400),
    ("GET", "/rest/api/2/auditing/record?from=99999999999999999999", ("from",), 400),
    ("GET", "/rest/api/2/auditing/record?from=2000&to=1000", ("from",), 400),
    ("GET", "/rest/api/2/auditing/record?offset=-1", ("offset",), 400),
    ("GET", "/rest/api/2/auditing/record?limit=0", ("limit",), 400),
    ("GET", "/rest/api/2/auditing/record?limit=abc", ("limit",), 400),
    ("GET", "/rest/api/2/auditing/record?filter=" + "x" * 10_000, ("filter",), 400),
    ("GET", "/rest/api/user", ("username", "key"), 400),
    ("GET", "/rest/api/user?username=%25", ("No user found",), 404),
    ("GET", "/rest/api/user?key=JIRAUSER-1", ("No user found",), 404),
    ("GET", "/rest/api/user?key=" + "x" * 10_000, ("No user found",), 404),
    ("GET", "/rest/plugins/1.0/nope-key", ("not installed",), 404),
    ("PUT", "/rest/plugins/1.0/%25-key", ("not installed",), 404),
    ("PATCH", f"{TOKEN}/abc", ("not a number",), 400),
    ("PATCH", f"{TOKEN}/-1", ("not a number", "no token"), (400, 404)),
    ("DELETE", f"{TOKEN}/1.5", ("not a number",), 400),
    ("DELETE", f"{TOKEN}/{ARABIC_ONE_TWO}", ("not a number",), 400),
    ("DELETE", f"{TOKEN}/99999999999999999999999999", ("not a number", "no token"), (400, 404)),
    ("DELETE", f"{TOKEN}/9999", ("no token",), 404),
    ("DELETE", f"{TOKEN}/%27%20OR%201%3D1%20--", ("not a number",), 400),
    ("DELETE", f"{P}/user/token/deleteAllFor/JIRAUSER-1", ("no user",), 404),
    ("DELETE", f"{P}/user/token/deleteAllFor/%25", ("no user",), 404),
    ("DELETE", f"{P}/user/token/deleteAllFor/JIRAUSER{ARABIC_ONE_TWO}", ("no user",), 404),
    ("DELETE", f"{P}/user/token/deleteAllFor/" + "x" * 10_000, ("no user",), 404),
    ("GET", f"{P}/user/tokensByFilter?page=-1", ("page",), 400),
    ("GET", f"{P}/user/tokensByFilter?page=abc", ("page",), 400),
    ("GET", f"{P}/user/tokensByFilter?page=99999999999999999999", ("page",), 400),
    ("GET", f"{P}/user/tokensByFilter?limit=0", ("limit",), 400),
    ("GET", f"{P}/user/tokensByFilter?limit=1e2", ("limit",), 400),
    ("GET", f"{P}/user/tokensByFilter?notValidAfter=-2", ("notValidAfter",), 400),
    ("GET", f"{P}/user/tokensByFilter?tokenScope=3", ("tokenScope",), 400),
    ("GET", f"{P}/user/tokensByFilter?tokenScope={ARABIC_ONE_TWO}", ("tokenScope",), 400),
    ("GET", f"{P}/user/tokensByFilter?fromCreated=2026-01-01", ("fromCreated",), 400),
    ("GET", f"{P}/user/tokensByFilter?fromCreated=99999999999999999", ("fromCreated",), 400),
    ("GET", f"{P}/user/tokensByFilter?fromCreated=2&untilCreated=1", ("fromCreated",), 400),
    ("GET", f"{P}/user/tokensByFilter?page=1&page=2", ("page",), 400),
    ("GET", f"{P}/user/tokensByFilter?descriptionFilter=" + "x" * 10_000, ("descriptionFilter",), 400),
    ("GET", f"{P}/user/tokensByFilter?userFilter=" + "x" * 10_000, ("userFilter",), 400),
    ("GET", f"{P}/user/userKeyByEmail", ("email",), 400),
    ("GET", f"{P}/user/userKeyByEmail?email=" + "x" * 300, ("email",), 400),
    ("GET", f"{P}/user/userKeyByEmail?email=%27%20OR%201%3D1%20--", ("NOT_FOUND",), 404),
    ("GET", f"{P}/user/userKeyByEmail?email=%25", ("NOT_FOUND",), 404),
    ("GET", f"{P}/user/userKeyByEmail?email=%25%40example.com", ("NOT_FOUND",), 404),
    ("GET", f"{P}/user/userKeyByEmail?email=_ob%40example.com", ("NOT_FOUND",), 404),
    ("GET", f"{P}/user/userKeyByEmail?email=bob%40example.com%00", ("NUL",), 400),
]


@pytest.mark.parametrize(
    ("method", "path", "mentions", "status"), QUERY_CASES, ids=[f"{m} {p[:90]}" for m, p, _, _ in QUERY_CASES]
)
def test_bad_query_or_path(admin, unchanged, method, path, mentions, status):
    body = {"tokenDescription": "renamed"} if method == "PATCH" else None
    assert_refused(admin.call(method, path, json_body=body), *mentions, status=status)


# ----- filters that look like SQL or LIKE patterns are matched literally ----------------------------------------------
LITERAL = ("' OR 1=1 --", "_", "\\", "%_", "a%", "\\%", '"; DROP TABLE host_user; --', "🙂", RTL, "ﷺ", HUGE[:200])


@pytest.mark.parametrize("text", LITERAL, ids=[repr(t)[:20] for t in LITERAL])
def test_filters_match_literally(admin, unchanged, text):
    q = quote(text, safe="")
    assert admin.call("GET", f"/rest/api/2/user/search?username={q}").json == []
    picker = admin.call("GET", f"/rest/api/2/groups/picker?query={q}")
    assert picker.status == 200 and picker.json["groups"] == [] and picker.json["total"] == 0
    by_filter = admin.call("GET", f"{P}/user/tokensByFilter?descriptionFilter={q}")
    assert by_filter.status == 200 and by_filter.json["total"] == 0
    assert admin.call("GET", f"{P}/user/tokensByFilter?userFilter={q}").json["total"] == 0
    records = admin.call("GET", f"/rest/api/2/auditing/record?filter={q}")
    assert records.status == 200 and records.json["total"] == 0
    assert admin.call("GET", f"/rest/api/2/user?username={q}").status == 404
    assert admin.call("GET", f"{P}/user/userKeyByEmail?email={q}").status == 404


def test_user_search_wildcards_are_only_dot_and_percent(admin, unchanged):
    """Jira's own: '.' and '%' alone list everyone; inside a prefix they are literal characters."""
    everyone = ["admin", "alice", "bob", "carol", "dave", "Émile Zoë"]
    assert [u["name"] for u in admin.call("GET", "/rest/api/2/user/search?username=.").json] == everyone
    assert [u["name"] for u in admin.call("GET", "/rest/api/2/user/search?username=%25").json] == everyone
    assert admin.call("GET", "/rest/api/2/user/search?username=a%25").json == []
    assert admin.call("GET", "/rest/api/2/user/search?username=_lice").json == []


# ----- garbage Authorization headers ----------------------------------------------------------------------------------
GARBAGE_AUTH = {
    "basic-no-credentials": "Basic",
    "basic-space": "Basic ",
    "basic-not-base64": "Basic !!!",
    "basic-bad-padding": "Basic YWxpY2U6YWxpY2U",
    "basic-no-colon": "Basic " + base64.b64encode(b"alicealice").decode(),
    "basic-empty-user": "Basic " + base64.b64encode(b":alice").decode(),
    "basic-nul": "Basic " + base64.b64encode(b"alice\x00:alice").decode(),
    "basic-binary": "Basic " + base64.b64encode(bytes(range(256))).decode(),
    "basic-huge": "Basic " + base64.b64encode(b"a" * 75_000 + b":" + b"b" * 25_000).decode(),
    "basic-huge-garbage": "Basic " + "A" * 100_000,
    "bearer-empty": "Bearer",
    "bearer-spaces": "Bearer a b c",
    "bearer-garbage": "Bearer !!!",
    "bearer-sql": "Bearer ' OR 1=1 --",
    "bearer-huge": "Bearer " + "a" * 100_000,
    "bearer-almost-token": "Bearer apt_" + "A" * 39,
    "unknown-scheme": "Digest username=alice",
    "scheme-only": "Negotiate",
    "nul": "Basic\x00YWxpY2U6YWxpY2U=",
    "nul-bearer": "Bearer abc\x00def",
    "unicode": "Bearer 🙂🙂🙂",
    "latin1-bytes": "Basic " + "é" * 10,
}


@pytest.mark.parametrize("header", list(GARBAGE_AUTH), ids=list(GARBAGE_AUTH))
@pytest.mark.parametrize("path", ["/rest/api/2/myself", "/rest/api/2/serverInfo", f"{P}/user/token", "/no/such/path"])
def test_garbage_authorization(admin, unchanged, header, path):
    answer = admin.call("GET", path, auth=GARBAGE_AUTH[header])
    assert_refused(answer, "not authenticated", status=401)
    assert answer.headers["x-seraph-loginreason"] == "AUTHENTICATED_FAILED"
    assert answer.headers["www-authenticate"].split()[0] in ("Basic", "Bearer")


@pytest.mark.parametrize("header", list(GARBAGE_AUTH), ids=list(GARBAGE_AUTH))
def test_garbage_authorization_on_auth_test_is_reported(admin, unchanged, header):
    answer = admin.call("GET", f"{P}/user/authTest", auth=GARBAGE_AUTH[header])
    assert answer.status == 200
    assert answer.json["isSuccessfulAuthentication"] is False and answer.json["authenticationFailureDetails"]


def test_empty_authorization_header_is_anonymous(admin, unchanged):
    assert admin.call("GET", "/rest/api/2/serverInfo", auth="").status == 200
    assert_refused(admin.call("GET", "/rest/api/2/myself", auth=""), "not authenticated", status=401)


@pytest.mark.parametrize(("method", "path"), ALL_ENDPOINTS, ids=[f"{m} {p}" for m, p in ALL_ENDPOINTS])
def test_every_endpoint_refuses_garbage_credentials(admin, unchanged, method, path):
    body = b"{}" if method in BODY_METHODS else None
    answer = admin.call(method, path, query=QUERY.get(path, ""), body=body, auth="Basic !!!")
    if path.endswith("/authTest"):
        assert answer.status == 200 and answer.json["isSuccessfulAuthentication"] is False
    else:
        assert_refused(answer, "not authenticated", status=401)


# ----- the paged group members (atlassian's get_all_users_from_group), both backends ----------------------------------
def test_group_member_page_bean(admin, unchanged):
    page = admin.call("GET", "/rest/api/2/group/member?groupname=developers&startAt=0&maxResults=1")
    assert page.status == 200
    doc = page.json
    assert (doc["startAt"], doc["maxResults"], doc["total"], doc["isLast"]) == (0, 1, 2, False)
    assert [u["name"] for u in doc["values"]] == ["alice"]
    assert doc["nextPage"] == (
        f"{BASE_URL}/rest/api/2/group/member?groupname=developers&includeInactiveUsers=false&startAt=1&maxResults=1"
    )
    last = admin.call("GET", "/rest/api/2/group/member?groupname=developers&startAt=1&maxResults=99").json
    assert (last["maxResults"], last["isLast"], [u["key"] for u in last["values"]]) == (50, True, ["JIRAUSER10101"])
    assert "nextPage" not in last
    fields = {"self", "key", "name", "emailAddress", "avatarUrls", "displayName", "active", "timeZone"}
    assert set(last["values"][0]) == fields
