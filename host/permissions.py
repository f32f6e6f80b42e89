"""Permission types registered by plugins; each is granted to "everyone" or to a set of groups.

Members of the sysadmin group hold every permission. Grants live in the settings table (``permission:<key>``)
and share its per-process cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from host.settings import InvalidSetting, SettingsStore

if TYPE_CHECKING:
    from host.auth import Actor


@dataclass(frozen=True)
class PermissionType:
    key: str
    name: str
    description: str = ""
    default_everyone: bool = False
    default_groups: tuple[str, ...] = ()
    allow_everyone: bool = True


class Permissions:
    def __init__(self, settings: SettingsStore) -> None:
        self._settings = settings
        self._types: dict[str, PermissionType] = {}
        # (everyone, lower-cased groups) per permission, valid for one settings generation: the hot path
        # asks for "Use Tokens" on every token request.
        self._rules: dict[str, tuple[bool, frozenset[str]]] = {}
        self._rules_generation = -1

    def register(self, types: list[PermissionType]) -> None:
        for ptype in types:
            if ptype.key in self._types:
                raise ValueError(f"permission type {ptype.key} registered twice")
            self._types[ptype.key] = ptype

    def types(self) -> list[PermissionType]:
        return list(self._types.values())

    def grant(self, key: str) -> dict[str, Any]:
        ptype = self._types[key]
        stored = self._settings.raw(f"permission:{key}")
        if stored is None:
            stored = {"everyone": ptype.default_everyone, "groups": list(ptype.default_groups)}
        grant = {"groups": list(stored.get("groups", []))}
        if ptype.allow_everyone:
            grant = {"everyone": bool(stored.get("everyone", False)), **grant}
        return grant

    def has(self, actor: Actor, key: str) -> bool:
        if actor.is_sysadmin:
            return True
        if not actor.authenticated:
            return False
        generation = self._settings.generation()
        if generation != self._rules_generation:
            self._rules, self._rules_generation = {}, generation
        rule = self._rules.get(key)
        if rule is None:
            grant = self.grant(key)
            rule = self._rules[key] = (bool(grant.get("everyone")), frozenset(g.lower() for g in grant["groups"]))
        everyone, groups = rule
        return everyone or any(g.lower() in groups for g in actor.groups)

    def validate(self, key: str, value: Any) -> dict[str, Any]:
        ptype = self._types.get(key)
        if ptype is None:
            raise InvalidSetting(key, f"Unknown permission '{key[:100]}'")
        if not isinstance(value, dict):
            raise InvalidSetting(key, f"'{key}' must be an object with 'groups'")
        allowed = {"groups", "everyone"} if ptype.allow_everyone else {"groups"}
        for name in value:
            if name not in allowed:
                raise InvalidSetting(f"{key}.{name}", f"'{key}' does not accept '{name}'")
        everyone = value.get("everyone", False)
        if not isinstance(everyone, bool):
            raise InvalidSetting(f"{key}.everyone", f"'{key}.everyone' must be true or false")
        groups = value.get("groups", [])
        if not isinstance(groups, list) or not all(isinstance(g, str) and g.strip() for g in groups):
            raise InvalidSetting(f"{key}.groups", f"'{key}.groups' must be a list of group names")
        result: dict[str, Any] = {"groups": self._existing_groups(key, groups)}
        if ptype.allow_everyone:
            result = {"everyone": everyone, **result}
        return result

    @staticmethod
    def _existing_groups(key: str, names: list[str]) -> list[str]:
        """The groups as they are spelled in the database (deduplicated, sorted); a name that is no group
        is refused, so that a typo cannot silently grant nothing."""
        from host.models import Group

        wanted = {name.strip().lower(): name.strip() for name in names}
        found: dict[str, str] = {}
        lowered = list(wanted)
        for start in range(0, len(lowered), 500):  # stay below every database's bound-parameter limit
            chunk = lowered[start : start + 500]
            query = Group.select(Group.lower_name, Group.name).where(Group.lower_name.in_(chunk))
            found.update(query.tuples())
        for lower, name in wanted.items():
            if lower not in found:
                raise InvalidSetting(f"{key}.groups", f"'{key}.groups': there is no group named '{name[:255]}'")
        return sorted(found.values(), key=str.lower)

    def update(self, changes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        old = {k: self.grant(k) for k in self._types}
        validated = {k: self.validate(k, v) for k, v in changes.items()}
        self._settings.write_raw({f"permission:{k}": v for k, v in validated.items()})
        new = {k: self.grant(k) for k in self._types}
        return old, new
