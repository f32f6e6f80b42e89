"""The host's administration pages: authentication settings, users (failed-login reset), plugins, audit log."""

from __future__ import annotations

import pytest

from host.models import AuditRecord
from tests.conftest import ADMIN, ALICE, P, basic
from tests.host_helpers import failed_count
from tests.web_helpers import TOKENS_PAGE, csrf_token, nav_labels, new_app, web_login

ADMIN_PAGES = ["/secure/admin/settings", "/secure/admin/users", "/secure/admin/plugins", "/secure/admin/audit"]


@pytest.fixture
def admin(host):
    app = new_app(host)
    web_login(app, "admin", "admin")
    return app


@pytest.fixture
def alice(host):
    app = new_app(host)
    web_login(app, "alice", "alice")
    return app


def test_admin_navigation(admin):
    labels = nav_labels(admin.get("/secure/admin/users", status=200))
    assert labels == [
        "My API Tokens",
        "Token Manager",
        "API Token Settings",
        "Authentication",
        "Users",
        "Plugins",
        "Audit log",
    ]


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_pages_refuse_other_users_with_a_page(alice, app, path):
    resp = alice.get(path, status=403)
    assert resp.headers["Content-Type"].startswith("text/html")
    assert "Only system administrators may open this page." in resp.text
    assert app.get(path, status=303).headers["Location"].startswith("/login.jsp?os_destination=")


@pytest.mark.parametrize("path", ADMIN_PAGES[:3])
def test_admin_forms_need_the_token(admin, path):
    admin.post(path, {"maximumAuthenticationAttemptsAllowed": "1", "username": "alice", "key": "x"}, status=403)


def test_authentication_settings(admin, app, host):
    page = admin.get("/secure/admin/settings", status=200)
    form = page.forms[1]
    assert form["maximumAuthenticationAttemptsAllowed"].value == "3"
    form["maximumAuthenticationAttemptsAllowed"] = "1"
    assert "Settings saved." in form.submit(status=303).follow(status=200).text
    assert app.get("/rest/api/2/settings/authentication", headers=ADMIN, status=200).json == {
        "maximumAuthenticationAttemptsAllowed": 1
    }
    app.get("/rest/api/2/myself", headers=basic("bob", "wrong"), status=401)
    app.get("/rest/api/2/myself", headers=basic("bob", "bob"), status=403)  # locked after one failure now
    form = admin.get("/secure/admin/settings", status=200).forms[1]
    form["maximumAuthenticationAttemptsAllowed"] = "-4"
    assert "whole number" in form.submit(status=400).text


def test_users_list_and_reset(admin, app, host):
    for _ in range(3):
        app.get("/rest/api/2/myself", headers=basic("alice", "wrong"), status=401)
    page = admin.get("/secure/admin/users", status=200)
    row = next(tr for tr in page.html.find("tbody").find_all("tr") if tr.find("td").get_text() == "alice")
    assert "3" in row.find_all("td")[4].get_text() and "captcha" in row.get_text()
    form = next(f for f in page.forms.values() if "username" in f.fields and f["username"].value == "alice")
    assert "Failed-login count of alice reset." in form.submit(status=303).follow(status=200).text
    assert failed_count(host, "alice") == 0
    app.get("/rest/api/2/myself", headers=ALICE, status=200)
    assert AuditRecord.select().where(AuditRecord.summary == "Failed-login count reset").count() == 1


def test_users_search_and_empty_state(admin):
    page = admin.get("/secure/admin/users", {"q": "bo"}, status=200)
    assert [tr.find("td").get_text() for tr in page.html.find("tbody").find_all("tr")] == ["bob"]
    assert "No users match." in admin.get("/secure/admin/users", {"q": "zzz"}, status=200).text


def test_reset_of_unknown_user(admin):
    token = csrf_token(admin.get("/secure/admin/users", status=200))
    admin.post("/secure/admin/users", {"atl_token": token, "username": "ghost"}, status=404)


def test_plugins_enable_disable(admin, app):
    page = admin.get("/secure/admin/plugins", status=200)
    assert "enabled" in page.html.find("tbody").get_text()
    form = next(f for f in page.forms.values() if "key" in f.fields)
    page = form.submit(status=303).follow(status=200)
    assert "API Token Authentication disabled." in page.text
    app.get(f"{P}/user/token", headers=ALICE, status=404)
    admin.get(TOKENS_PAGE, status=404)
    assert "My API Tokens" not in nav_labels(page)
    next(f for f in page.forms.values() if "key" in f.fields).submit(status=303)
    app.get(f"{P}/user/token", headers=ALICE, status=200)
    admin.get(TOKENS_PAGE, status=200)
    token = csrf_token(page)
    admin.post("/secure/admin/plugins", {"atl_token": token, "key": "nope", "enabled": "true"}, status=404)


def test_audit_log_page(admin, app, create_token):
    assert "No audit records" in admin.get("/secure/admin/audit", status=200).text
    create_token(ALICE, tokenDescription="audited one")
    app.put_json(f"{P}/admin/settings", {"maxValidityMonths": 6, "defaultValidityMonths": 6}, headers=ADMIN, status=200)
    page = admin.get("/secure/admin/audit", status=200)
    text = page.html.find("table").get_text(" ")
    assert "API token created" in text and "audited one" in text and "maxValidityMonths: 12 → 6" in text
    assert "2 records" in page.text
    filtered = admin.get("/secure/admin/audit", {"filter": "settings"}, status=200)
    assert "1 record," in filtered.text and "API token created" not in filtered.html.find("table").get_text()
    assert "No audit records match" in admin.get("/secure/admin/audit", {"filter": "zzz"}, status=200).text


def test_audit_log_pages(admin, create_token):
    for n in range(55):
        create_token(ALICE, tokenDescription=f"t{n}")
    page = admin.get("/secure/admin/audit", status=200)
    assert len(page.html.find("tbody").find_all("tr")) == 50
    nxt = page.html.find("a", string="Next")
    page2 = admin.get("/secure/admin/audit" + nxt["href"], status=200)
    assert len(page2.html.find("tbody").find_all("tr")) == 5 and page2.html.find("a", string="Previous")


def test_home_redirects(admin, app, alice):
    assert app.get("/", status=303).headers["Location"] == "/login.jsp"
    assert admin.get("/", status=303).headers["Location"] == TOKENS_PAGE
    assert "signed in as <strong>alice</strong>" in alice.get("/secure/Dashboard", status=200).text


def test_pages_without_the_plugin(make_host):
    bare = make_host(load_entrypoints=False)
    web = new_app(bare)
    resp = web_login(web, "admin", "admin")
    assert resp.headers["Location"] == "/"
    assert web.get("/", status=303).headers["Location"] == "/secure/admin/settings"  # the first page it may open
    web.get(TOKENS_PAGE, status=404)
    alice = new_app(bare)
    web_login(alice, "alice", "alice")
    assert alice.get("/", status=303).headers["Location"] == "/secure/Dashboard"
    page = alice.get("/secure/Dashboard", status=200)
    assert nav_labels(page) == [] and "There are no pages for you here." in page.text
