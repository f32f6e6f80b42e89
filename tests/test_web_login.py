"""The web login page (contract 1.4, 2.8): sessions, the captcha lock, CSRF, logout."""

from __future__ import annotations

import pytest

from host.auth import SESSION_COOKIE
from tests.captcha_recorder import RecordingCaptcha
from tests.conftest import ADMIN, P, basic
from tests.host_helpers import failed_count
from tests.web_helpers import TOKENS_PAGE, csrf_token, new_app, web_login


@pytest.fixture
def captcha() -> RecordingCaptcha:
    return RecordingCaptcha()


@pytest.fixture
def chost(make_host, captcha):
    return make_host(captcha=captcha)


@pytest.fixture
def web(chost):
    return new_app(chost)


def login_form(web, username: str, password: str, **extra: str):
    page = web.get("/login.jsp", {"os_username": username}, status=200)
    form = page.forms[0]
    form["os_username"] = username
    form["os_password"] = password
    for name, value in extra.items():
        form[name] = value
    return form


def fail_until_locked(web, username: str = "alice") -> object:
    for _ in range(2):
        resp = login_form(web, username, "wrong").submit(status=401)
        assert 'class="captcha"' not in resp.text
    return login_form(web, username, "wrong").submit(status=401)  # the failure that reaches the limit


def test_anonymous_page_redirects_to_login_and_back(web):
    resp = web.get(TOKENS_PAGE, status=303)
    expected = "/login.jsp?os_destination=%2Fplugins%2Fservlet%2Fde.resolution.apitokenauth%2Fadmin"
    assert resp.headers["Location"].endswith(expected)
    page = resp.follow(status=200)
    form = page.forms[0]
    assert form["os_destination"].value == TOKENS_PAGE
    form["os_username"], form["os_password"] = "alice", "alice"
    done = form.submit(status=303)
    assert done.headers["Location"].endswith(TOKENS_PAGE)
    assert "My API Tokens" in done.follow(status=200).text


def test_web_login_creates_the_rest_session(web, chost):
    resp = web_login(web, "alice", "alice")
    cookie = next(h for h in resp.headers.getall("Set-Cookie") if h.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert web.get("/rest/auth/1/session", status=200).json["name"] == "alice"  # REST accepts it, as in Jira
    assert chost.users.by_name("alice").login_count == 1


def test_wrong_password_counts_and_says_so(web, chost):
    resp = login_form(web, "alice", "nope").submit(status=401)
    assert "username and password are incorrect" in resp.text
    assert resp.headers["Content-Type"].startswith("text/html")
    assert SESSION_COOKIE not in web.cookies
    assert failed_count(chost, "alice") == 1
    web_login(web, "alice", "alice")
    assert failed_count(chost, "alice") == 0


def test_login_needs_the_form_token(web, chost):
    page = web.get("/login.jsp", status=200)
    # no pre-session cookie (another site's form): refused before any password is checked
    other = new_app(chost)
    resp = other.post("/login.jsp", {"os_username": "alice", "os_password": "alice", "atl_token": "x"}, status=403)
    assert "could not be verified" in resp.text
    # cookie present but the field does not match it
    web.post("/login.jsp", {"os_username": "alice", "os_password": "alice", "atl_token": "forged"}, status=403)
    assert SESSION_COOKIE not in web.cookies and failed_count(chost, "alice") == 0
    assert page.forms[0]["atl_token"].value


def test_destination_must_be_local(web):
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        page = web.get("/login.jsp", {"os_destination": target}, status=200)
        form = page.forms[0]
        form["os_username"], form["os_password"] = "alice", "alice"
        assert form.submit(status=303).headers["Location"] == "/"
        web.reset()


def test_captcha_appears_on_the_failure_that_reaches_the_limit(web, chost, captcha):
    resp = fail_until_locked(web)
    assert 'class="captcha"' in resp.text and len(captcha.answers) == 1
    image = resp.html.find("img", alt=lambda a: a and a.startswith("Captcha"))
    png = web.get(image["src"], status=200)
    assert png.headers["Content-Type"] == "image/png" and png.body[:8] == b"\x89PNG\r\n\x1a\n"
    # every later login page for that username shows one
    assert 'class="captcha"' in web.get("/login.jsp", {"os_username": "Alice"}, status=200).text
    assert 'class="captcha"' not in web.get("/login.jsp", {"os_username": "bob"}, status=200).text


def test_correct_password_without_the_captcha_is_refused(web, chost):
    fail_until_locked(web)
    resp = login_form(web, "alice", "alice", captcha="").submit(status=403)
    assert "Type the characters" in resp.text and SESSION_COOKIE not in web.cookies
    assert failed_count(chost, "alice") == 3


def test_wrong_captcha_answer_refuses_and_uses_the_challenge_up(web, chost, captcha):
    fail_until_locked(web)
    form = login_form(web, "alice", "alice")
    challenge, answer = form["captcha_id"].value, captcha.answers[-1]
    form["captcha"] = "WRONG"
    resp = form.submit(status=403)
    assert "did not match" in resp.text and SESSION_COOKIE not in web.cookies
    # the right answer to a used challenge no longer works: one attempt per challenge
    form = login_form(web, "alice", "alice")
    form["captcha_id"].force_value(challenge)
    form["captcha"] = answer
    form.submit(status=403)
    assert failed_count(chost, "alice") == 3


def test_solving_the_captcha_lifts_the_lock_and_logs_in(web, chost, captcha):
    fail_until_locked(web)
    form = login_form(web, "alice", "alice")
    form["captcha"] = captcha.answers[-1].lower()  # case does not matter
    resp = form.submit(status=303)
    assert SESSION_COOKIE in web.cookies and failed_count(chost, "alice") == 0
    assert resp.follow(status=303).follow(status=200)
    # Basic auth works again too
    web.reset()
    web.get("/rest/api/2/myself", headers=basic("alice", "alice"), status=200)


def test_solved_captcha_with_a_wrong_password_counts_again(web, chost, captcha):
    fail_until_locked(web)
    form = login_form(web, "alice", "wrong")
    form["captcha"] = captcha.answers[-1]
    resp = form.submit(status=401)
    assert failed_count(chost, "alice") == 1 and 'class="captcha"' not in resp.text


def test_a_challenge_belongs_to_one_username(web, chost, captcha):
    fail_until_locked(web, "alice")
    alice_challenge, alice_answer = login_form(web, "alice", "x")["captcha_id"].value, captcha.answers[-1]
    fail_until_locked(web, "bob")
    form = login_form(web, "bob", "bob")
    form["captcha_id"].force_value(alice_challenge)
    form["captcha"] = alice_answer
    form.submit(status=403)
    assert failed_count(chost, "bob") == 3


def test_captcha_image_of_an_unknown_challenge_is_404_html(web):
    resp = web.get("/captcha/nope.png", status=404)
    assert resp.headers["Content-Type"].startswith("text/html")


def test_admin_reset_lifts_the_lock_for_the_web_too(web, chost):
    fail_until_locked(web)
    web.post("/rest/api/2/user/resetFailedLoginCount?username=alice", headers=ADMIN, status=204)
    assert 'class="captcha"' not in web.get("/login.jsp", {"os_username": "alice"}, status=200).text
    web_login(web, "alice", "alice")


def test_disabling_passwords_on_rest_does_not_block_the_web_login(web, chost):
    web.put_json(f"{P}/admin/settings", {"disableBasicAuthWithPassword": True}, headers=ADMIN, status=200)
    web.get("/rest/api/2/myself", headers=basic("alice", "alice"), status=401)
    web_login(web, "alice", "alice")
    assert web.get("/rest/api/2/myself", status=200).json["name"] == "alice"


def test_web_login_with_an_api_token(web, chost, create_token):
    token = web.post_json(f"{P}/user/token", {"tokenScope": 1}, headers=basic("alice", "alice"), status=200).json
    web_login(web, "alice", token["plainTextToken"])
    page = web.get(TOKENS_PAGE, status=200)
    # a session from a read-only token is read-only: forms refuse to write
    resp = web.post(TOKENS_PAGE, {"atl_token": csrf_token(page), "action": "create", "description": "x"}, status=403)
    assert "read-only" in resp.text
    web.post("/logout", {"atl_token": csrf_token(page)}, status=303)  # but it may log out
    web.get("/rest/auth/1/session", status=401)


def test_logout_needs_the_form_token_and_ends_the_session(web, chost):
    web_login(web, "alice", "alice")
    page = web.get(TOKENS_PAGE, status=200)
    web.post("/logout", {"atl_token": "forged"}, status=403)
    web.get("/rest/auth/1/session", status=200)
    resp = web.post("/logout", {"atl_token": csrf_token(page)}, status=303)
    assert "/login.jsp" in resp.headers["Location"]
    assert "You have logged out." in resp.follow(status=200).text
    web.get("/rest/auth/1/session", status=401)
    web.get(TOKENS_PAGE, status=303)


def test_logged_in_user_visiting_the_login_page_goes_on(web):
    web_login(web, "alice", "alice")
    assert web.get("/login.jsp", {"os_destination": TOKENS_PAGE}, status=303).headers["Location"].endswith(TOKENS_PAGE)


def test_stylesheet_is_served(web):
    resp = web.get("/static/host.css", status=200)
    assert resp.headers["Content-Type"].startswith("text/css") and ".topbar" in resp.text
