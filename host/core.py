"""The ``Host``: the services plugins and resources are handed (``host`` in every hook)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import peewee

from host.auth import Authenticator, Sessions
from host.config import Config
from host.passwords import PasswordHasher
from host.permissions import Permissions
from host.plugins import PluginRegistry
from host.settings import SettingDefinition, SettingsSpec, SettingsStore, non_negative_int
from host.users import Users

HOST_SETTINGS = [
    SettingDefinition(
        "maximumAuthenticationAttemptsAllowed",
        3,
        lambda v: non_negative_int(v, allow_null=True, maximum=1_000_000),
        "Failed logins after which a captcha is required (0 = never)",
    ),
]


def _wall_clock_ms() -> int:
    return int(time.time() * 1000)


class Host:
    def __init__(
        self,
        config: Config,
        db: peewee.Database,
        *,
        hasher: PasswordHasher | None = None,
        clock: Callable[[], int] = _wall_clock_ms,
        load_entrypoints: bool = True,
        extra_plugins: tuple[tuple[str, Any], ...] = (),
    ) -> None:
        self.config = config
        self.extensions: dict[str, Any] = {}  # per-host state of plugins, by plugin key
        self.db = db
        self.now_ms = clock
        self.hasher = hasher or PasswordHasher(**config.password_hash_params)
        self.settings = SettingsStore()
        self.settings.register("host", HOST_SETTINGS)
        self.permissions = Permissions(self.settings)
        self.users = Users(self.hasher, config.sysadmin_group)
        self.plugins = PluginRegistry(
            self.settings, load_entrypoints=load_entrypoints, extra_plugins=extra_plugins
        )
        self.sessions = Sessions(self)
        self.auth = Authenticator(self)
        for owner, spec in self.plugins.call_each("register_settings", host=self):
            if isinstance(spec, SettingsSpec):
                self.settings.register(owner, list(spec.definitions), spec.check)
            else:
                self.settings.register(owner, list(spec))
        for _owner, types in self.plugins.call_each("register_permission_types", host=self):
            self.permissions.register(list(types))

    @property
    def base_url(self) -> str:
        return self.config.base_url

    def plugin_migrations(self) -> dict[str, list]:
        result: dict[str, list] = {}
        for owner, migrations in self.plugins.call_each("register_migrations", host=self):
            result.setdefault(owner, []).extend(migrations)
        return result

    def migrate(self) -> dict[str, list[int]]:
        from host.migrations import migrate

        return migrate(self.db, self.plugin_migrations())
