"""Shared fixtures: a real temporary SQLite database per test, a fast argon2 context, an injected clock."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest
import webtest

from host.app import create_app
from host.config import Config
from host.fixtures import load_fixtures
from host.passwords import FAST_TEST_PARAMS, PasswordHasher

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


@pytest.fixture
def make_host(tmp_path, clock):
    """Build a host on a fresh database; extra keyword arguments go to ``create_app``."""
    built = []

    def _make(**kwargs: Any):
        config = Config(
            data_dir=tmp_path,
            database_url=f"sqlite:///{tmp_path / 'host.sqlite3'}",
            base_url=BASE_URL,
            secret=b"test-server-secret",
        )
        host = create_app(config, hasher=PasswordHasher(**FAST_TEST_PARAMS), clock=clock, **kwargs)
        load_fixtures(host)
        built.append(host)
        return host

    yield _make
    for host in built:
        host.db.close()


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
