"""PostgreSQL for tests: each test session (and each real server) gets its own database, dropped after.

``HOST_TEST_DATABASE=postgresql`` runs the in-process suite on PostgreSQL instead of SQLite; the server is
``HOST_TEST_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``, as on CI).
"""

from __future__ import annotations

import os
import uuid
from urllib.parse import urlparse, urlunparse

import psycopg

ADMIN_URL = os.environ.get("HOST_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def using_postgres() -> bool:
    return os.environ.get("HOST_TEST_DATABASE", "sqlite").lower() in ("postgres", "postgresql", "pg")


def url_for(name: str) -> str:
    return urlunparse(urlparse(ADMIN_URL)._replace(path=f"/{name}"))


def create_database(prefix: str = "host_test") -> str:
    """Create a fresh, uniquely named database; returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url_for(name)


def drop_database(url: str) -> None:
    name = urlparse(url).path.lstrip("/")
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def reset_database(url: str) -> None:
    """Drop every table, so that the next host migrates a brand-new schema, exactly as on a new database
    (tests of plugins and migrations depend on that; it is as fast as emptying the tables)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
