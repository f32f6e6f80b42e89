"""The host's web layer: Jinja2 pages, CSRF protection, HTML errors and the navigation bar.

Pages are Falcon resources registered like REST routes; a plugin ships its own templates (``add_templates``)
and contributes navigation items through the ``register_web_items`` hook.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote

import falcon
import jinja2

from host.auth import SESSION_COOKIE, Actor

if TYPE_CHECKING:
    from host.core import Host

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
CSRF_FIELD = "atl_token"
LOGIN_CSRF_COOKIE = "host.login.xsrf"
MAX_FORM_BYTES = 64 * 1024


@dataclass(frozen=True)
class WebItem:
    """A navigation bar entry: shown to the signed-in users for whom ``visible(actor)`` is true."""

    label: str
    url: str
    visible: Callable[[Actor], bool] = lambda actor: True


class WebError(Exception):
    """An error answered with an HTML page (web pages never answer JSON)."""

    def __init__(self, status: int, title: str, message: str = "") -> None:
        super().__init__(message or title)
        self.status = status
        self.title = title
        self.message = message


class Redirect(falcon.HTTPSeeOther):
    pass


def format_ms(ms: int | None, never: str = "never") -> str:
    if not ms:
        return never
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def safe_destination(value: str | None, default: str) -> str:
    """A local path to go to after login (never another site: no scheme, no '//', no backslash)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or "\n" in value:
        return default
    return value


class Web:
    def __init__(self, host: Host) -> None:
        self.host = host
        self.template_dirs: dict[str, jinja2.BaseLoader] = {}
        self.env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(
                [jinja2.FileSystemLoader(str(TEMPLATES)), jinja2.PrefixLoader(self.template_dirs)]
            ),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["datetime"] = format_ms
        self.host_items: list[WebItem] = []

    # ----- templates and navigation ---------------------------------------------------------------------------
    def add_templates(self, prefix: str, directory: str | Path) -> None:
        """Serve the templates in ``directory`` as ``<prefix>/<name>`` (a plugin's own templates)."""
        if prefix in self.template_dirs:
            raise ValueError(f"template prefix {prefix!r} is taken")
        self.template_dirs[prefix] = jinja2.FileSystemLoader(str(directory))

    def nav(self, actor: Actor) -> list[WebItem]:
        if not actor.authenticated:
            return []
        items: list[WebItem] = []
        for result in self.host.plugins.hook("register_web_items")(host=self.host):
            items.extend(result or [])
        items.extend(self.host_items)
        return [item for item in items if item.visible(actor)]

    def render(
        self, req: falcon.Request, resp: falcon.Response, template: str, *, status: int = 200, **context: Any
    ) -> None:
        actor = req.context.actor
        resp.status = status
        resp.content_type = falcon.MEDIA_HTML
        resp.set_header("Cache-Control", "no-store")
        resp.set_header("X-Frame-Options", "DENY")
        resp.set_header("X-Content-Type-Options", "nosniff")
        context.setdefault("notice", (req.get_param("notice") or "")[:300])
        resp.text = self.env.get_template(template).render(
            actor=actor,
            nav=self.nav(actor),
            current_path=req.path,
            csrf_field=CSRF_FIELD,
            csrf_token=self.csrf_token(req),
            **context,
        )

    # ----- authentication -------------------------------------------------------------------------------------
    def require_login(self, req: falcon.Request) -> Actor:
        """The signed-in actor, or a redirect to the login page. Pages read settings, permissions and plugin
        state fresh (a page view is no hot path): a change shows at once, whichever worker answers."""
        self.host.settings.invalidate()
        actor = req.context.actor
        if not actor.authenticated:
            target = req.path + (f"?{req.query_string}" if req.query_string else "")
            raise Redirect("/login.jsp?os_destination=" + quote(target, safe=""))
        return actor

    def require_sysadmin(self, req: falcon.Request) -> Actor:
        actor = self.require_login(req)
        if not actor.is_sysadmin:
            raise WebError(403, "Administrators only", "Only system administrators may open this page.")
        return actor

    # ----- CSRF -----------------------------------------------------------------------------------------------
    def csrf_token(self, req: falcon.Request) -> str:
        """Derived from the session cookie (stateless): HMAC(server secret, "csrf:" + cookie)."""
        cookie = req.cookies.get(SESSION_COOKIE) if req.cookies else None
        if not cookie:
            return ""
        mac = hmac.new(self.host.config.secret, b"csrf:" + cookie.encode("utf-8", "surrogatepass"), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")

    def form(self, req: falcon.Request) -> dict[str, list[str]]:
        """The urlencoded form body as lists of values (in order)."""
        length = req.content_length or 0
        if length > MAX_FORM_BYTES:
            raise WebError(413, "Form too large")
        raw = req.bounded_stream.read(length).decode("utf-8", "replace") if length else ""
        values: dict[str, list[str]] = {}
        for name, value in parse_qsl(raw, keep_blank_values=True):
            values.setdefault(name, []).append(value.replace("\x00", ""))
        return values

    def checked_form(self, req: falcon.Request, *, allow_read_only: bool = False) -> dict[str, list[str]]:
        """The form of a signed-in user's POST, after the CSRF check (403 page when it fails). A session
        opened with a read-only token may post only where ``allow_read_only`` (logging out)."""
        actor = self.require_login(req)
        form = self.form(req)
        expected = self.csrf_token(req)
        given = (form.get(CSRF_FIELD) or [""])[0]
        if actor.method != "session" or not expected or not hmac.compare_digest(given, expected):
            raise WebError(
                403,
                "Form expired",
                "The form could not be verified (missing or wrong security token). Reload the page and try again.",
            )
        if actor.read_only and not allow_read_only:
            raise WebError(403, "Read-only session", "This session was opened with a read-only token.")
        return form

    # ----- the login page's pre-session CSRF token (double-submit cookie) -------------------------------------
    def login_csrf(self, req: falcon.Request, resp: falcon.Response) -> str:
        value = req.cookies.get(LOGIN_CSRF_COOKIE) if req.cookies else None
        if not value or len(value) > 64:
            value = secrets.token_urlsafe(24)
            resp.set_cookie(
                LOGIN_CSRF_COOKIE,
                value,
                path="/login.jsp",
                http_only=True,
                secure=self.host.base_url.startswith("https://"),
                same_site="Strict",
            )
        return value

    def check_login_csrf(self, req: falcon.Request, form: dict[str, list[str]]) -> None:
        cookie = req.cookies.get(LOGIN_CSRF_COOKIE) if req.cookies else None
        given = (form.get(CSRF_FIELD) or [""])[0]
        if not cookie or not hmac.compare_digest(given.encode(), cookie.encode()):
            raise WebError(
                403, "Form expired", "The login form could not be verified. Reload the page and sign in again."
            )

    # ----- errors ---------------------------------------------------------------------------------------------
    def handle_error(self, req: falcon.Request, resp: falcon.Response, error: WebError, params: dict) -> None:
        self.render(req, resp, "error.html", status=error.status, title=error.title, message=error.message)


def first(form: dict[str, list[str]], name: str, default: str = "") -> str:
    return (form.get(name) or [default])[0]
