"""The host's pages: login (with the captcha), logout, the stylesheet, and the administration pages."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import falcon

from host.auth import SESSION_COOKIE, Credentials
from host.errors import AuthenticationFailed, CaptchaRequired
from host.settings import InvalidSetting
from host.web import STATIC, Redirect, WebError, WebItem, first, safe_destination

if TYPE_CHECKING:
    from host.core import Host
    from host.web.captcha import Captchas

ADMIN_PAGES = (
    ("Authentication", "/secure/admin/settings"),
    ("Users", "/secure/admin/users"),
    ("Plugins", "/secure/admin/plugins"),
    ("Audit log", "/secure/admin/audit"),
)


class Page:
    """A web page: anonymous requests reach the responder (which redirects to the login page), and a
    read-only session may post (the responder refuses it with a page, not JSON)."""

    anonymous_methods = ("GET", "HEAD", "POST")
    read_only_methods = ("POST",)

    def __init__(self, host: Host) -> None:
        self.host = host
        self.web = host.web


class Stylesheet:
    anonymous_methods = ("GET", "HEAD")

    def __init__(self) -> None:
        self.css = (STATIC / "host.css").read_text()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = "text/css; charset=utf-8"
        resp.set_header("Cache-Control", "public, max-age=300")
        resp.text = self.css


class Home(Page):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        if not req.context.actor.authenticated:
            raise Redirect("/login.jsp")
        items = self.web.nav(req.context.actor)
        raise Redirect(items[0].url if items else "/secure/Dashboard")


class Dashboard(Page):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.web.require_login(req)
        self.web.render(req, resp, "dashboard.html", title="Welcome")


class CaptchaImage(Page):
    anonymous_methods = ("GET", "HEAD")

    def __init__(self, host: Host, captchas: Captchas) -> None:
        super().__init__(host)
        self.captchas = captchas

    def on_get(self, req: falcon.Request, resp: falcon.Response, challenge_id: str) -> None:
        png = self.captchas.image(challenge_id)
        if png is None:
            raise WebError(404, "Captcha expired", "Reload the login page for a new captcha.")
        resp.content_type = "image/png"
        resp.set_header("Cache-Control", "no-store")
        resp.data = png


class Login(Page):
    def __init__(self, host: Host, captchas: Captchas) -> None:
        super().__init__(host)
        self.captchas = captchas

    def _locked(self, username: str) -> bool:
        found = self.host.users.auth_row_by_name(username) if username else None
        return found is not None and self.host.auth.is_locked(found[0])

    def _show(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        *,
        status: int = 200,
        username: str = "",
        destination: str = "",
        error: str = "",
    ) -> None:
        captcha_id = self.captchas.create(username) if username and self._locked(username) else ""
        csrf = self.web.login_csrf(req, resp)
        self.web.render(
            req,
            resp,
            "login.html",
            status=status,
            title="Log in",
            username=username,
            destination=destination,
            error=error,
            captcha_id=captcha_id,
            login_csrf=csrf,
        )

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        destination = safe_destination(req.get_param("os_destination"), "")
        if req.context.actor.authenticated and req.context.actor.method == "session":
            raise Redirect(destination or "/")
        username = (req.get_param("os_username") or "")[:255]
        self._show(req, resp, username=username, destination=destination)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = self.web.form(req)
        self.web.check_login_csrf(req, form)
        username = first(form, "os_username").strip()[:255]
        password = first(form, "os_password")
        destination = safe_destination(first(form, "os_destination"), "")
        show = lambda status, error: self._show(  # noqa: E731
            req, resp, status=status, username=username, destination=destination, error=error
        )
        if not username or not password:
            return show(400, "Enter your username and password.")
        if self._locked(username):
            challenge, answer = first(form, "captcha_id"), first(form, "captcha")
            if not challenge or not answer.strip():
                return show(403, "Type the characters shown in the picture to log in.")
            if not self.captchas.solve(challenge, username, answer):
                return show(403, "The characters you typed did not match the picture. Try the new one.")
            found = self.host.users.auth_row_by_name(username)
            assert found is not None
            self.host.users.record_successful_login(found[0].id, count_login=False)  # solving lifts the lock
        credentials = Credentials("basic", password, username, channel="web")
        try:
            actor = self.host.auth.authenticate_credentials(credentials, req)
        except CaptchaRequired:
            return show(403, "Type the characters shown in the picture to log in.")
        except AuthenticationFailed:
            return show(401, "Sorry, your username and password are incorrect. Please try again.")
        self.host.sessions.open(resp, actor, channel="web")
        raise Redirect(destination or "/")


class Logout(Page):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        if not req.context.actor.authenticated:
            raise Redirect("/login.jsp")
        self.web.checked_form(req, allow_read_only=True)
        self.host.sessions.delete(req.cookies[SESSION_COOKIE])
        resp.unset_cookie(SESSION_COOKIE, path="/")
        raise Redirect("/login.jsp?" + urlencode({"notice": "You have logged out."}))


class AuthenticationSettingsPage(Page):
    NAME = "maximumAuthenticationAttemptsAllowed"

    def _show(
        self, req: falcon.Request, resp: falcon.Response, *, status: int = 200, error: str = "", value: Any = None
    ) -> None:
        if value is None:
            value = self.host.settings.get("host", self.NAME) or 0
        self.web.render(
            req, resp, "admin_settings.html", status=status, title="Authentication", error=error, value=value
        )

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.web.require_sysadmin(req)
        self._show(req, resp)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.web.require_sysadmin(req)
        form = self.web.checked_form(req)
        raw = first(form, self.NAME).strip()
        if not (raw.isascii() and raw.isdigit()):
            return self._show(
                req,
                resp,
                status=400,
                value=raw,
                error="Maximum authentication attempts must be a whole number (0 = no captcha).",
            )
        try:
            self.host.settings.update("host", {self.NAME: int(raw)})
        except InvalidSetting as exc:
            return self._show(req, resp, status=400, value=raw, error=exc.message)
        raise Redirect(req.path + "?" + urlencode({"notice": "Settings saved."}))


class UsersPage(Page):
    PAGE = 50

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.web.require_sysadmin(req)
        query = (req.get_param("q") or "")[:255]
        start = req.get_param_as_int("start", min_value=0, max_value=10**9) or 0
        users = self.host.users.search(
            query.strip() or ".", start=start, limit=self.PAGE + 1, include_active=True, include_inactive=True
        )
        more = len(users) > self.PAGE
        self.web.render(
            req,
            resp,
            "admin_users.html",
            title="Users",
            users=users[: self.PAGE],
            query=query,
            start=start,
            next_start=start + self.PAGE if more else None,
            prev_start=max(start - self.PAGE, 0) if start else None,
            limit=self.host.auth.max_attempts(),
        )

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        actor = self.web.require_sysadmin(req)
        form = self.web.checked_form(req)
        user = self.host.users.by_name(first(form, "username"))
        if user is None:
            raise WebError(404, "No such user", "That user does not exist (any more).")
        self.host.users.reset_failed_logins(user)
        from host.audit import Item

        self.host.audit.record(
            "Failed-login count reset",
            category="users",
            actor=actor,
            remote_address=req.remote_addr,
            object_item=Item(user.key, user.name, "USER"),
            changed_values=[
                {"fieldName": "failedLoginCount", "changedFrom": str(user.failed_login_count), "changedTo": "0"}
            ],
        )
        raise Redirect(req.path + "?" + urlencode({"notice": f"Failed-login count of {user.name} reset."}))


class PluginsPage(Page):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.web.require_sysadmin(req)
        plugins = [
            {"key": info.key, "name": info.name, "version": info.version, "enabled": self.host.plugins.is_enabled(key)}
            for key, info in self.host.plugins.infos.items()
        ]
        self.web.render(req, resp, "admin_plugins.html", title="Plugins", plugins=plugins)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        from host.resources.plugins import set_plugin_enabled

        actor = self.web.require_sysadmin(req)
        form = self.web.checked_form(req)
        key = first(form, "key")
        if key not in self.host.plugins.infos:
            raise WebError(404, "No such plugin", "That plugin is not installed.")
        enabled = first(form, "enabled") == "true"
        set_plugin_enabled(self.host, key, enabled, actor=actor, remote_address=req.remote_addr)
        name = self.host.plugins.infos[key].name
        raise Redirect(req.path + "?" + urlencode({"notice": f"{name} {'enabled' if enabled else 'disabled'}."}))


class AuditPage(Page):
    PAGE = 50

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.web.require_sysadmin(req)
        text = (req.get_param("filter") or "")[:255]
        offset = req.get_param_as_int("offset", min_value=0, max_value=10**9) or 0
        records, total = self.host.audit.search(text=text or None, offset=offset, limit=self.PAGE)
        rows = [
            {
                "record": r,
                "object": json.loads(r.object_item) if r.object_item else None,
                "changes": json.loads(r.changed_values),
                "associated": json.loads(r.associated_items),
            }
            for r in records
        ]
        self.web.render(
            req,
            resp,
            "admin_audit.html",
            title="Audit log",
            rows=rows,
            total=total,
            filter=text,
            offset=offset,
            next_offset=offset + self.PAGE if offset + self.PAGE < total else None,
            prev_offset=max(offset - self.PAGE, 0) if offset else None,
        )


def host_web_items() -> list[WebItem]:
    admin = lambda actor: actor.is_sysadmin  # noqa: E731
    return [WebItem(label, url, admin) for label, url in ADMIN_PAGES]


def web_routes(host: Host, captchas: Captchas) -> list[tuple[str, Any, dict]]:
    return [
        ("/", Home(host), {}),
        ("/secure/Dashboard", Dashboard(host), {}),
        ("/static/host.css", Stylesheet(), {}),
        ("/login.jsp", Login(host, captchas), {}),
        ("/logout", Logout(host), {}),
        ("/captcha/{challenge_id}.png", CaptchaImage(host, captchas), {}),
        ("/secure/admin/settings", AuthenticationSettingsPage(host), {}),
        ("/secure/admin/users", UsersPage(host), {}),
        ("/secure/admin/plugins", PluginsPage(host), {}),
        ("/secure/admin/audit", AuditPage(host), {}),
    ]
