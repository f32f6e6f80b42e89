"""Settings, permission grants and plugin enabled state: stored in the database, cached per process.

Every process reloads the whole (small) table at most once a second, so a change made on any node or worker
is in force everywhere within one second; the process that makes a change sees it at once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from host.db import database
from host.models import PluginState, Setting

CACHE_SECONDS = 1.0


class InvalidSetting(ValueError):
    """A value refused by a setting's validator; ``field`` names the setting."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class SettingDefinition:
    name: str
    default: Any
    # Returns the normalised value or raises ValueError with a message for a person.
    validate: Callable[[Any], Any]
    description: str = ""


@dataclass(frozen=True)
class SettingsSpec:
    """What ``register_settings`` may return instead of a bare list: definitions plus a whole-document check."""

    definitions: list[SettingDefinition]
    check: Callable[[dict[str, Any]], None] | None = None


@dataclass
class _Owner:
    definitions: dict[str, SettingDefinition] = field(default_factory=dict)
    # Checks the whole document after a change (e.g. default <= maximum); raises InvalidSetting.
    check: Callable[[dict[str, Any]], None] | None = None


class SettingsStore:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._owners: dict[str, _Owner] = {}
        self._raw: dict[str, Any] = {}
        self._plugin_states: dict[str, bool] = {}
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()
        # Bumped on every reload: lets callers cache what they derive from the settings (see generation()).
        self._generation = 0

    # ----- registration ---------------------------------------------------------------------------------
    def register(
        self,
        owner: str,
        definitions: list[SettingDefinition],
        check: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        entry = self._owners.setdefault(owner, _Owner())
        for definition in definitions:
            if definition.name in entry.definitions:
                raise ValueError(f"setting {owner}:{definition.name} registered twice")
            entry.definitions[definition.name] = definition
        if check is not None:
            entry.check = check

    def owners(self) -> list[str]:
        return list(self._owners)

    # ----- cache ----------------------------------------------------------------------------------------
    def invalidate(self) -> None:
        self._loaded_at = float("-inf")

    def _fresh(self) -> None:
        now = self._clock()
        if now - self._loaded_at < CACHE_SECONDS:
            return
        with self._lock:
            if now - self._loaded_at < CACHE_SECONDS:
                return
            raw = {}
            for key, value in Setting.select(Setting.key, Setting.value).tuples():
                try:
                    raw[key] = json.loads(value)
                except ValueError:
                    continue  # a hand-edited bad row falls back to the default
            states = dict(PluginState.select(PluginState.key, PluginState.enabled).tuples())
            self._raw, self._plugin_states = raw, states
            self._loaded_at = now
            self._generation += 1

    def generation(self) -> int:
        """A number that changes whenever the cached values may have changed."""
        self._fresh()
        return self._generation

    # ----- typed settings -------------------------------------------------------------------------------
    def get(self, owner: str, name: str) -> Any:
        self._fresh()
        definition = self._owners[owner].definitions[name]
        return self._raw.get(f"{owner}:{name}", definition.default)

    def document(self, owner: str) -> dict[str, Any]:
        self._fresh()
        return {
            name: self._raw.get(f"{owner}:{name}", d.default) for name, d in self._owners[owner].definitions.items()
        }

    def validate(self, owner: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Return the whole document with ``changes`` applied, or raise InvalidSetting naming the field."""
        entry = self._owners[owner]
        if not isinstance(changes, dict):
            raise InvalidSetting("", "the settings must be a JSON object")
        new = self.document(owner)
        for name, value in changes.items():
            definition = entry.definitions.get(name)
            if definition is None:
                raise InvalidSetting(name, f"Unknown setting '{name[:100]}'")
            try:
                new[name] = definition.validate(value)
            except (ValueError, TypeError) as exc:
                raise InvalidSetting(name, f"Invalid value for '{name}': {exc}") from None
        if entry.check is not None:
            entry.check(new)
        return new

    def update(self, owner: str, changes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Validate every change first, then write them all in one transaction. Returns (old, new)."""
        old = self.document(owner)
        new = self.validate(owner, changes)
        self.write_raw({f"{owner}:{name}": new[name] for name in changes})
        return old, new

    # ----- raw keys (permission grants and the like) ------------------------------------------------------
    def raw(self, key: str, default: Any = None) -> Any:
        self._fresh()
        return self._raw.get(key, default)

    def write_raw(self, values: dict[str, Any]) -> None:
        with database.atomic():
            for key, value in values.items():
                (
                    Setting.insert(key=key, value=json.dumps(value))
                    .on_conflict(conflict_target=[Setting.key], preserve=[Setting.value])
                    .execute()
                )
        self.invalidate()

    # ----- plugin enabled state ---------------------------------------------------------------------------
    def plugin_enabled(self, key: str) -> bool:
        self._fresh()
        return self._plugin_states.get(key, True)

    def set_plugin_enabled(self, key: str, enabled: bool) -> None:
        (
            PluginState.insert(key=key, enabled=enabled)
            .on_conflict(conflict_target=[PluginState.key], preserve=[PluginState.enabled])
            .execute()
        )
        self.invalidate()


def non_negative_int(value: Any, *, allow_null: bool = False, maximum: int | None = None) -> int:
    if value is None and allow_null:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be a whole number")
    if value < 0:
        raise ValueError("must not be negative")
    if maximum is not None and value > maximum:
        raise ValueError(f"must not exceed {maximum}")
    return value


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value
