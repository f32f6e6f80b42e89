"""The plugin manager REST (sysadmins only): list, read, enable and disable plugins."""

from __future__ import annotations

import falcon

from host.audit import Item
from host.auth import Actor
from host.errors import BadRequest, NotFound
from host.jsonio import read_json_object, send_json
from host.resources.common import require_sysadmin
from host.resources.jira import Resource


class PluginsResource(Resource):
    def _doc(self, key: str) -> dict:
        info = self.host.plugins.infos[key]
        return {
            "key": info.key,
            "name": info.name,
            "version": info.version,
            "enabled": self.host.plugins.is_enabled(key),
        }

    def _info_key(self, plugin_key: str) -> str:
        if plugin_key not in self.host.plugins.infos:
            raise NotFound(f"Plugin '{plugin_key}' is not installed")
        return plugin_key

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        require_sysadmin(req)
        send_json(resp, {"plugins": [self._doc(k) for k in self.host.plugins.infos]})

    def on_get_one(self, req: falcon.Request, resp: falcon.Response, plugin_key: str) -> None:
        require_sysadmin(req)
        send_json(resp, self._doc(self._info_key(plugin_key)))

    def on_put_one(self, req: falcon.Request, resp: falcon.Response, plugin_key: str) -> None:
        require_sysadmin(req)
        key = self._info_key(plugin_key)
        body = read_json_object(req)
        unknown = sorted(set(body) - {"enabled", "key", "name", "version"})
        if unknown:
            raise BadRequest(f"Unknown field '{unknown[0]}'", field=unknown[0])
        enabled = body.get("enabled")
        if not isinstance(enabled, bool):
            raise BadRequest("'enabled' must be true or false", field="enabled")
        set_plugin_enabled(self.host, key, enabled, actor=req.context.actor, remote_address=req.remote_addr)
        send_json(resp, self._doc(key))


def set_plugin_enabled(
    host, key: str, enabled: bool, *, actor: Actor | None = None, remote_address: str | None = None
) -> None:
    """Persist the state (in force on every node within a second), audit it, notify plugins on this node."""
    host.settings.invalidate()  # the state as stored, not as cached: another node may have just changed it
    was = host.plugins.is_enabled(key)
    host.plugins.set_enabled(key, enabled)
    if was != enabled:
        info = host.plugins.infos[key]
        host.audit.record(
            f"Plugin {'enabled' if enabled else 'disabled'}",
            category="plugins",
            actor=actor,
            author_key=None if actor is not None else "cli",
            remote_address=remote_address,
            object_item=Item(key, info.name, "PLUGIN"),
            changed_values=[
                {"fieldName": "enabled", "changedFrom": str(was).lower(), "changedTo": str(enabled).lower()}
            ],
        )
        hook = "plugin_enabled" if enabled else "plugin_disabled"
        getattr(host.plugins.pm.hook, hook)(host=host, plugin_key=key)
