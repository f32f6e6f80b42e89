"""Numbered schema migrations per component (the host and each plugin), recorded in the database."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import peewee

from host.models import AuditRecord, Group, Membership, PluginState, SchemaMigration, Sequence, Session, Setting, User


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    apply: Callable[[peewee.Database], None]


def _host_initial(db: peewee.Database) -> None:
    db.create_tables([User, Group, Membership, Session, Setting, PluginState, Sequence])


def _audit_log(db: peewee.Database) -> None:
    db.create_tables([AuditRecord])


HOST_MIGRATIONS = [
    Migration(1, "users, groups, sessions, settings, plugin state", _host_initial),
    Migration(2, "audit log", _audit_log),
]


def apply_migrations(db: peewee.Database, component: str, migrations: list[Migration]) -> list[int]:
    """Apply, in order and each in its own transaction, the migrations of ``component`` not yet recorded."""
    numbers = [m.number for m in migrations]
    if numbers != sorted(set(numbers)):
        raise ValueError(f"migrations of {component} must have unique increasing numbers: {numbers}")
    applied = []
    for migration in migrations:
        with db.atomic():
            done = (
                SchemaMigration.select()
                .where((SchemaMigration.component == component) & (SchemaMigration.number == migration.number))
                .exists()
            )
            if done:
                continue
            migration.apply(db)
            SchemaMigration.create(
                component=component,
                number=migration.number,
                name=migration.name,
                applied=int(time.time() * 1000),
            )
            applied.append(migration.number)
    return applied


def migrate(db: peewee.Database, plugin_migrations: dict[str, list[Migration]]) -> dict[str, list[int]]:
    db.create_tables([SchemaMigration], safe=True)
    result = {"host": apply_migrations(db, "host", HOST_MIGRATIONS)}
    for component, migrations in plugin_migrations.items():
        result[component] = apply_migrations(db, component, migrations)
    return result
