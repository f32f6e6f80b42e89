"""API Token Authentication: personal API tokens instead of passwords, as a plugin of the host.

This module only wires hook implementations; the work is done in the modules beside it.
"""

from __future__ import annotations

from host.hookspecs import hookimpl
from . import cli, config, resources, web
from .config import PLUGIN_KEY
from .migrations import MIGRATIONS
from .models import Token
from .service import service

__version__ = "1.5.0"
PLUGIN_NAME = "API Token Authentication"
__all__ = ["PLUGIN_KEY", "PLUGIN_NAME", "__version__"]


@hookimpl
def authenticate(request, credentials, host):
    return service(host).authenticate(request, credentials)


@hookimpl
def authenticated(request, credentials, actor, host):
    service(host).authenticated(request, credentials, actor)


@hookimpl
def permission_denied(request, actor, reason, host):
    svc = service(host)
    if svc.setting("auditPermissionDenied"):
        svc.audit(
            f"Permission denied: {reason}"[:255],
            category="permissions",
            actor=actor if actor is not None and actor.authenticated else None,
            remote=svc.remote(request),
        )


@hookimpl
def password_login_allowed(request, user, host, channel):
    if channel != "web" and service(host).setting("disableBasicAuthWithPassword"):
        return False
    return None


@hookimpl
def register_routes(host):
    return [*resources.routes(host, service(host)), *web.routes(host, service(host))]


@hookimpl
def register_web_items(host):
    return web.web_items(service(host))


@hookimpl
def register_settings(host):
    return config.settings_spec()


@hookimpl
def register_permission_types(host):
    return config.permission_types(host.config.sysadmin_group)


@hookimpl
def register_models(host):
    return [Token]


@hookimpl
def register_migrations(host):
    return MIGRATIONS


@hookimpl
def register_commands(subparsers):
    cli.add_commands(subparsers)


@hookimpl
def user_deleted(host, user_key):
    Token.delete().where(Token.user_key == user_key).execute()
