"""Helpers for the in-process web page tests (WebTest keeps the cookies of its TestApp)."""

from __future__ import annotations

import re

import webtest

TOKENS_PAGE = "/plugins/servlet/de.resolution.apitokenauth/admin"
MANAGER_PAGE = f"{TOKENS_PAGE}/manager"
SETTINGS_PAGE = f"{TOKENS_PAGE}/settings"


def web_login(app: webtest.TestApp, username: str, password: str) -> webtest.TestResponse:
    """Log in through the login form; returns the redirect (303)."""
    page = app.get("/login.jsp", status=200)
    form = page.forms[0]
    form["os_username"] = username
    form["os_password"] = password
    return form.submit(status=303)


def csrf_token(page: webtest.TestResponse) -> str:
    match = re.search(r'name="atl_token" value="([^"]+)"', page.text)
    assert match, "the page has no CSRF field"
    return match.group(1)


def nav_labels(page: webtest.TestResponse) -> list[str]:
    nav = page.html.find("nav", attrs={"aria-label": "Main"})
    return [a.get_text(strip=True) for a in nav.find_all("a")] if nav else []


def new_app(host) -> webtest.TestApp:
    return webtest.TestApp(host.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})
