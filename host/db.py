"""The database: one peewee ``DatabaseProxy`` every model binds to, initialised by the app factory."""

from __future__ import annotations

from urllib.parse import unquote, urlparse

import peewee

database = peewee.DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",  # readers never block the single writer; several worker processes share the file
    "synchronous": "normal",  # durable at checkpoints; the WAL survives a process crash
    "busy_timeout": 10000,  # ms a writer waits for another process's write lock
    "foreign_keys": 1,
    "cache_size": -16000,
}


class BaseModel(peewee.Model):
    class Meta:
        database = database
        legacy_table_names = False


def open_database(url: str) -> peewee.Database:
    """Build (not connect) the database named by ``url``: ``sqlite:///path`` or ``postgresql://...``."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else parsed.path
        if not path:
            raise ValueError(f"database URL {url!r} names no file")
        return peewee.SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, check_same_thread=False)
    if parsed.scheme in ("postgres", "postgresql"):
        from playhouse.pool import PooledPostgresqlDatabase

        name = unquote(parsed.path.lstrip("/"))
        if not name:
            raise ValueError(f"database URL {url!r} names no database")
        # peewee's pool over psycopg 3: each worker process keeps its connections open across requests.
        return PooledPostgresqlDatabase(
            name,
            user=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 5432,
            max_connections=16,
            stale_timeout=300,
            prefer_psycopg3=True,
            application_name="host",
        )
    raise ValueError(f"unsupported database URL scheme {parsed.scheme!r} (use sqlite:/// or postgresql://)")


def init_database(url: str) -> peewee.Database:
    db = open_database(url)
    database.initialize(db)
    return db


def is_postgres(db: peewee.Database | None = None) -> bool:
    target = db if db is not None else database.obj
    return isinstance(target, peewee.PostgresqlDatabase)


def close_database(db: peewee.Database) -> None:
    """Close every connection: all of a pool's, or the one of a plain database (e.g. before fork())."""
    close_all = getattr(db, "close_all", None)
    if close_all is not None:
        close_all()
    else:
        db.close()
