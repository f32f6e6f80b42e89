"""Hook specifications: everything a plugin can contribute to the host.

Arguments share names across hooks (``host``, ``request``, ``credentials``, ``plugin_key``, ``user_key``);
an implementation declares only the ones it needs. Call hooks with keyword arguments.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("host")
hookimpl = pluggy.HookimplMarker("host")


@hookspec(firstresult=True)
def authenticate(request, credentials, host):
    """Return an Actor for credentials you own and accept; None when they are not yours.

    Raise ``host.errors.AuthenticationFailed`` (or ``CaptchaRequired``) for credentials that are yours and
    fail, so that no other implementation (in particular the host's password check) sees them.
    """


@hookspec
def authenticated(request, credentials, actor, host):
    """Called after ``credentials`` authenticated ``actor`` (not for session cookies); raise
    ``AuthenticationFailed`` to refuse the request anyway (e.g. an IP allow-list). Return nothing."""


@hookspec
def permission_denied(request, actor, reason, host):
    """Called when a request is answered 403 (not the captcha lock); ``reason`` is the message. Return nothing."""


@hookspec
def password_login_allowed(request, user, host, channel):
    """Return False to refuse a correct password on ``channel`` ("rest" or "web"); None for no opinion."""


@hookspec
def register_routes(host):
    """Return a list of ``(uri_template, resource)`` pairs; a template that collides is refused."""


@hookspec
def register_web_items(host):
    """Return a list of ``host.web.WebItem(label, url, visible)`` for the navigation bar; ``visible(actor)``
    says whether the signed-in ``actor`` may open the page. Called per page view, for enabled plugins only."""


@hookspec
def register_permission_types(host):
    """Return a list of ``host.permissions.PermissionType``."""


@hookspec
def register_settings(host):
    """Return a list of ``host.settings.SettingDefinition``."""


@hookspec
def register_models(host):
    """Return a list of peewee model classes bound to ``host.db.database``."""


@hookspec
def register_migrations(host):
    """Return a list of ``host.migrations.Migration`` for your component, numbered from 1 upwards."""


@hookspec
def register_commands(subparsers):
    """Add sub-commands to ``python -m host`` with ``subparsers.add_parser(...)``; give each
    ``set_defaults(handler=fn)`` where ``fn(host, args) -> int`` runs with the opened host."""


@hookspec
def startup(host):
    """Called once per process after the application is built."""


@hookspec
def plugin_enabled(host, plugin_key):
    """Called on the node where ``plugin_key`` was just enabled."""


@hookspec
def plugin_disabled(host, plugin_key):
    """Called on the node where ``plugin_key`` was just disabled."""


@hookspec
def user_deleted(host, user_key):
    """Called after a user was deleted; drop what you hold for ``user_key``."""
