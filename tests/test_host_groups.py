"""Groups: picker, group documents, membership changes, and sysadmin status following membership (1.2, 1.5)."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN, ALICE, BOB, basic
from tests.host_helpers import NOT_AUTHENTICATED, assert_envelope, assert_json

GROUP = "/rest/api/2/group"
GROUP_USER = "/rest/api/2/group/user"
PICKER = "/rest/api/2/groups/picker"
BASE = "http://jira.test"
FIXTURE_GROUPS = ["api-automation", "developers", "jira-administrators", "jira-software-users"]


def members(app, group: str) -> list[str]:
    doc = app.get(GROUP, {"groupname": group, "expand": "users"}, headers=ADMIN, status=200).json
    return [u["name"] for u in doc["users"]["items"]]


def groups_of(app, user: str) -> list[str]:
    doc = app.get("/rest/api/2/user", {"username": user, "expand": "groups"}, headers=ADMIN, status=200).json
    return [g["name"] for g in doc["groups"]["items"]]


# ----- picker --------------------------------------------------------------------------------------------------
def test_picker_lists_all_groups(app):
    resp = app.get(PICKER, headers=ALICE, status=200)
    assert_json(resp)
    doc = resp.json
    assert [g["name"] for g in doc["groups"]] == FIXTURE_GROUPS
    assert doc["total"] == 4
    assert doc["header"] == "Showing 4 of 4 matching groups"
    assert all({"name", "html", "labels"} <= set(g) for g in doc["groups"])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("dev", ["developers"]),
        ("DEV", ["developers"]),
        ("jira", ["jira-administrators", "jira-software-users"]),
        ("users", ["jira-software-users"]),
        ("nothing", []),
    ],
)
def test_picker_query(app, query, expected):
    doc = app.get(PICKER, {"query": query}, headers=ALICE, status=200).json
    assert [g["name"] for g in doc["groups"]] == expected
    assert doc["total"] == len(expected)


def test_picker_max_results(app):
    doc = app.get(PICKER, {"maxResults": 1}, headers=ALICE, status=200).json
    assert [g["name"] for g in doc["groups"]] == FIXTURE_GROUPS[:1]
    assert doc["total"] == 4
    assert doc["header"] == "Showing 1 of 4 matching groups"


def test_picker_bad_max_results(app):
    app.get(PICKER, {"maxResults": "many"}, headers=ALICE, status=400)


def test_picker_anonymous(app):
    assert_envelope(app.get(PICKER, status=401), NOT_AUTHENTICATED)


# ----- GET group -------------------------------------------------------------------------------------------------
def test_get_group_without_expand(app):
    resp = app.get(GROUP, {"groupname": "developers"}, headers=ADMIN, status=200)
    assert_json(resp)
    doc = resp.json
    assert doc["name"] == "developers"
    assert doc["self"] == f"{BASE}/rest/api/2/group?groupname=developers"
    assert doc["users"]["size"] == 2
    assert doc["users"]["items"] == []


def test_get_group_expand_users(app):
    doc = app.get(GROUP, {"groupname": "developers", "expand": "users"}, headers=ADMIN, status=200).json
    users = doc["users"]
    assert users["size"] == 2
    assert [u["name"] for u in users["items"]] == ["alice", "bob"]
    assert {"max-results", "start-index", "end-index"} <= set(users)
    assert users["start-index"] == 0
    assert users["end-index"] == 1
    assert users["items"][0]["key"] == "JIRAUSER10100"
    assert users["items"][0]["self"] == f"{BASE}/rest/api/2/user?username=alice"


def test_get_group_name_case_insensitive(app):
    doc = app.get(GROUP, {"groupname": "DEVELOPERS"}, headers=ADMIN, status=200).json
    assert doc["name"] == "developers"


def test_get_group_users_paging(app):
    for name in ("m1", "m2", "m3"):
        app.post_json(
            "/rest/api/2/user",
            {"name": name, "emailAddress": f"{name}@x.y", "displayName": name},
            headers=ADMIN,
            status=201,
        )
        app.post_json(f"{GROUP_USER}?groupname=developers", {"name": name}, headers=ADMIN, status=201)
    full = members(app, "developers")
    assert full == ["alice", "bob", "m1", "m2", "m3"]
    doc = app.get(GROUP, {"groupname": "developers", "expand": "users[2:100]"}, headers=ADMIN, status=200).json
    users = doc["users"]
    assert users["size"] == 5
    assert [u["name"] for u in users["items"]] == full[2:]
    assert users["start-index"] == 2
    assert users["end-index"] == 4
    # Consecutive windows cover each member exactly once.
    seen: list[str] = []
    start = 0
    while start < 5:
        page = app.get(
            GROUP, {"groupname": "developers", "expand": f"users[{start}:{start + 2}]"}, headers=ADMIN, status=200
        ).json["users"]
        items = [u["name"] for u in page["items"]]
        assert items and page["start-index"] == start
        assert page["end-index"] == start + len(items) - 1
        seen += items
        start = page["end-index"] + 1
    assert seen == full
    beyond = app.get(GROUP, {"groupname": "developers", "expand": "users[10:20]"}, headers=ADMIN, status=200).json
    assert beyond["users"]["items"] == []
    assert beyond["users"]["size"] == 5


@pytest.mark.parametrize("expand", ["users[5:2]"])
def test_get_group_bad_range(app, expand):
    resp = app.get(GROUP, {"groupname": "developers", "expand": expand}, headers=ADMIN, status=400)
    assert "expand" in resp.json["errors"]


def test_get_unknown_group(app):
    resp = app.get(GROUP, {"groupname": "ghosts"}, headers=ADMIN, status=404)
    assert_envelope(resp, "The group named 'ghosts' does not exist")


def test_get_group_without_name(app):
    resp = app.get(GROUP, headers=ADMIN, status=400)
    assert "groupname" in resp.json["errors"]


def test_get_group_anonymous(app):
    app.get(GROUP, {"groupname": "developers"}, status=401)


# ----- create / delete group -----------------------------------------------------------------------------------
def test_create_group(app):
    resp = app.post_json(GROUP, {"name": "QA Team"}, headers=ADMIN, status=201)
    assert_json(resp)
    doc = resp.json
    assert doc["name"] == "QA Team"
    assert doc["self"] == f"{BASE}/rest/api/2/group?groupname=QA%20Team"
    assert doc["users"]["size"] == 0
    assert app.get(GROUP, {"groupname": "qa team"}, headers=ADMIN, status=200).json["name"] == "QA Team"
    assert "QA Team" in [g["name"] for g in app.get(PICKER, headers=ADMIN, status=200).json["groups"]]


def test_create_group_non_ascii(app):
    assert app.post_json(GROUP, {"name": "Entwickler-Ü"}, headers=ADMIN, status=201).json["name"] == "Entwickler-Ü"


@pytest.mark.parametrize("name", ["developers", "DEVELOPERS", " developers "])
def test_create_duplicate_group(app, name):
    resp = app.post_json(GROUP, {"name": name}, headers=ADMIN, status=400)
    assert_json(resp)
    assert resp.json["errors"] == {"name": "A group with that name already exists."}
    assert len(app.get(PICKER, headers=ADMIN, status=200).json["groups"]) == 4


@pytest.mark.parametrize(
    "body", [{}, {"name": ""}, {"name": "   "}, {"name": 5}, {"name": None}, {"name": "x" * 256}, {"name": "bad\nname"}]
)
def test_create_group_bad_body(app, body):
    resp = app.post_json(GROUP, body, headers=ADMIN, status=400)
    assert "name" in resp.json["errors"]
    assert len(app.get(PICKER, headers=ADMIN, status=200).json["groups"]) == 4


def test_create_group_not_json(app):
    app.post(GROUP, b"name=qa", headers={**ADMIN, "Content-Type": "application/x-www-form-urlencoded"}, status=415)
    app.post(GROUP, b"{nope", headers={**ADMIN, "Content-Type": "application/json"}, status=400)


def test_create_group_permissions(app):
    app.post_json(GROUP, {"name": "qa"}, headers=ALICE, status=403)
    assert_envelope(app.post_json(GROUP, {"name": "qa"}, status=401), NOT_AUTHENTICATED)
    app.get(GROUP, {"groupname": "qa"}, headers=ADMIN, status=404)


def test_delete_group(app):
    resp = app.delete(f"{GROUP}?groupname=developers", headers=ADMIN, status=200)
    assert resp.status_int == 200
    app.get(GROUP, {"groupname": "developers"}, headers=ADMIN, status=404)
    assert groups_of(app, "alice") == ["jira-software-users"]
    app.delete(f"{GROUP}?groupname=developers", headers=ADMIN, status=404)
    # The name can be used again, and the new group starts empty.
    app.post_json(GROUP, {"name": "developers"}, headers=ADMIN, status=201)
    assert members(app, "developers") == []


def test_delete_group_case_insensitive(app):
    app.delete(f"{GROUP}?groupname=API-Automation", headers=ADMIN, status=200)
    app.get(GROUP, {"groupname": "api-automation"}, headers=ADMIN, status=404)


def test_delete_sysadmin_group_refused(app):
    app.delete(f"{GROUP}?groupname=jira-administrators", headers=ADMIN, status=400)
    app.get("/rest/api/2/settings/authentication", headers=ADMIN, status=200)


def test_delete_group_permissions(app):
    app.delete(f"{GROUP}?groupname=developers", headers=ALICE, status=403)
    app.delete(f"{GROUP}?groupname=developers", status=401)
    assert members(app, "developers") == ["alice", "bob"]


def test_delete_group_without_name(app):
    app.delete(GROUP, headers=ADMIN, status=400)


# ----- membership --------------------------------------------------------------------------------------------------
def test_add_user_to_group(app):
    resp = app.post_json(f"{GROUP_USER}?groupname=developers", {"name": "carol"}, headers=ADMIN, status=201)
    assert_json(resp)
    doc = resp.json
    assert doc["name"] == "developers"
    assert doc["self"] == f"{BASE}/rest/api/2/group?groupname=developers"
    assert doc["users"]["size"] == 3
    assert members(app, "developers") == ["alice", "bob", "carol"]
    assert "developers" in groups_of(app, "carol")


def test_add_user_case_insensitive_names(app):
    app.post_json(f"{GROUP_USER}?groupname=Developers", {"name": "CAROL"}, headers=ADMIN, status=201)
    assert members(app, "developers") == ["alice", "bob", "carol"]


def test_add_user_twice(app):
    resp = app.post_json(f"{GROUP_USER}?groupname=developers", {"name": "alice"}, headers=ADMIN, status=400)
    assert_json(resp)
    assert members(app, "developers") == ["alice", "bob"]


def test_add_unknown_user_or_to_unknown_group(app):
    app.post_json(f"{GROUP_USER}?groupname=developers", {"name": "ghost"}, headers=ADMIN, status=404)
    app.post_json(f"{GROUP_USER}?groupname=ghosts", {"name": "carol"}, headers=ADMIN, status=404)
    assert "developers" not in groups_of(app, "carol")


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": 3}, {"username": "carol"}])
def test_add_user_bad_body(app, body):
    app.post_json(f"{GROUP_USER}?groupname=developers", body, headers=ADMIN, status=400)
    assert members(app, "developers") == ["alice", "bob"]


def test_add_user_permissions(app):
    app.post_json(f"{GROUP_USER}?groupname=jira-administrators", {"name": "alice"}, headers=ALICE, status=403)
    app.post_json(f"{GROUP_USER}?groupname=jira-administrators", {"name": "alice"}, status=401)
    assert members(app, "jira-administrators") == ["admin"]


def test_remove_user_from_group(app):
    resp = app.delete(f"{GROUP_USER}?groupname=developers&username=bob", headers=ADMIN, status=200)
    assert resp.status_int == 200
    assert members(app, "developers") == ["alice"]
    assert "developers" not in groups_of(app, "bob")
    app.delete(f"{GROUP_USER}?groupname=developers&username=bob", headers=ADMIN, status=404)


def test_remove_user_errors(app):
    app.delete(f"{GROUP_USER}?groupname=developers&username=ghost", headers=ADMIN, status=404)
    app.delete(f"{GROUP_USER}?groupname=ghosts&username=bob", headers=ADMIN, status=404)
    app.delete(f"{GROUP_USER}?groupname=developers", headers=ADMIN, status=400)
    app.delete(f"{GROUP_USER}?username=bob", headers=ADMIN, status=400)


def test_remove_user_permissions(app):
    app.delete(f"{GROUP_USER}?groupname=developers&username=bob", headers=ALICE, status=403)
    app.delete(f"{GROUP_USER}?groupname=developers&username=bob", status=401)
    assert members(app, "developers") == ["alice", "bob"]


# ----- sysadmin follows membership -----------------------------------------------------------------------------------
def test_sysadmin_status_follows_group_membership(app):
    app.get("/rest/api/2/settings/authentication", headers=ALICE, status=403)
    app.post_json(f"{GROUP_USER}?groupname=jira-administrators", {"name": "alice"}, headers=ADMIN, status=201)
    app.get("/rest/api/2/settings/authentication", headers=ALICE, status=200)
    app.post_json(GROUP, {"name": "made-by-alice"}, headers=ALICE, status=201)
    app.get("/rest/plugins/1.0/", headers=ALICE, status=200)
    app.delete(f"{GROUP_USER}?groupname=jira-administrators&username=alice", headers=ADMIN, status=200)
    app.get("/rest/api/2/settings/authentication", headers=ALICE, status=403)
    app.post_json(GROUP, {"name": "again"}, headers=ALICE, status=403)


def test_new_sysadmin_in_a_session_gains_rights_at_once(app):
    from tests.host_helpers import login, session_cookie

    value = login(app, "bob", "bob")
    app.get("/rest/api/2/settings/authentication", headers=session_cookie(value), status=403)
    app.post_json(f"{GROUP_USER}?groupname=jira-administrators", {"name": "bob"}, headers=ADMIN, status=201)
    app.get("/rest/api/2/settings/authentication", headers=session_cookie(value), status=200)
    app.delete(f"{GROUP_USER}?groupname=jira-administrators&username=bob", headers=ADMIN, status=200)
    app.get("/rest/api/2/settings/authentication", headers=session_cookie(value), status=403)


def test_admin_removed_from_sysadmin_group_loses_rights(app):
    app.post_json(f"{GROUP_USER}?groupname=jira-administrators", {"name": "bob"}, headers=ADMIN, status=201)
    app.delete(f"{GROUP_USER}?groupname=jira-administrators&username=admin", headers=BOB, status=200)
    app.get("/rest/api/2/settings/authentication", headers=ADMIN, status=403)
    app.get("/rest/api/2/settings/authentication", headers=basic("bob", "bob"), status=200)
    app.get("/rest/api/2/settings/authentication", headers=BOB, status=200)
