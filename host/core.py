"""The ``Host``: the services plugins and resources are handed (``host`` in every hook)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import peewee

from host.audit import AuditLog
from host.auth import Authenticator, Sessions
from host.config import Config
from host.passwords import PasswordHasher
from host.permissions import Permissions
from host.plugins import PluginRegistry
from host.settings import SettingDefinition, SettingsSpec, SettingsStore, non_negative_int
from host.users import Users, wall_clock_ms

HOST_SETTINGS = [
    SettingDefinition(
        "maximumAuthenticationAttemptsAllowed",
        3,
        lambda v: non_negative_int(v, allow_null=True, maximum=1_000_000),
        "Failed logins after which a captcha is required (0 = never)",
    ),
]


class Host:
    def __init__(
        self,
        config: Config,
        db: peewee.Database,
        *,
        hasher: PasswordHasher | None = None,
        clock: Callable[[], int] = wall_clock_ms,
        load_entrypoints: bool = True,
        extra_plugins: tuple[tuple[str, Any], ...] = (),
    ) -> None:
        self.config = config
        self.extensions: dict[str, Any] = {}  # per-host state of plugins, by plugin key
        self.db = db
        self.now_ms = clock
        self.hasher = hasher or PasswordHasher(**config.password_hash_params)
        self.audit = AuditLog(clock)
        self.settings = SettingsStore()
        self.settings.register("host", HOST_SETTINGS)
        self.permissions = Permissions(self.settings)
        self.users = Users(self.hasher, config.sysadmin_group, clock)
        self.plugins = PluginRegistry(self.settings, load_entrypoints=load_entrypoints, extra_plugins=extra_plugins)
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

    def plugin_models(self) -> dict[str, list[type[peewee.Model]]]:
        result: dict[str, list[type[peewee.Model]]] = {}
        for owner, models in self.plugins.call_each("register_models", host=self):
            result.setdefault(owner, []).extend(models)
        return result

    def migrate(self) -> dict[str, list[int]]:
        """Apply pending migrations, then check that each plugin's models have their tables (a plugin that
        registers a model but no migration creating it fails here, at start, not on its first request)."""
        from host.migrations import migrate

        applied = migrate(self.db, self.plugin_migrations())
        tables = set(self.db.get_tables())
        for owner, models in self.plugin_models().items():
            missing = sorted(m._meta.table_name for m in models if m._meta.table_name not in tables)
            if missing:
                raise RuntimeError(f"plugin {owner} registers models without tables: {', '.join(missing)}")
        return applied
