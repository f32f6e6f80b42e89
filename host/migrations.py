"""Numbered schema migrations per component (the host and each plugin), recorded in the database."""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import peewee

from host.models import (
    AuditRecord,
    CaptchaChallenge,
    Group,
    Membership,
    PluginState,
    SchemaMigration,
    Sequence,
    Session,
    Setting,
    User,
)


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    apply: Callable[[peewee.Database], None]


def _host_initial(db: peewee.Database) -> None:
    db.create_tables([User, Group, Membership, Session, Setting, PluginState, Sequence])


def _audit_log(db: peewee.Database) -> None:
    db.create_tables([AuditRecord])


def _captcha(db: peewee.Database) -> None:
    db.create_tables([CaptchaChallenge])


HOST_MIGRATIONS = [
    Migration(1, "users, groups, sessions, settings, plugin state", _host_initial),
    Migration(2, "audit log", _audit_log),
    Migration(3, "login captcha challenges", _captcha),
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


STARTUP_LOCK_KEY = 0x686F7374  # "host": PostgreSQL advisory lock shared by every node of a cluster


@contextlib.contextmanager
def startup_lock(db: peewee.Database) -> Iterator[None]:
    """Serialise schema migration and fixture loading between nodes (and processes) starting at once.

    PostgreSQL: a session advisory lock. SQLite: an exclusive ``flock`` on a file beside the database.
    """
    if isinstance(db, peewee.PostgresqlDatabase):
        db.connect(reuse_if_open=True)
        db.execute_sql("SELECT pg_advisory_lock(%s)", (STARTUP_LOCK_KEY,))
        try:
            yield
        finally:
            db.execute_sql("SELECT pg_advisory_unlock(%s)", (STARTUP_LOCK_KEY,))
        return
    path = Path(str(db.database) + ".startup-lock")
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
