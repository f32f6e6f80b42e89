"""The web pages in a real browser: Playwright for Python driving Debian's Chromium against a real `host serve`.

Screenshots of the main pages go to ``screenshots/`` (or ``$HOST_SCREENSHOTS_DIR``); README links copies.
The captcha answer is read from the injected recording generator (tests/captcha_recorder.py), never guessed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.conftest import ADMIN, P, basic, bearer
from tests.realserver import RealServer, assert_within_a_second

pytestmark = pytest.mark.server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TOKENS = "/plugins/servlet/de.resolution.apitokenauth/admin"
SHOTS = Path(os.environ.get("HOST_SCREENSHOTS_DIR") or Path(__file__).resolve().parent.parent / "screenshots")


@pytest.fixture(scope="module")
def answers_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("captcha") / "answers.txt"
    path.write_text("")
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory, answers_file):
    env = {"HOST_CAPTCHA_GENERATOR": "tests.captcha_recorder:generator", "HOST_CAPTCHA_ANSWERS": str(answers_file)}
    srv = RealServer(tmp_path_factory.mktemp("browser-server"), workers=2, env=env)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page = context.new_page()
    yield page
    context.close()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def log_in(page: Page, username: str, password: str, destination: str = TOKENS) -> None:
    page.goto(destination)
    expect(page).to_have_url(re.compile(r"/login\.jsp\?os_destination="))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(re.escape(destination) + "$"))


def test_create_copy_use_and_delete_a_token(page: Page, server: RealServer):
    page.goto(TOKENS)
    shot(page, "01-login")
    log_in(page, "alice", "alice")
    expect(page.get_by_text("You have no API tokens yet.")).to_be_visible()
    page.get_by_text("New API Token").click()
    page.get_by_label("Description").fill("browser token")
    page.get_by_label("Expires after").select_option("3")
    page.get_by_label("Allowed IP ranges").fill("127.0.0.0/8")
    page.get_by_label("Header rules").fill("X-Job: nightly")
    page.get_by_role("button", name="Create token").click()
    token_field = page.get_by_label("Token", exact=True)
    expect(token_field).to_have_value(re.compile(r"^apt_[0-9A-Za-z]{39}$"))
    token = token_field.input_value()
    expect(page.locator("dl.summary")).to_contain_text("127.0.0.0/8")
    expect(page.locator("dl.summary")).to_contain_text("X-Job: nightly")
    page.get_by_role("button", name="Copy to clipboard").click()
    expect(page.get_by_role("status").filter(has_text="Copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == token
    shot(page, "02-new-token")

    # the copied token works on REST (its header rule met), and the page never shows it again
    assert server.request("GET", "/rest/api/2/myself", headers={**bearer(token), "X-Job": "nightly"}).status == 200
    assert server.request("GET", "/rest/api/2/myself", headers=bearer(token)).status == 401  # rule not met
    page.goto(TOKENS)
    expect(page.locator("table")).to_contain_text("browser token")
    assert token not in page.content()
    shot(page, "03-my-tokens")

    page.get_by_role("link", name="Delete token browser token").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("browser token")
    expect(dialog).to_contain_text("read/write")
    shot(page, "04-delete-confirmation")
    dialog.get_by_role("button", name="Delete token").click()
    expect(page.get_by_role("status")).to_contain_text("deleted")
    expect(page.get_by_text("You have no API tokens yet.")).to_be_visible()
    assert server.request("GET", "/rest/api/2/myself", headers={**bearer(token), "X-Job": "nightly"}).status == 401


def test_token_manager_filters_pages_creates_and_deletes(page: Page, server: RealServer):
    for n in range(12):
        body = {"tokenDescription": f"bob batch {n}", "tokenForUserKey": "JIRAUSER10101"}
        assert server.request("POST", f"{P}/user/token", json_body=body, headers=ADMIN).status == 200
    log_in(page, "admin", "admin", TOKENS + "/manager")
    filters = page.get_by_role("search", name="Token filters")
    filters.get_by_label("Users").fill("bob")
    filters.get_by_label("Description contains").fill("batch")
    filters.get_by_label("Per page").select_option("10")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("caption")).to_have_text("12 tokens; page 1 of 2")
    expect(page.locator("tbody tr")).to_have_count(10)
    shot(page, "05-token-manager")
    page.get_by_role("link", name="Next page").click()
    expect(page.locator("caption")).to_have_text("12 tokens; page 2 of 2")
    expect(page.locator("tbody tr")).to_have_count(2)
    page.get_by_role("link", name="Previous page").click()
    expect(page.locator("caption")).to_have_text("12 tokens; page 1 of 2")
    page.get_by_role("search", name="Token filters").get_by_label("Scope").select_option("1")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_text("No tokens match these filters.")).to_be_visible()

    # create one for carol, then delete it from the list
    page.get_by_text("New API Token for a user").click()
    page.get_by_label("User", exact=True).fill("carol")
    page.get_by_label("Description", exact=True).fill("for carol")
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_label("Token", exact=True).input_value()
    expect(page.locator("dl.summary")).to_contain_text("carol")
    assert server.request("GET", "/rest/api/2/myself", headers=bearer(token)).json["name"] == "carol"
    page.goto(TOKENS + "/manager?users=carol")
    expect(page.locator("caption")).to_have_text("1 token; page 1 of 1")
    page.locator("tbody tr").first.get_by_role("link", name=re.compile("^Delete token")).click()
    expect(page.get_by_role("alertdialog")).to_contain_text("for carol")
    page.get_by_role("button", name="Delete token").click()
    expect(page.get_by_role("status")).to_contain_text("of carol deleted")
    assert server.request("GET", "/rest/api/2/myself", headers=bearer(token)).status == 401


def test_captcha_after_failed_logins_and_solving_it_logs_in(page: Page, server: RealServer, answers_file: Path):
    page.goto("/login.jsp")
    for attempt in range(3):
        page.get_by_label("Username").fill("dave")
        page.get_by_label("Password").fill(f"wrong-{attempt}")
        page.get_by_label("Password").press("Enter")  # keyboard use: Enter submits
        expect(page.get_by_role("alert")).to_contain_text("incorrect")
    captcha = page.get_by_role("img", name=re.compile("^Captcha"))
    expect(captcha).to_be_visible()
    assert page.evaluate("document.querySelector('.captcha img').naturalWidth") == 200  # the image loaded
    shot(page, "06-login-captcha")
    # REST refuses the username now, even with the right password
    assert server.request("GET", "/rest/api/2/myself", headers=basic("dave", "dave")).status == 403

    answer = answers_file.read_text().split()[-1]
    page.get_by_label("Password").fill("dave")
    page.get_by_label("Characters in the picture").fill("XXXXX" if answer != "XXXXX" else "YYYYY")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("did not match")
    answer = answers_file.read_text().split()[-1]  # a new challenge was drawn
    page.get_by_label("Password").fill("dave")
    page.get_by_label("Characters in the picture").fill(answer)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("My API Tokens")
    assert server.request("GET", "/rest/api/2/myself", headers=basic("dave", "dave")).status == 200


def test_settings_change_takes_effect_and_admin_pages(page: Page, server: RealServer):
    log_in(page, "admin", "admin", TOKENS + "/settings")
    page.get_by_label("Maximum token validity in months").fill("3")
    page.get_by_label("Validity of a token created without one").fill("3")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_have_text("Settings saved.")
    expect(page.get_by_label("Maximum token validity in months")).to_have_value("3")
    shot(page, "07-api-token-settings")
    over = {"tokenDescription": "too long", "tokenValidityTimeInMonths": 6}
    # REST on every worker refuses 6 months within the contract's 1 s cache bound
    probe = lambda: server.request("POST", f"{P}/user/token", json_body=over, headers=basic("bob", "bob")).status  # noqa: E731
    assert_within_a_second(probe, 400)
    resp = server.request("POST", f"{P}/user/token", json_body=over, headers=basic("bob", "bob"))
    assert resp.status == 400 and "maximum" in resp.json["errorMessage"]
    page.goto(TOKENS)
    options = page.locator("#expiry option").all_text_contents()
    assert options == ["1 month", "3 months", "Custom date…"]

    page.get_by_role("link", name="Users").click()
    expect(page.locator("table")).to_contain_text("alice")
    shot(page, "08-admin-users")
    page.get_by_role("link", name="Plugins").click()
    expect(page.locator("table")).to_contain_text("API Token Authentication")
    shot(page, "09-admin-plugins")
    page.get_by_role("link", name="Audit log").click()
    expect(page.locator("table")).to_contain_text("API token settings changed")
    shot(page, "10-admin-audit")
    page.get_by_role("link", name="Authentication").click()
    expect(page.get_by_label("Maximum authentication attempts allowed")).to_have_value("3")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_have_text("You have logged out.")
