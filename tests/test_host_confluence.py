"""Confluence user endpoints: /rest/api/user and /rest/api/user/current (contract 1.5)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import ALICE, BOB, bearer
from tests.host_helpers import EMILE, assert_json

USER = "/rest/api/user"
CURRENT = "/rest/api/user/current"
BASE = "http://jira.test"


def assert_known_user(doc: dict, *, name: str, key: str, display: str) -> None:
    assert doc["type"] == "known"
    assert doc["username"] == name
    assert doc["userKey"] == key
    assert doc["displayName"] == display
    picture = doc["profilePicture"]
    assert {"path", "width", "height", "isDefault"} <= set(picture)
    assert isinstance(picture["path"], str) and picture["path"]
    assert set(doc["_links"]) == {"base", "context", "self"}
    assert doc["_links"]["base"] == BASE
    assert doc["_links"]["self"].startswith(f"{BASE}{USER}?")
    assert "_expandable" in doc and isinstance(doc["_expandable"], dict)
    flat = repr(doc).lower()
    assert "email" not in flat and "@example.com" not in flat


def self_query(doc: dict) -> dict[str, list[str]]:
    return parse_qs(urlsplit(doc["_links"]["self"]).query)


def test_user_by_username(app):
    resp = app.get(USER, {"username": "alice"}, headers=BOB, status=200)
    assert_json(resp)
    assert_known_user(resp.json, name="alice", key="JIRAUSER10100", display="Alice Adams")


def test_user_by_username_case_insensitive(app):
    doc = app.get(USER, {"username": "ALICE"}, headers=BOB, status=200).json
    assert_known_user(doc, name="alice", key="JIRAUSER10100", display="Alice Adams")


def test_user_by_key(app):
    doc = app.get(USER, {"key": "JIRAUSER10101"}, headers=ALICE, status=200).json
    assert_known_user(doc, name="bob", key="JIRAUSER10101", display="Bob Brown")
    assert self_query(doc) == {"key": ["JIRAUSER10101"]}


def test_user_non_ascii(app):
    doc = app.get(USER, {"username": EMILE}, headers=ALICE, status=200).json
    assert_known_user(doc, name=EMILE, key="JIRAUSER10104", display=EMILE)


def test_self_link_resolves_to_the_same_user(app):
    doc = app.get(USER, {"username": "admin"}, headers=ALICE, status=200).json
    again = app.get(doc["_links"]["self"].removeprefix(BASE), headers=ALICE, status=200).json
    assert again == doc


@pytest.mark.parametrize("params", [{"username": "ghost"}, {"key": "JIRAUSER99999"}])
def test_unknown_user_is_404(app, params):
    resp = app.get(USER, params, headers=ALICE, status=404)
    assert resp.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert next(iter(params.values())) in resp.text


def test_user_without_parameters(app):
    app.get(USER, headers=ALICE, status=400)


def test_user_anonymous(app):
    app.get(USER, {"username": "alice"}, status=401)


def test_current_user(app):
    resp = app.get(CURRENT, headers=ALICE, status=200)
    assert_json(resp)
    assert_known_user(resp.json, name="alice", key="JIRAUSER10100", display="Alice Adams")


def test_current_user_with_token(app, create_token):
    token = create_token(BOB, tokenDescription="confluence")["plainTextToken"]
    doc = app.get(CURRENT, headers=bearer(token), status=200).json
    assert_known_user(doc, name="bob", key="JIRAUSER10101", display="Bob Brown")


def test_current_user_anonymous(app):
    resp = app.get(CURRENT, status=200)
    assert_json(resp)
    doc = resp.json
    assert doc["type"] == "anonymous"
    assert "username" not in doc and "userKey" not in doc
    assert doc["_links"]["base"] == BASE
    assert "profilePicture" in doc
