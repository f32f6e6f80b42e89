"""Administrative REST: tokensByFilter, userKeyByEmail, deleteAllFor, settings and permissions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import falcon

from host import audit
from host.errors import PluginApiError
from host.jsonio import read_json_object, send_json
from host.settings import InvalidSetting

from . import filters
from .config import ON_BEHALF, PLUGIN_KEY

if TYPE_CHECKING:
    from host.core import Host

    from .service import TokenService


def forbidden(message: str) -> PluginApiError:
    return PluginApiError(403, message)


class _Resource:
    def __init__(self, host: Host, tokens: TokenService) -> None:
        self.host = host
        self.tokens = tokens

    def require_on_behalf(self, req: falcon.Request) -> None:
        if not self.tokens.may(req.context.actor, ON_BEHALF):
            raise forbidden("You need the 'Create & Delete Tokens On Behalf' permission for this operation")

    def require_sysadmin(self, req: falcon.Request) -> None:
        if not req.context.actor.is_sysadmin:
            raise forbidden("Only system administrators may perform this operation")


class TokensByFilter(_Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.require_on_behalf(req)
        params = _query_pairs(req)
        token_filter = filters.parse(params)
        rows, total = filters.search(token_filter)
        send_json(
            resp,
            filters.envelope(rows, total, token_filter, base_url=self.host.base_url, path=filters.PATH, params=params),
        )


def _query_pairs(req: falcon.Request) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(req.query_string, keep_blank_values=True)


class UserKeyByEmail(_Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.require_on_behalf(req)
        email = (req.get_param("email") or "").strip()
        if not email:
            raise PluginApiError(400, "The query parameter 'email' is required")
        if len(email) > 255:  # no user can have it (emails are at most 255 characters): say so, not NOT_FOUND
            raise PluginApiError(400, "The query parameter 'email' must not be longer than 255 characters")
        keys = self.tokens.user_keys_by_email(email)
        if not keys:
            raise PluginApiError(404, f"Could not retrieve a userkey for email '{email}', error was: NOT_FOUND")
        if len(keys) > 1:
            raise PluginApiError(
                409, f"Can't return a userkey since there is more than one user with the email '{email}'"
            )
        resp.content_type = "text/plain;charset=UTF-8"
        resp.text = keys[0]


class DeleteAllFor(_Resource):
    def on_delete(self, req: falcon.Request, resp: falcon.Response, user_key: str) -> None:
        self.require_sysadmin(req)
        if self.host.users.by_key(user_key) is None:
            raise PluginApiError(404, f"There is no user with the key '{user_key[:255]}'")
        self.tokens.delete_all_for(req.context.actor, user_key, self.tokens.remote(req))
        send_json(resp, True)


class AdminSettings(_Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.require_sysadmin(req)
        send_json(resp, self.host.settings.document(PLUGIN_KEY))

    def on_put(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.require_sysadmin(req)
        body = read_json_object(req, PluginApiError)
        send_json(resp, update_settings(self.host, self.tokens, req.context.actor, self.tokens.remote(req), body))


class AdminPermissions(_Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.require_sysadmin(req)
        send_json(resp, self._document())

    def _document(self) -> dict[str, Any]:
        return permissions_document(self.host, self.tokens)

    def on_put(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.require_sysadmin(req)
        body = read_json_object(req, PluginApiError)
        send_json(resp, update_permissions(self.host, self.tokens, req.context.actor, self.tokens.remote(req), body))


# ----- shared by the REST resources and the web pages ------------------------------------------------------------
def _audit_change(tokens: TokenService, actor: Any, remote: str | None, summary: str, old: dict, new: dict) -> None:
    changed = audit.changes(old, new)
    if changed:
        tokens.audit(summary, category="settings", actor=actor, remote=remote, changed=changed)


def update_settings(host: Host, tokens: TokenService, actor: Any, remote: str | None, body: dict) -> dict[str, Any]:
    """Validate and save a subset of the settings (all or nothing), audit the change; the whole new document.
    Raises PluginApiError(400) naming the bad field."""
    host.settings.invalidate()  # audit the change against the stored values, not a cached copy
    try:
        old, new = host.settings.update(PLUGIN_KEY, body)
    except InvalidSetting as exc:
        raise PluginApiError(400, exc.message) from None
    _audit_change(tokens, actor, remote, "API token settings changed", old, new)
    return new


def permissions_document(host: Host, tokens: TokenService) -> dict[str, Any]:
    return {ptype.key: host.permissions.grant(ptype.key) for ptype in tokens.permission_types()}


def update_permissions(host: Host, tokens: TokenService, actor: Any, remote: str | None, body: dict) -> dict[str, Any]:
    """Validate and save permission grants, audit the change; the whole new document."""
    mine = {p.key for p in tokens.permission_types()}
    unknown = sorted(set(body) - mine)
    if unknown:
        raise PluginApiError(400, f"Unknown permission '{unknown[0][:100]}'")
    host.settings.invalidate()  # audit the change against the stored grants, not a cached copy
    old = permissions_document(host, tokens)
    try:
        host.permissions.update(body)
    except InvalidSetting as exc:
        raise PluginApiError(400, exc.message) from None
    new = permissions_document(host, tokens)
    _audit_change(tokens, actor, remote, "API token permissions changed", old, new)
    return new


def routes(host: Host, tokens: TokenService, base: str) -> list[tuple]:
    return [
        (f"{base}/user/tokensByFilter", TokensByFilter(host, tokens)),
        (f"{base}/user/userKeyByEmail", UserKeyByEmail(host, tokens)),
        (f"{base}/user/token/deleteAllFor/{{user_key}}", DeleteAllFor(host, tokens)),
        (f"{base}/admin/settings", AdminSettings(host, tokens)),
        (f"{base}/admin/permissions", AdminPermissions(host, tokens)),
    ]
