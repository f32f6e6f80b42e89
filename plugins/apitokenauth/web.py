"""The add-on's pages: "My API Tokens", "Token Manager" and its settings page.

They read and write through the same ``TokenService``, ``filters`` and ``admin`` functions as the REST API,
so every rule (permissions, validation, audit) is the same in both.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

import falcon

from host.errors import PluginApiError
from host.web import Redirect, WebError, WebItem, first

from . import admin, filters
from .config import CREATE_TOKENS, ON_BEHALF, PLUGIN_KEY, settings_spec
from .models import Token

if TYPE_CHECKING:
    from host.core import Host

    from .service import TokenService

BASE = "/plugins/servlet/de.resolution.apitokenauth/admin"
MANAGER = f"{BASE}/manager"
SETTINGS = f"{BASE}/settings"
TEMPLATES = Path(__file__).parent / "templates"
MONTH_CHOICES = (1, 3, 6, 12, 24, 36)
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DAY_MS = 86_400_000
# tokensByFilter's time filters: (query name, label, end of day?)
TIME_FILTERS = (
    ("fromCreated", "Created from", False),
    ("untilCreated", "Created until", True),
    ("fromLastUsed", "Last used from", False),
    ("untilLastUsed", "Last used until", True),
    ("fromExpiresDuring", "Expires from", False),
    ("untilExpiresDuring", "Expires until", True),
    ("notValidAfter", "Not valid after", True),
)


def web_items(tokens: TokenService) -> list[WebItem]:
    return [
        WebItem("My API Tokens", BASE),
        WebItem("Token Manager", MANAGER, lambda actor: tokens.may(actor, ON_BEHALF)),
        WebItem("API Token Settings", SETTINGS, lambda actor: actor.is_sysadmin),
    ]


def day_ms(text: str, field: str, *, end: bool) -> int:
    if not DATE_RE.match(text):
        raise PluginApiError(400, f"'{field}' must be a date (YYYY-MM-DD)")
    try:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        raise PluginApiError(400, f"'{field}' is not a valid date") from None
    ms = int(day.timestamp() * 1000)
    return ms + DAY_MS - 1 if end else ms


class _Page:
    anonymous_methods = ("GET", "HEAD", "POST")  # the page itself redirects anonymous visitors to the login
    read_only_methods = ("POST",)  # refused by the CSRF check with a page (a read-only session cannot write)

    def __init__(self, host: Host, tokens: TokenService) -> None:
        self.host = host
        self.tokens = tokens
        self.web = host.web

    def tabs(self, actor: Any) -> list[WebItem]:
        return [item for item in web_items(self.tokens) if item.visible(actor)]

    def render(self, req: falcon.Request, resp: falcon.Response, template: str, **context: Any) -> None:
        self.web.render(req, resp, f"apitokenauth/{template}", tabs=self.tabs(req.context.actor), **context)

    # ----- shared by "My API Tokens" and "Token Manager" ----------------------------------------------------
    def expiry_choices(self) -> tuple[list[tuple[str, str]], str]:
        maximum = int(self.tokens.setting("maxValidityMonths"))
        default = int(self.tokens.setting("defaultValidityMonths"))
        months = sorted({m for m in MONTH_CHOICES if not maximum or m <= maximum} | ({maximum} if maximum else set()))
        choices = [(str(m), f"{m} month{'s' if m != 1 else ''}") for m in months]
        if not maximum:
            choices.append(("0", "Never expires"))
        return choices, str(default or (maximum or 0))

    def body_from_form(self, form: dict[str, list[str]]) -> dict[str, Any]:
        body: dict[str, Any] = {"tokenDescription": first(form, "description").strip()}
        expiry = first(form, "expiry")
        if expiry == "custom":
            date = first(form, "expiresOn").strip()
            if not DATE_RE.match(date):
                raise PluginApiError(400, "Choose the custom expiry date (YYYY-MM-DD)")
            body["tokenExpirationDateTime"] = f"{date}T23:59:00.000+00:00"
        elif expiry:
            if not expiry.isdigit():
                raise PluginApiError(400, "Choose how long the token is valid")
            body["tokenValidityTimeInMonths"] = int(expiry)
        scope = first(form, "scope")
        if scope in ("1", "2"):
            body["tokenScope"] = int(scope)
        ranges = [line.strip() for line in first(form, "ipRanges").splitlines() if line.strip()]
        if ranges:
            body["allowedIpRanges"] = ranges
        rules = []
        for number, line in enumerate(first(form, "headerRules").splitlines(), 1):
            if not line.strip():
                continue
            name, sep, value = line.partition(":")
            if not sep or not name.strip():
                raise PluginApiError(400, f"Header rule {number} must look like 'Header-Name: value'")
            rules.append({"headerName": name.strip(), "headerValue": value.strip()})
        if rules:
            body["headerValueAccessRules"] = rules
        return body

    def user_key(self, text: str) -> str:
        """A user picked by username or key."""
        text = text.strip()
        user = self.host.users.by_name(text) or self.host.users.by_key(text)
        if user is None:
            raise PluginApiError(400, f"There is no user '{text[:255]}'")
        return user.key

    def names(self, keys: set[str]) -> dict[str, str]:
        from host.models import User

        if not keys:
            return {}
        return dict(User.select(User.key, User.name).where(User.key.in_(list(keys))).tuples())


class MyTokensPage(_Page):
    def _show(self, req: falcon.Request, resp: falcon.Response, *, status: int = 200, **context: Any) -> None:
        actor = req.context.actor
        choices, default = self.expiry_choices()
        tokens = self.tokens.own_tokens(actor)
        confirm = None
        wanted = req.get_param("confirmDelete")
        if wanted:
            confirm = next((t for t in tokens if str(t["id"]) == wanted), None)
        context.setdefault(
            "form", {"expiry": default, "scope": "1" if self.tokens.setting("readOnlyTokensOnly") else "2"}
        )
        self.render(
            req,
            resp,
            "tokens.html",
            status=status,
            title="My API Tokens",
            tokens=tokens,
            choices=choices,
            can_create=self.tokens.may(actor, CREATE_TOKENS),
            read_only_only=self.tokens.setting("readOnlyTokensOnly"),
            confirm=confirm,
            action=BASE,
            **context,
        )

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.web.require_login(req)
        self._show(req, resp)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = self.web.checked_form(req)
        actor = req.context.actor
        remote = self.tokens.remote(req)
        if first(form, "action") == "delete":
            try:
                token = self.tokens.delete(actor, first(form, "tokenId"), remote)
            except PluginApiError as exc:
                raise WebError(exc.status, "Cannot delete the token", exc.message or "") from None
            raise Redirect(BASE + "?" + urlencode({"notice": f"Token “{token.description}” deleted."}))
        values = {
            name: first(form, name)
            for name in ("description", "expiry", "expiresOn", "scope", "ipRanges", "headerRules")
        }
        try:
            created = self.tokens.create(actor, self.body_from_form(form), remote)
        except PluginApiError as exc:
            return self._show(req, resp, status=exc.status, error=exc.message, form=values, open_form=True)
        self._show(req, resp, created=created, created_for=actor.name)


class TokenManagerPage(_Page):
    FORM_FIELDS = ("user", "description", "expiry", "expiresOn", "scope", "ipRanges", "headerRules")

    def _params(self, query: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The page's query (usernames, dates) as tokensByFilter parameters (user keys, epoch ms)."""
        params: list[tuple[str, str]] = []
        ends = {name: end for name, _label, end in TIME_FILTERS}
        for name, value in query:
            value = value.strip()
            if not value:
                continue
            if name == "users":
                for part in re.split(r"[,\s]+", value):
                    if part:
                        params.append(("userFilter", self.user_key(part)))
            elif name in ends:
                params.append((name, str(day_ms(value, name, end=ends[name]))))
            elif name in ("descriptionFilter", "tokenScope", "page", "limit"):
                params.append((name, value))
        return params

    def _show(self, req: falcon.Request, resp: falcon.Response, *, status: int = 200, **context: Any) -> None:
        actor = req.context.actor
        if not self.tokens.may(actor, ON_BEHALF):
            self.render(req, resp, "manager.html", status=403, title="Token Manager", denied=True)
            return
        query = parse_qsl(req.query_string, keep_blank_values=True)
        values = dict(query)
        rows: list[Token] = []
        envelope = None
        try:
            token_filter = filters.parse(self._params(query))
            rows, total = filters.search(token_filter)
            envelope = filters.envelope(rows, total, token_filter, base_url="", path="", params=[])
        except PluginApiError as exc:
            context.setdefault("error", exc.message)
            status = max(status, 400)
        kept = [(k, v) for k, v in query if k not in ("page", "confirmDelete", "notice")]
        page_link = lambda page: "?" + urlencode([*kept, ("page", str(page))])  # noqa: E731
        confirm = None
        wanted = req.get_param("confirmDelete")
        if wanted and wanted.isdigit() and len(wanted) < 18:
            confirm = Token.get_or_none(Token.id == int(wanted))
        keys = (
            {t.user_key for t in rows} | {t.created_by_key for t in rows} | ({confirm.user_key} if confirm else set())
        )
        choices, default = self.expiry_choices()
        context.setdefault("form", {"expiry": default, "scope": "2"})
        self.render(
            req,
            resp,
            "manager.html",
            status=status,
            title="Token Manager",
            rows=rows,
            envelope=envelope,
            values=values,
            names=self.names(keys),
            page_link=page_link,
            time_filters=TIME_FILTERS,
            confirm=confirm,
            back=urlencode(kept),
            users=self.host.users.search(".", start=0, limit=500, include_active=True, include_inactive=False),
            choices=choices,
            action=MANAGER,
            **context,
        )

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.web.require_login(req)
        self._show(req, resp)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = self.web.checked_form(req)
        actor = req.context.actor
        if not self.tokens.may(actor, ON_BEHALF):
            return self._show(req, resp)
        remote = self.tokens.remote(req)
        if first(form, "action") == "delete":
            back = first(form, "back")
            try:
                token = self.tokens.delete(actor, first(form, "tokenId"), remote)
            except PluginApiError as exc:
                raise WebError(exc.status, "Cannot delete the token", exc.message or "") from None
            owner = self.names({token.user_key}).get(token.user_key, token.user_key)
            notice = f"Token “{token.description}” of {owner} deleted."
            raise Redirect(MANAGER + "?" + (back + "&" if back else "") + urlencode({"notice": notice}))
        values = {name: first(form, name) for name in self.FORM_FIELDS}
        try:
            body = self.body_from_form(form)
            body["tokenForUserKey"] = self.user_key(values["user"])
            created = self.tokens.create(actor, body, remote)
        except PluginApiError as exc:
            return self._show(req, resp, status=exc.status, error=exc.message, form=values, open_form=True)
        self._show(
            req,
            resp,
            created=created,
            created_for=self.names({created["tokenForUserKey"]}).get(
                created["tokenForUserKey"], created["tokenForUserKey"]
            ),
        )


class SettingsPage(_Page):
    def _show(self, req: falcon.Request, resp: falcon.Response, *, status: int = 200, **context: Any) -> None:
        self.render(
            req,
            resp,
            "settings.html",
            status=status,
            title="API Token Settings",
            definitions=settings_spec().definitions,
            settings=self.host.settings.document(PLUGIN_KEY),
            permission_types=self.tokens.permission_types(),
            grants=admin.permissions_document(self.host, self.tokens),
            **context,
        )

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.web.require_sysadmin(req)
        self._show(req, resp)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.web.require_sysadmin(req)
        form = self.web.checked_form(req)
        actor, remote = req.context.actor, self.tokens.remote(req)
        try:
            if first(form, "action") == "permissions":
                body = {}
                for ptype in self.tokens.permission_types():
                    groups = [g.strip() for g in first(form, f"{ptype.key}.groups").splitlines() if g.strip()]
                    body[ptype.key] = {"groups": groups}
                    if ptype.allow_everyone:
                        body[ptype.key]["everyone"] = f"{ptype.key}.everyone" in form
                admin.update_permissions(self.host, self.tokens, actor, remote, body)
                notice = "Permissions saved."
            else:
                admin.update_settings(self.host, self.tokens, actor, remote, self._settings_body(form))
                notice = "Settings saved."
        except PluginApiError as exc:
            return self._show(req, resp, status=400, error=exc.message)
        raise Redirect(SETTINGS + "?" + urlencode({"notice": notice}))

    @staticmethod
    def _settings_body(form: dict[str, list[str]]) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for definition in settings_spec().definitions:
            name, default = definition.name, definition.default
            if isinstance(default, bool):
                body[name] = name in form
            elif isinstance(default, int):
                raw = first(form, name).strip()
                if not (raw.isascii() and raw.isdigit()):
                    raise PluginApiError(400, f"'{name}' must be a whole number")
                body[name] = int(raw)
            elif isinstance(default, list):
                body[name] = [line.strip() for line in first(form, name).splitlines() if line.strip()]
            else:
                body[name] = first(form, name).strip()
        return body


def routes(host: Host, tokens: TokenService) -> list[tuple]:
    host.web.add_templates("apitokenauth", TEMPLATES)
    return [
        (BASE, MyTokensPage(host, tokens)),
        (MANAGER, TokenManagerPage(host, tokens)),
        (SETTINGS, SettingsPage(host, tokens)),
    ]
