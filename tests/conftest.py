"""Shared fixtures: a real temporary SQLite database per test, a fast argon2 context, an injected clock."""

from __future__ import annotations

import base64
import contextlib
import time
from collections.abc import Iterator
from typing import Any

import pytest
import webtest

from host.app import create_app
from host.config import Config
from host.db import close_database
from host.fixtures import load_fixtures
from host.passwords import FAST_TEST_PARAMS, PasswordHasher
from tests import pg

P = "/rest/de.resolution.apitokenauth/latest"
BASE_URL = "http://jira.test"


class Clock:
    """Epoch milliseconds the host reads; tests move it instead of sleeping."""

    def __init__(self) -> None:
        self.now = int(time.time() * 1000)

    def __call__(self) -> int:
        return self.now

    def advance(self, *, seconds: float = 0, days: float = 0) -> None:
        self.now += int((seconds + days * 86400) * 1000)


def basic(user: str, secret: str) -> dict[str, str]:
    raw = f"{user}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


ADMIN = basic("admin", "admin")
ALICE = basic("alice", "alice")
BOB = basic("bob", "bob")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
def postgres_database():
    """With HOST_TEST_DATABASE=postgresql: one database for the session, emptied before each test."""
    if not pg.using_postgres():
        yield None
        return
    url = pg.create_database()
    yield url
    pg.drop_database(url)


@pytest.fixture
def database_url(tmp_path, postgres_database) -> str:
    """A fresh, empty database for this test: a SQLite file, or the emptied PostgreSQL test database."""
    if postgres_database is None:
        return f"sqlite:///{tmp_path / 'host.sqlite3'}"
    pg.reset_database(postgres_database)
    return postgres_database


@pytest.fixture
def make_host(tmp_path, clock, database_url):
    """Build a host on a fresh database; extra keyword arguments go to ``create_app``."""
    built = []

    def _make(**kwargs: Any):
        config = Config(
            data_dir=tmp_path,
            database_url=database_url,
            base_url=BASE_URL,
            secret=b"test-server-secret",
        )
        host = create_app(config, hasher=PasswordHasher(**FAST_TEST_PARAMS), clock=clock, **kwargs)
        load_fixtures(host)
        built.append(host)
        return host

    yield _make
    for host in built:
        close_database(host.db)


@pytest.fixture
def host(make_host):
    return make_host()


@pytest.fixture
def app(host) -> webtest.TestApp:
    return webtest.TestApp(host.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})


@pytest.fixture
def create_token(app):
    """POST P/user/token as ``auth`` (headers) with ``body``; returns the JSON response (status 200)."""

    def _create(auth: dict[str, str] = ADMIN, **body: Any) -> dict[str, Any]:
        return app.post_json(f"{P}/user/token", body, headers=auth, status=200).json

    return _create


@contextlib.contextmanager
def sql_trace(host) -> Iterator[list[str]]:
    """Record every SQL statement the host's database runs (any backend), as text."""
    statements: list[str] = []
    db = host.db
    original = db.execute_sql

    def traced(sql, params=None, *args, **kwargs):
        statements.append(sql)
        return original(sql, params, *args, **kwargs)

    db.execute_sql = traced
    try:
        yield statements
    finally:
        del db.execute_sql  # back to the class's method
