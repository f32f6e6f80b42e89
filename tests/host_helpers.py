"""Helpers shared by the host tests (imported explicitly; conftest stays as it is)."""

from __future__ import annotations

import base64
import json
from typing import Any

import webtest

JSON_CT = "application/json;charset=UTF-8"
NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."
LOGIN_URL = "http://jira.test/login.jsp"
CAPTCHA_REASON = f"CAPTCHA_CHALLENGE; login-url={LOGIN_URL}"
FIXTURE_KEYS = {"admin", *(f"JIRAUSER{n}" for n in range(10100, 10106))}
EMILE = "Émile Zoë"


def basic_bytes(raw: bytes) -> dict[str, str]:
    """Basic credentials from raw bytes (to choose the encoding of user:secret)."""
    return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}


def session_cookie(value: str) -> dict[str, str]:
    return {"Cookie": f"JSESSIONID={value}"}


def login(app: webtest.TestApp, username: str, password: str) -> str:
    """POST /rest/auth/1/session and return the cookie value; the test client's cookie jar is emptied so
    that later requests carry the session only when a test sends it explicitly."""
    value = app.post_json("/rest/auth/1/session", {"username": username, "password": password}, status=200).json[
        "session"
    ]["value"]
    app.reset()
    return value


def assert_json(resp: Any) -> None:
    """The exact Content-Type and compact serialisation clients scrape with regular expressions."""
    assert resp.headers["Content-Type"] == JSON_CT
    assert resp.text == json.dumps(resp.json, separators=(",", ":"), ensure_ascii=False)


def assert_envelope(resp: Any, message: str, errors: dict[str, str] | None = None) -> None:
    assert_json(resp)
    assert resp.json == {"errorMessages": [message], "errors": errors or {}}


def failed_count(host: Any, name: str) -> int:
    user = host.users.by_name(name)
    assert user is not None, name
    return user.failed_login_count


def all_usernames(app: webtest.TestApp, admin: dict[str, str]) -> list[str]:
    users = app.get(
        "/rest/api/2/user/search",
        {"username": ".", "includeInactive": "true", "maxResults": "1000"},
        headers=admin,
        status=200,
    ).json
    return [u["name"] for u in users]
