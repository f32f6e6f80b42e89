"""The app factory: ``create_app`` builds the Host and its Falcon WSGI application from injected parts."""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

import falcon

from host.config import Config
from host.core import Host
from host.db import init_database
from host.errors import ApiError, CaptchaRequired, handle_unexpected, render_error, serialize_falcon_error
from host.middleware import HostMiddleware, UnknownPath
from host.passwords import PasswordHasher
from host.resources import audit, confluence, jira, plugins, session
from host.web import Web, WebError
from host.web.captcha import Captchas, generator_from_env
from host.web.pages import host_web_items, web_routes


class RouteCollision(RuntimeError):
    pass


class Router:
    """Adds routes to the Falcon app, refusing a template that another route already serves
    (Falcon would silently replace it), and remembers which plugin owns which resource."""

    def __init__(self, app: falcon.App) -> None:
        self.app = app
        self.templates: dict[str, str] = {}
        self.owners: dict[int, str] = {}

    @staticmethod
    def _shape(template: str) -> str:
        return re.sub(r"\{[^}]*\}", "{}", template.rstrip("/") or "/")

    def add(self, template: str, resource: Any, owner: str = "host", **kwargs: Any) -> None:
        shape = self._shape(template)
        suffix = kwargs.get("suffix")
        slot = f"{shape}#{suffix or ''}"
        if shape in self.templates and self.templates[shape] != owner:
            raise RouteCollision(f"{owner} cannot register {template}: {self.templates[shape]} already serves it")
        if slot in self.templates:
            raise RouteCollision(f"{owner} registers {template} twice")
        self.templates[shape] = owner
        self.templates[slot] = owner
        # Jira answers HEAD wherever it answers GET; Falcon drops the body of a HEAD response itself.
        get, head = f"on_get{'_' + suffix if suffix else ''}", f"on_head{'_' + suffix if suffix else ''}"
        if hasattr(resource, get) and not hasattr(resource, head):
            setattr(resource, head, getattr(resource, get))
        self.app.add_route(template.rstrip("/") or "/", resource, **kwargs)
        if owner != "host":
            self.owners[id(resource)] = owner


def host_routes(host: Host) -> list[tuple[str, Any, dict]]:
    plugins_resource = plugins.PluginsResource(host)
    return [
        ("/rest/api/2/serverInfo", jira.ServerInfo(host), {}),
        ("/rest/api/2/myself", jira.Myself(host), {}),
        ("/rest/api/2/user", jira.UserResource(host), {}),
        ("/rest/api/2/user/search", jira.UserSearch(host), {}),
        ("/rest/api/2/user/resetFailedLoginCount", jira.ResetFailedLoginCount(host), {}),
        ("/rest/api/2/settings/authentication", jira.AuthenticationSettings(host), {}),
        ("/rest/api/2/group", jira.GroupResource(host), {}),
        ("/rest/api/2/group/user", jira.GroupUser(host), {}),
        ("/rest/api/2/group/member", jira.GroupMembers(host), {}),
        ("/rest/api/2/groups/picker", jira.GroupsPicker(host), {}),
        ("/rest/api/2/auditing/record", audit.AuditRecords(host), {}),
        ("/rest/auth/1/session", session.SessionResource(host), {}),
        ("/rest/api/user", confluence.ConfluenceUser(host), {}),
        ("/rest/api/user/current", confluence.ConfluenceCurrentUser(host), {}),
        ("/rest/plugins/1.0", plugins_resource, {}),
        ("/rest/plugins/1.0/{plugin_key}-key", plugins_resource, {"suffix": "one"}),
    ]


class SecretMismatch(RuntimeError):
    pass


def check_secret(host: Host) -> None:
    """Every node of a cluster must digest tokens with the same secret. The database keeps a fingerprint of
    the first node's secret (an HMAC of a constant: it reveals nothing); a node with another secret refuses
    to start instead of silently rejecting every token made elsewhere."""
    fingerprint = hmac.new(host.config.secret, b"host secret fingerprint v1", hashlib.sha256).hexdigest()[:32]
    stored = host.settings.raw("host:secretFingerprint")
    if stored is None:
        host.settings.write_raw({"host:secretFingerprint": fingerprint})
    elif not hmac.compare_digest(str(stored), fingerprint):
        raise SecretMismatch(
            "this node's server secret (HOST_SECRET or secret.key in the data folder) is not the one the "
            "database was set up with: every node of a cluster needs the same HOST_SECRET"
        )


def create_app(
    config: Config,
    *,
    hasher: PasswordHasher | None = None,
    clock: Any = None,
    load_entrypoints: bool = True,
    extra_plugins: tuple[tuple[str, Any], ...] = (),
    migrate: bool = True,
    captcha: Any = None,
) -> Host:
    """Build the host: database, plugins, routes. Returns the Host; ``host.app`` is the WSGI callable.

    ``captcha``: the login captcha generator (``host.web.captcha``); default from ``HOST_CAPTCHA_GENERATOR``
    or the image captcha."""
    db = init_database(config.database_url)
    kwargs: dict[str, Any] = {"hasher": hasher, "load_entrypoints": load_entrypoints, "extra_plugins": extra_plugins}
    if clock is not None:
        kwargs["clock"] = clock
    host = Host(config, db, **kwargs)
    if migrate:  # workers of `serve` skip both: the arbiter did them before forking
        host.migrate()
        check_secret(host)

    route_owners: dict[int, str] = {}
    app = falcon.App(middleware=[HostMiddleware(host, route_owners)])
    app.req_options.strip_url_path_trailing_slash = True
    app.req_options.auto_parse_qs_csv = False
    app.resp_options.secure_cookies_by_default = False
    app.add_error_handler(Exception, handle_unexpected)

    def api_error(req: falcon.Request, resp: falcon.Response, error: ApiError, params: dict) -> None:
        if error.status == 403 and not isinstance(error, CaptchaRequired):
            host.plugins.hook("permission_denied")(
                request=req, actor=getattr(req.context, "actor", None), reason=error.message or "", host=host
            )
        render_error(resp, error)

    app.add_error_handler(ApiError, api_error)
    app.set_error_serializer(serialize_falcon_error)
    host.web = Web(host)
    host.web.host_items = host_web_items()
    host.captchas = Captchas(host, captcha or generator_from_env())
    app.add_error_handler(WebError, host.web.handle_error)

    router = Router(app)
    for template, resource, kwargs in [*host_routes(host), *web_routes(host, host.captchas)]:
        router.add(template, resource, **kwargs)
    for owner, routes in host.plugins.call_each("register_routes", host=host):
        for route in routes:
            template, resource, *rest = route
            router.add(template, resource, owner=owner, **(rest[0] if rest else {}))
    route_owners.update(router.owners)
    app.add_sink(UnknownPath(), prefix=r"/")
    host.app = app
    host.router = router
    host.plugins.pm.hook.startup(host=host)
    return host


def get_app() -> falcon.App:
    """WSGI entry point for servers that import an app: configuration from HOST_* variables."""
    from host.config import build_config

    return create_app(build_config()).app
