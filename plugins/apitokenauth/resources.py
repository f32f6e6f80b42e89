"""The add-on's REST resources under ``/rest/de.resolution.apitokenauth/latest``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import falcon

from host.errors import PluginApiError
from host.jsonio import read_json_object, send_json

from . import admin, openapi
from .service import TokenService

if TYPE_CHECKING:
    from host.core import Host

BASE = "/rest/de.resolution.apitokenauth/latest"


class _Resource:
    def __init__(self, host: Host, tokens: TokenService) -> None:
        self.host = host
        self.tokens = tokens


class TokenCollection(_Resource):
    """``POST/GET P/user/token`` and ``PATCH/DELETE P/user/token/<id>``."""

    read_only_methods = ("POST",)  # a read-only token may create (read-only) tokens: the guide's exception

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        send_json(resp, self.tokens.own_tokens(req.context.actor))

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_json_object(req, PluginApiError)
        send_json(resp, self.tokens.create(req.context.actor, body, self.tokens.remote(req)))

    def on_patch_item(self, req: falcon.Request, resp: falcon.Response, token_id: str) -> None:
        body = read_json_object(req, PluginApiError)
        send_json(resp, self.tokens.rename(req.context.actor, token_id, body, self.tokens.remote(req)))

    def on_delete_item(self, req: falcon.Request, resp: falcon.Response, token_id: str) -> None:
        self.tokens.delete(req.context.actor, token_id, self.tokens.remote(req))
        send_json(resp, True)


class AuthTest(_Resource):
    """Reports on whatever credentials the request carried; never answers 401 itself."""

    anonymous_methods = ("GET", "HEAD")
    reports_auth_failures = True

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        failure = req.context.auth_failure
        actor = req.context.actor
        if failure is not None:
            details = (
                "Login denied: a captcha must be solved first"
                if failure.status == 403
                else getattr(failure, "reason", "authentication failed")
            )
            doc = {"isSuccessfulAuthentication": False, "authenticationFailureDetails": details, "userKey": None}
        elif not actor.authenticated:
            doc = {
                "isSuccessfulAuthentication": False,
                "authenticationFailureDetails": "No credentials were presented",
                "userKey": None,
            }
        else:
            doc = {
                "isSuccessfulAuthentication": True,
                "authenticationFailureDetails": None,
                "userKey": actor.key,
                "authenticationMethod": actor.method,
            }
            if actor.method == "token":
                doc.update(actor.details)
        send_json(resp, doc)


def routes(host: Host, tokens: TokenService) -> list[tuple]:
    collection = TokenCollection(host, tokens)
    return [
        (f"{BASE}/user/token", collection),
        (f"{BASE}/user/token/{{token_id}}", collection, {"suffix": "item"}),
        (f"{BASE}/user/authTest", AuthTest(host, tokens)),
        *admin.routes(host, tokens, BASE),
        (f"{BASE}/openapi.json", openapi.OpenApiDocument(host, BASE)),
    ]
