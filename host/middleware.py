"""Request middleware: path aliases, the body-size limit, authentication, and per-resource rules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import falcon

from host.auth import ANONYMOUS
from host.errors import (
    ApiError,
    AuthenticationFailed,
    BadRequest,
    CaptchaRequired,
    Forbidden,
    NotAuthenticated,
    NotFound,
)
from host.jsonio import MAX_BODY_BYTES, TOO_LARGE

if TYPE_CHECKING:
    from host.core import Host

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ALIASES = (("/rest/api/latest/", "/rest/api/2/"), ("/rest/auth/latest/", "/rest/auth/1/"))
# Printable ASCII but '%': sent as is in X-AUSERNAME; anything else is UTF-8 percent-encoded.
_HEADER_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")


def username_header(name: str) -> str:
    """A username as an HTTP header value: unchanged when printable ASCII, otherwise percent-encoded UTF-8
    (a header cannot carry, e.g., CJK characters; ``unquote`` always gives the name back)."""
    return quote(name, safe=_HEADER_SAFE)


class HostMiddleware:
    """Resources declare what they need with class attributes:

    - ``anonymous_methods``: methods callable without authentication (default: none);
    - ``reports_auth_failures``: the responder sees rejected credentials instead of a 401 (authTest);
    - ``read_only_methods``: write methods a read-only credential may still call.
    A plugin's resources answer 404 while the plugin is disabled (Falcon cannot remove a route).
    """

    def __init__(self, host: Host, route_owners: dict[int, str]) -> None:
        self.host = host
        self.route_owners = route_owners

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        path = req.path
        for alias, target in ALIASES:
            if path.startswith(alias):
                req.path = target + path[len(alias) :]
                break
        else:
            if path in ("/rest/api/latest", "/rest/auth/latest"):
                req.path = path.replace("latest", "2" if "/api/" in path else "1")
        ctx = req.context
        ctx.actor = ANONYMOUS
        ctx.auth_failure = None
        length = req.content_length
        if length is not None and length > MAX_BODY_BYTES:
            raise ApiError(413, TOO_LARGE)
        if "\x00" in req.path or "%00" in req.query_string:
            raise BadRequest("NUL characters are not allowed in the URL")
        try:
            ctx.actor = self.host.auth.authenticate(req)
        except (AuthenticationFailed, CaptchaRequired) as failure:
            ctx.auth_failure = failure
            return
        if ctx.actor.authenticated:
            for name, value in ctx.actor.headers.items():
                resp.set_header(name, value)
            resp.set_header("X-Seraph-LoginReason", "OK")
            resp.set_header("X-AUSERNAME", username_header(ctx.actor.name))
        else:
            resp.set_header("X-AUSERNAME", "anonymous")

    def process_resource(self, req: falcon.Request, resp: falcon.Response, resource: Any, params: dict) -> None:
        ctx = req.context
        owner = self.route_owners.get(id(resource))
        if owner is not None and not self.host.plugins.is_enabled(owner):
            raise ctx.auth_failure or NotFound(f"null for uri: {req.uri}")
        if ctx.auth_failure is not None:
            if getattr(resource, "reports_auth_failures", False):
                return
            raise ctx.auth_failure
        actor = ctx.actor
        method = req.method
        if not actor.authenticated:
            if method not in getattr(resource, "anonymous_methods", ()) and method != "OPTIONS":
                raise NotAuthenticated()
            return
        if actor.read_only and method not in SAFE_METHODS and method not in getattr(resource, "read_only_methods", ()):
            raise Forbidden(actor.read_only_message or "This credential is read-only")


class UnknownPath:
    """Sink for paths no route serves: rejected credentials still get 401 (auth runs before routing)."""

    def __call__(self, req: falcon.Request, resp: falcon.Response, **kwargs: Any) -> None:
        failure = req.context.auth_failure
        if failure is not None:
            raise failure
        raise NotFound(f"null for uri: {req.uri}")
