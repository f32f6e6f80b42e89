"""The add-on's numbered migrations (applied by the host, recorded per component)."""

from __future__ import annotations

import peewee
from playhouse.migrate import SchemaMigrator, migrate

from host.migrations import Migration

from .models import Token


TOKEN_TABLE_V1 = """CREATE TABLE IF NOT EXISTS apitokenauth_token (
    id {pk},
    digest VARCHAR(64) NOT NULL,
    user_key VARCHAR(255) NOT NULL,
    created_by_key VARCHAR(255) NOT NULL,
    description VARCHAR(255) NOT NULL,
    created BIGINT NOT NULL,
    last_accessed BIGINT NOT NULL DEFAULT 0,
    valid_until BIGINT NOT NULL,
    scope SMALLINT NOT NULL DEFAULT 2,
    validity_months INTEGER NOT NULL DEFAULT 0,
    expiration_text VARCHAR(64),
    allowed_ip_ranges TEXT NOT NULL DEFAULT '[]',
    header_rules TEXT NOT NULL DEFAULT '[]',
    rate_limit_size INTEGER NOT NULL DEFAULT 0,
    rate_limit_lifetime INTEGER NOT NULL DEFAULT 0,
    encrypted BOOLEAN NOT NULL DEFAULT FALSE
)"""


def _create_token_table(db: peewee.Database) -> None:
    """The table as first shipped (frozen SQL, not the model: later columns come from later migrations)."""
    postgres = isinstance(db, peewee.PostgresqlDatabase)
    db.execute_sql(TOKEN_TABLE_V1.format(pk="SERIAL PRIMARY KEY" if postgres else "INTEGER PRIMARY KEY AUTOINCREMENT"))
    for column in ("digest", "user_key", "created", "last_accessed", "valid_until"):
        unique = "UNIQUE " if column == "digest" else ""
        db.execute_sql(
            f"CREATE {unique}INDEX IF NOT EXISTS apitokenauth_token_{column} ON apitokenauth_token ({column})"
        )


def _filter_support(db: peewee.Database) -> None:
    """tokensByFilter: a lower-cased description, and (scope, time) indexes so that a scope filter with a
    time range is answered, count included, from one index."""
    migrator = SchemaMigrator.from_database(db)
    migrate(migrator.add_column("apitokenauth_token", "description_lower", Token.description_lower))
    # Python's lower(), not SQL's: SQLite lower-cases ASCII only.
    for token_id, description in Token.select(Token.id, Token.description).tuples().iterator():
        Token.update(description_lower=description.lower()).where(Token.id == token_id).execute()
    for column in ("created", "last_accessed", "valid_until"):
        db.execute_sql(
            f"CREATE INDEX IF NOT EXISTS apitokenauth_token_scope_{column} ON apitokenauth_token (scope, {column})"
        )


def _rate_limit_buckets(db: peewee.Database) -> None:
    """One bucket row per rate-limited token, shared by every worker and node."""
    db.execute_sql(
        "CREATE TABLE IF NOT EXISTS apitokenauth_rate_bucket ("
        "token_id INTEGER PRIMARY KEY REFERENCES apitokenauth_token (id) ON DELETE CASCADE, "
        "window_start BIGINT NOT NULL, hits INTEGER NOT NULL)"
    )


MIGRATIONS = [
    Migration(1, "token table", _create_token_table),
    Migration(2, "tokensByFilter: lower-cased description, scope/time indexes", _filter_support),
    Migration(3, "rate-limit buckets", _rate_limit_buckets),
]
