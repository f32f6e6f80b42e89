"""The single plugin manager: built-in hook implementations, plugins from the ``host.plugins`` entry-point
group, and the enabled/disabled gate (state in the database, cached like settings).

Set ``HOST_TRACE_HOOKS=1`` to print every hook call.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import pluggy

from host import hookspecs, password_auth
from host.settings import SettingsStore

ENTRY_POINT_GROUP = "host.plugins"
BUILTIN_PASSWORD_AUTH = "host.password-auth"


@dataclass(frozen=True)
class PluginInfo:
    key: str
    name: str
    version: str
    plugin: Any


class PluginRegistry:
    def __init__(
        self,
        settings: SettingsStore,
        *,
        load_entrypoints: bool = True,
        extra_plugins: tuple[tuple[str, Any], ...] = (),
    ) -> None:
        self.settings = settings
        self.pm = pluggy.PluginManager("host")
        self.pm.add_hookspecs(hookspecs)
        if os.environ.get("HOST_TRACE_HOOKS"):
            self.pm.trace.root.setwriter(lambda msg: sys.stderr.write(msg))
            self.pm.enable_tracing()
        self.pm.register(password_auth, name=BUILTIN_PASSWORD_AUTH)
        self.infos: dict[str, PluginInfo] = {}
        if load_entrypoints:
            for ep in entry_points(group=ENTRY_POINT_GROUP):
                self.add(ep.name, ep.load())
        for key, plugin in extra_plugins:
            self.add(key, plugin)
        self.pm.check_pending()
        self._subset_cache: dict[tuple[str, tuple[str, ...]], Any] = {}
        self._disabled: tuple[str, ...] = ()
        self._disabled_generation = -1

    def add(self, key: str, plugin: Any) -> None:
        if key in self.infos:
            raise ValueError(f"plugin {key} is registered twice")
        self.pm.register(plugin, name=key)
        self.infos[key] = PluginInfo(
            key=key,
            name=getattr(plugin, "PLUGIN_NAME", key),
            version=str(getattr(plugin, "__version__", "0")),
            plugin=plugin,
        )

    # ----- enabled state -------------------------------------------------------------------------------
    def is_enabled(self, key: str) -> bool:
        return self.settings.plugin_enabled(key)

    def set_enabled(self, key: str, enabled: bool) -> None:
        self.settings.set_plugin_enabled(key, enabled)

    def disabled_keys(self) -> tuple[str, ...]:
        return tuple(k for k in self.infos if not self.settings.plugin_enabled(k))

    # ----- calling hooks -------------------------------------------------------------------------------
    def hook(self, name: str) -> Any:
        """The hook caller for ``name`` over the built-ins and the currently enabled plugins."""
        generation = self.settings.generation()
        if generation != self._disabled_generation:
            self._disabled, self._disabled_generation = self.disabled_keys(), generation
        disabled = self._disabled
        if not disabled:
            return getattr(self.pm.hook, name)
        cache_key = (name, disabled)
        caller = self._subset_cache.get(cache_key)
        if caller is None:
            remove = [self.infos[k].plugin for k in disabled]
            caller = self._subset_cache[cache_key] = self.pm.subset_hook_caller(name, remove_plugins=remove)
        return caller

    def call_each(self, name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call hook ``name`` on each plugin separately (enabled or not), returning (plugin key, result)."""
        results = []
        for key, info in self.infos.items():
            others = [p for p in self.pm.get_plugins() if p is not info.plugin]
            caller = self.pm.subset_hook_caller(name, remove_plugins=others)
            for result in caller(**kwargs):
                results.append((key, result))
        return results
