"""The add-on's pages: "My API Tokens", "Token Manager", "API Token Settings" (contract 2.8)."""

from __future__ import annotations

import re

import pytest

from host.models import AuditRecord
from plugins.apitokenauth.models import Token
from tests.conftest import ADMIN, ALICE, P, bearer
from tests.web_helpers import MANAGER_PAGE, SETTINGS_PAGE, TOKENS_PAGE, csrf_token, nav_labels, new_app, web_login


@pytest.fixture
def alice(host):
    app = new_app(host)
    web_login(app, "alice", "alice")
    return app


@pytest.fixture
def admin(host):
    app = new_app(host)
    web_login(app, "admin", "admin")
    return app


def create_form(page, **values: str):
    form = next(f for f in page.forms.values() if "action" in f.fields and f["action"].value == "create")
    for name, value in values.items():
        form[name] = value
    return form


def new_token(page) -> str:
    return page.html.find("input", id="new-token")["value"]


# ----- My API Tokens ----------------------------------------------------------------------------------------------
def test_empty_state_and_navigation(alice):
    page = alice.get(TOKENS_PAGE, status=200)
    assert "You have no API tokens yet." in page.text
    assert nav_labels(page) == ["My API Tokens"]  # no Token Manager, no admin pages for alice


def test_create_shows_the_token_once_and_it_works(alice, app, host):
    page = create_form(alice.get(TOKENS_PAGE, status=200), description="deploy script").submit(status=200)
    token = new_token(page)
    assert token.startswith("apt_")
    summary = page.html.find("dl", class_="summary").get_text(" ", strip=True)
    assert "deploy script" in summary and "read/write" in summary and "any address" in summary
    assert page.headers["Cache-Control"] == "no-store"
    listing = alice.get(TOKENS_PAGE, status=200)
    assert token not in listing.text and "deploy script" in listing.text
    assert listing.html.find("tbody").find_all("td")[2].get_text() == "never"  # last used
    assert app.get("/rest/api/2/myself", headers=bearer(token), status=200).json["name"] == "alice"
    assert alice.get(TOKENS_PAGE, status=200).html.find("tbody").find_all("td")[2].get_text().endswith("UTC")
    assert AuditRecord.select().where(AuditRecord.summary.contains("created")).count() == 1


def test_create_with_every_restriction(alice, app):
    page = alice.get(TOKENS_PAGE, status=200)
    form = create_form(
        page,
        description="ci",
        expiry="3",
        scope="1",
        ipRanges="10.0.0.0/8\n2001:db8::/32\n",
        headerRules="X-Job: nightly\n",
    )
    created = form.submit(status=200)
    summary = created.html.find("dl", class_="summary").get_text(" ", strip=True)
    assert "read-only" in summary and "10.0.0.0/8, 2001:db8::/32" in summary and "X-Job: nightly" in summary
    tokens = app.get(f"{P}/user/token", headers=ALICE, status=200).json
    assert tokens[0]["tokenScope"] == 1
    row = Token.get_by_id(tokens[0]["id"])
    assert "10.0.0.0/8" in row.allowed_ip_ranges and "nightly" in row.header_rules


def test_custom_expiry_date(alice, host):
    import datetime as dt

    day = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=40)).strftime("%Y-%m-%d")
    page = create_form(alice.get(TOKENS_PAGE, status=200), expiry="custom", expiresOn=day).submit(status=200)
    assert f"{day} 23:59 UTC" in page.html.find("dl", class_="summary").get_text(" ", strip=True)
    late = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=800)).strftime("%Y-%m-%d")
    resp = create_form(alice.get(TOKENS_PAGE, status=200), expiry="custom", expiresOn=late).submit(status=400)
    assert "within the next 12 months" in resp.text


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"ipRanges": "10.0.0.300"}, "10.0.0.300"),
        ({"headerRules": "no colon here"}, "Header rule 1 must look like"),
        ({"expiry": "custom", "expiresOn": ""}, "Choose the custom expiry date"),
        ({"description": "x" * 256}, "tokenDescription"),
    ],
)
def test_validation_messages_keep_the_form(alice, values, message):
    page = alice.get(TOKENS_PAGE, status=200)
    form = create_form(page, **{k: v for k, v in values.items() if k != "description"})
    if "description" in values:
        form["description"].force_value(values["description"])
    resp = form.submit(status=400)
    assert message in resp.html.find("p", class_="error").get_text()
    assert resp.html.find("details")["open"] is not None
    for name, value in values.items():
        if name in ("ipRanges", "headerRules"):
            assert resp.html.find("textarea", id=name).get_text() == value
    assert Token.select().count() == 0


def test_expiry_choices_follow_the_maximum(alice, app):
    app.put_json(f"{P}/admin/settings", {"maxValidityMonths": 6, "defaultValidityMonths": 3}, headers=ADMIN, status=200)
    select = alice.get(TOKENS_PAGE, status=200).html.find("select", id="expiry")
    options = [o["value"] for o in select.find_all("option")]
    assert options == ["1", "3", "6", "custom"]
    assert select.find("option", selected=True)["value"] == "3"
    app.put_json(f"{P}/admin/settings", {"maxValidityMonths": 0}, headers=ADMIN, status=200)
    options = [
        o["value"] for o in alice.get(TOKENS_PAGE, status=200).html.find("select", id="expiry").find_all("option")
    ]
    assert "0" in options and "36" in options


def test_read_only_tokens_only_hides_read_write(alice, app):
    app.put_json(f"{P}/admin/settings", {"readOnlyTokensOnly": True}, headers=ADMIN, status=200)
    scope = alice.get(TOKENS_PAGE, status=200).html.find("select", id="scope")
    assert [o["value"] for o in scope.find_all("option")] == ["1"]


def test_create_without_the_form_token_is_refused(alice):
    resp = alice.post(TOKENS_PAGE, {"action": "create", "description": "csrf"}, status=403)
    assert "could not be verified" in resp.text and resp.headers["Content-Type"].startswith("text/html")
    alice.post(TOKENS_PAGE, {"action": "create", "description": "csrf", "atl_token": "bad"}, status=403)
    assert Token.select().count() == 0


def test_form_token_of_another_session_is_refused(host, alice):
    other = new_app(host)
    web_login(other, "alice", "alice")
    foreign = csrf_token(other.get(TOKENS_PAGE, status=200))
    alice.post(TOKENS_PAGE, {"action": "create", "atl_token": foreign}, status=403)


def test_basic_auth_cannot_post_forms(app):
    # a browser may send stored Basic credentials along with a forged form: no session, no form
    app.post(TOKENS_PAGE, {"action": "create", "atl_token": ""}, headers=ALICE, status=403)
    assert Token.select().count() == 0


def test_delete_asks_for_confirmation_with_details(alice, app, create_token):
    token = create_token(ALICE, tokenDescription="to be deleted")
    page = alice.get(TOKENS_PAGE, status=200)
    link = page.html.find("a", attrs={"aria-label": "Delete token to be deleted"})
    confirm = alice.get(TOKENS_PAGE + link["href"], status=200)
    dialog = confirm.html.find(attrs={"role": "alertdialog"})
    assert "to be deleted" in dialog.get_text() and "read/write" in dialog.get_text()
    done = next(f for f in confirm.forms.values() if f.get("action", default=None) and f["action"].value == "delete")
    resp = done.submit(status=303)
    assert "deleted" in resp.follow(status=200).html.find("p", class_="notice").get_text()
    app.get("/rest/api/2/myself", headers=bearer(token["plainTextToken"]), status=401)


def test_cannot_delete_someone_elses_token(alice, create_token):
    bobs = create_token(__import__("tests.conftest", fromlist=["BOB"]).BOB, tokenDescription="bob's")
    page = alice.get(TOKENS_PAGE, status=200)
    resp = alice.post(
        TOKENS_PAGE, {"action": "delete", "tokenId": str(bobs["id"]), "atl_token": csrf_token(page)}, status=404
    )
    assert "no token" in resp.text and Token.select().count() == 1


def test_without_create_permission_a_clear_message(alice, app):
    app.put_json(
        f"{P}/admin/permissions", {"createTokens": {"everyone": False, "groups": []}}, headers=ADMIN, status=200
    )
    page = alice.get(TOKENS_PAGE, status=200)
    assert "do not have the “Create Tokens” permission" in page.text
    resp = alice.post(TOKENS_PAGE, {"action": "create", "atl_token": csrf_token(page)}, status=403)
    assert "permission" in resp.html.find("p", class_="error").get_text()


def test_pages_404_while_the_plugin_is_disabled(alice, app):
    app.put_json("/rest/plugins/1.0/de.resolution.apitokenauth-key", {"enabled": False}, headers=ADMIN, status=200)
    alice.get(TOKENS_PAGE, status=404)
    alice.get(MANAGER_PAGE, status=404)
    assert "My API Tokens" not in nav_labels(alice.get("/secure/Dashboard", status=200))


# ----- Token Manager ------------------------------------------------------------------------------------------------
def test_manager_without_permission_is_a_message(alice):
    resp = alice.get(MANAGER_PAGE, status=403)
    assert "“Create &amp; Delete Tokens On Behalf” permission" in resp.text or "On Behalf" in resp.text
    assert resp.headers["Content-Type"].startswith("text/html")
    page = alice.get(TOKENS_PAGE, status=200)
    alice.post(MANAGER_PAGE, {"action": "create", "user": "bob", "atl_token": csrf_token(page)}, status=403)
    assert Token.select().count() == 0


def test_manager_filters_and_pages(admin, create_token, host):
    from tests.conftest import BOB

    for n in range(12):
        create_token(ALICE, tokenDescription=f"alice job {n}")
    create_token(BOB, tokenDescription="bob job", tokenScope=1)
    page = admin.get(MANAGER_PAGE, status=200)
    assert "13 tokens; page 1 of 1" in page.text
    page = admin.get(MANAGER_PAGE, {"users": "alice", "limit": "10"}, status=200)
    assert "12 tokens; page 1 of 2" in page.text
    assert len(page.html.find("table").find("tbody").find_all("tr")) == 10
    nxt = page.html.find("a", rel="next")
    page2 = admin.get(MANAGER_PAGE + nxt["href"], status=200)
    assert "page 2 of 2" in page2.text and len(page2.html.find("tbody").find_all("tr")) == 2
    assert page2.html.find("a", rel="prev") and not page2.html.find("a", rel="next")
    bob_key = host.users.by_name("bob").key
    assert "1 token;" in admin.get(MANAGER_PAGE, {"users": bob_key}, status=200).text  # a key works too
    assert "1 token;" in admin.get(MANAGER_PAGE, {"tokenScope": "1"}, status=200).text
    assert "3 tokens;" in admin.get(MANAGER_PAGE, {"descriptionFilter": "JOB 1"}, status=200).text  # 1, 10, 11
    import datetime as dt

    today = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    assert "13 tokens" in admin.get(MANAGER_PAGE, {"fromCreated": today, "untilCreated": today}, status=200).text
    assert "No tokens match" in admin.get(MANAGER_PAGE, {"fromLastUsed": today}, status=200).text
    assert "13 tokens" in admin.get(MANAGER_PAGE, {"fromExpiresDuring": today}, status=200).text
    assert "No tokens match" in admin.get(MANAGER_PAGE, {"notValidAfter": today}, status=200).text


def test_manager_filter_errors_are_messages(admin):
    resp = admin.get(MANAGER_PAGE, {"fromCreated": "2026-02-01", "untilCreated": "2026-01-01"}, status=400)
    assert "must not be after" in resp.html.find("p", class_="error").get_text()
    resp = admin.get(MANAGER_PAGE, {"users": "nobody-here"}, status=400)
    assert "There is no user 'nobody-here'" in resp.html.find("p", class_="error").get_text()
    assert "must be a date" in admin.get(MANAGER_PAGE, {"fromCreated": "yesterday"}, status=400).text


def test_manager_creates_for_a_user_and_deletes(admin, app, host):
    page = admin.get(MANAGER_PAGE, status=200)
    created = create_form(page, user="bob", description="for bob", expiry="6").submit(status=200)
    token = new_token(created)
    assert "bob" in created.html.find("dl", class_="summary").get_text(" ", strip=True)
    assert app.get("/rest/api/2/myself", headers=bearer(token), status=200).json["name"] == "bob"
    page = admin.get(MANAGER_PAGE, {"users": "bob"}, status=200)
    link = page.html.find("a", attrs={"aria-label": re.compile("^Delete token")})
    confirm = admin.get(MANAGER_PAGE + link["href"], status=200)
    assert "for bob" in confirm.html.find(attrs={"role": "alertdialog"}).get_text()
    form = next(f for f in confirm.forms.values() if "tokenId" in f.fields)
    resp = form.submit(status=303)
    assert "users=bob" in resp.headers["Location"]
    assert "deleted" in resp.follow(status=200).text
    app.get("/rest/api/2/myself", headers=bearer(token), status=401)


def test_manager_create_for_unknown_user(admin):
    resp = create_form(admin.get(MANAGER_PAGE, status=200), user="ghost").submit(status=400)
    assert "There is no user 'ghost'" in resp.html.find("p", class_="error").get_text() and Token.select().count() == 0


def test_on_behalf_holder_sees_the_manager(alice, app):
    app.put_json(
        f"{P}/admin/permissions", {"createAndDeleteOnBehalf": {"groups": ["developers"]}}, headers=ADMIN, status=200
    )
    page = alice.get(MANAGER_PAGE, status=200)
    assert "Token Manager" in nav_labels(page) and "API Token Settings" not in nav_labels(page)


# ----- settings and permissions --------------------------------------------------------------------------------------
def test_settings_page_is_for_administrators(alice):
    resp = alice.get(SETTINGS_PAGE, status=403)
    assert "Only system administrators" in resp.text


def test_settings_change_takes_effect_and_is_audited(admin, app):
    page = admin.get(SETTINGS_PAGE, status=200)
    form = next(f for f in page.forms.values() if "maxValidityMonths" in f.fields)
    form["maxValidityMonths"], form["defaultValidityMonths"] = "2", "2"
    form["readOnlyTokensOnly"] = True
    form["allowedIpRanges"] = "127.0.0.0/8\n10.0.0.0/8"
    resp = form.submit(status=303)
    assert "Settings saved." in resp.follow(status=200).text
    doc = app.get(f"{P}/admin/settings", headers=ADMIN, status=200).json
    assert doc["maxValidityMonths"] == 2 and doc["readOnlyTokensOnly"] is True
    assert doc["allowedIpRanges"] == ["127.0.0.0/8", "10.0.0.0/8"]
    assert doc["rateLimitEnabled"] is False  # unchecked boxes are saved as off
    app.post_json(f"{P}/user/token", {"tokenValidityTimeInMonths": 3}, headers=ALICE, status=400)
    assert AuditRecord.select().where(AuditRecord.summary == "API token settings changed").count() == 1


def test_settings_validation_names_the_field_and_saves_nothing(admin, app):
    page = admin.get(SETTINGS_PAGE, status=200)
    form = next(f for f in page.forms.values() if "maxValidityMonths" in f.fields)
    form["maxValidityMonths"] = "3"  # below the default of 12
    form["readOnlyTokensOnly"] = True
    resp = form.submit(status=400)
    assert "defaultValidityMonths" in resp.html.find("p", class_="error").get_text()
    assert app.get(f"{P}/admin/settings", headers=ADMIN, status=200).json["readOnlyTokensOnly"] is False
    form["maxValidityMonths"] = "many"
    error = form.submit(status=400).html.find("p", class_="error").get_text()
    assert "'maxValidityMonths' must be a whole number" in error


def test_settings_form_needs_the_token(admin):
    admin.post(SETTINGS_PAGE, {"action": "settings", "maxValidityMonths": "1"}, status=403)


def test_permissions_form(admin, app):
    page = admin.get(SETTINGS_PAGE, status=200)
    form = next(f for f in page.forms.values() if "createTokens.groups" in f.fields)
    form["createTokens.everyone"] = False
    form["createTokens.groups"] = "developers"
    form["createAndDeleteOnBehalf.groups"] = "jira-administrators\ndevelopers"
    assert "Permissions saved." in form.submit(status=303).follow(status=200).text
    doc = app.get(f"{P}/admin/permissions", headers=ADMIN, status=200).json
    assert doc["createTokens"] == {"everyone": False, "groups": ["developers"]}
    assert doc["createAndDeleteOnBehalf"] == {"groups": ["developers", "jira-administrators"]}
    form = next(f for f in admin.get(SETTINGS_PAGE).forms.values() if "createTokens.groups" in f.fields)
    form["createTokens.groups"] = "no-such-group"
    assert "no group named 'no-such-group'" in form.submit(status=400).html.find("p", class_="error").get_text()
