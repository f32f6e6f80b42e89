"""Crash safety: a mixed load of creates, renames, deletes and token-authenticated requests from several threads
against a real ``host serve`` (4 workers, SQLite) while one worker, and then the whole server, is killed with
SIGKILL. After a restart on the same data every acknowledged token works, every acknowledged deletion holds,
every acknowledged rename is kept, and the database is intact.

A request that got no answer (connection refused or reset) is "unacknowledged": either outcome is accepted
for it. Every answer the server did give must be the expected one.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import sqlite3
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field

import pytest

from tests.realserver import RealServer

P = "/rest/de.resolution.apitokenauth/latest"
THREADS = 6
MAX_OPERATIONS_PER_THREAD = 1000  # bounds the load whatever happens
pytestmark = pytest.mark.server


class NoAnswer(Exception):
    """The server gave no HTTP answer (killed, restarting worker, refused connection)."""


def call(url: str, method: str, path: str, headers: dict[str, str], body: object = None) -> tuple[int, object]:
    data = None if body is None else json.dumps(body).encode()
    hdrs = dict(headers)
    if data is not None:
        hdrs["Content-Type"] = "application/json"
    req = urllib.request.Request(url + path, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    except (OSError, http.client.HTTPException) as exc:  # URLError, reset, refused, incomplete read
        raise NoAnswer(repr(exc)) from None
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw


@dataclass
class Token:
    id: int
    secret: str
    owner: str
    descriptions: set[str]  # the acknowledged description, plus any later rename that got no answer


@dataclass
class Ledger:
    """What one load thread was told by the server."""

    live: list[Token] = field(default_factory=list)  # acknowledged created, not (attempted to be) deleted
    deleted: list[Token] = field(default_factory=list)  # acknowledged deletions
    unknown: list[Token] = field(default_factory=list)  # deletion sent, no answer
    wrong: list[str] = field(default_factory=list)  # answers that were not the expected ones
    operations: int = 0
    answered: int = 0


PROGRESS = threading.Condition()  # notified at every answer: the test waits on it instead of sleeping


def load(url: str, user: str, password: str, number: int, stop: threading.Event, ledger: Ledger) -> None:
    basic = {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}

    def expect(what: str, status: int, body: object, wanted: int) -> bool:
        with PROGRESS:
            ledger.answered += 1
            PROGRESS.notify_all()
        if status != wanted:
            ledger.wrong.append(f"{what}: {status} {str(body)[:200]}")
            return False
        return True

    # The thread's own credential for the load: a token (Bearer is cheap; a password costs an argon2 hash).
    status, body = call(url, "POST", f"{P}/user/token", basic, {"tokenDescription": f"load {number}"})
    if not expect("create the load token", status, body, 200):
        return
    own = {"Authorization": f"Bearer {body['plainTextToken']}"}
    step = 0
    while not stop.is_set() and ledger.operations < MAX_OPERATIONS_PER_THREAD:
        ledger.operations += 1
        step += 1
        kind = step % 5  # create, rename, authenticate, create, delete: the live set grows
        try:
            if kind in (0, 3) or not ledger.live:
                description = f"t{number}-{step}"
                status, body = call(url, "POST", f"{P}/user/token", own, {"tokenDescription": description})
                if expect("create", status, body, 200):
                    ledger.live.append(Token(body["id"], body["plainTextToken"], user, {description}))
            elif kind == 1:
                token = ledger.live[step % len(ledger.live)]
                description = f"renamed t{number}-{step}"
                token.descriptions.add(description)  # possible from now on, even if no answer comes
                status, body = call(url, "PATCH", f"{P}/user/token/{token.id}", own, {"tokenDescription": description})
                if expect("rename", status, body, 200):
                    token.descriptions = {description}
            elif kind == 2:
                token = ledger.live[step % len(ledger.live)]
                status, body = call(url, "GET", "/rest/api/2/myself", {"Authorization": f"Bearer {token.secret}"})
                if expect("authenticate", status, body, 200) and body["name"] != user:
                    ledger.wrong.append(f"token {token.id} authenticated {body['name']}, not {user}")
            elif len(ledger.live) > 3:
                token = ledger.live.pop(step % len(ledger.live))
                ledger.unknown.append(token)
                status, body = call(url, "DELETE", f"{P}/user/token/{token.id}", own)
                if expect("delete", status, body, 200):
                    ledger.unknown.remove(token)
                    ledger.deleted.append(token)
        except NoAnswer:
            continue


def test_acknowledged_writes_survive_sigkill_of_a_worker_and_of_the_server(tmp_path):
    data = tmp_path / "data"
    server = RealServer(data, workers=4).start()
    try:
        workers = server.worker_pids()
        assert len(workers) == 4, workers
        stop = threading.Event()
        users = [("alice", "alice"), ("bob", "bob")]
        ledgers = [Ledger() for _ in range(THREADS)]
        threads = [
            threading.Thread(
                target=load, args=(server.url, *users[n % 2], n, stop, ledgers[n]), name=f"load-{n}", daemon=True
            )
            for n in range(THREADS)
        ]
        for thread in threads:
            thread.start()

        def answered() -> int:
            return sum(ledger.answered for ledger in ledgers)

        def wait_for(condition, what: str, seconds: float = 60) -> None:
            with PROGRESS:
                assert PROGRESS.wait_for(condition, timeout=seconds), f"timed out waiting for {what}"

        wait_for(lambda: answered() >= 150, "the load to start")
        os.kill(workers[0], signal.SIGKILL)
        before = answered()
        # gunicorn replaces the killed worker; the load goes on meanwhile.
        wait_for(lambda: len(set(server.worker_pids()) - set(workers)) == 1, "gunicorn to replace the worker")
        wait_for(lambda: answered() >= before + 200, "the load to go on after the worker was killed")
        assert all(thread.is_alive() for thread in threads), "a load thread ended early"

        os.killpg(server.proc.pid, signal.SIGKILL)  # the arbiter and every worker, in the middle of the load
        server.proc.wait(15)
        stop.set()
        for thread in threads:
            thread.join(60)
            assert not thread.is_alive()
    finally:
        server.stop()

    wrong = [line for ledger in ledgers for line in ledger.wrong]
    assert not wrong, wrong  # every answer given during the load, before and after the worker died, was right
    live = [token for ledger in ledgers for token in ledger.live]
    deleted = [token for ledger in ledgers for token in ledger.deleted]
    assert len(live) >= 30 and len(deleted) >= 10, (len(live), len(deleted))

    restarted = RealServer(data, workers=2).start()  # the same data folder (fixtures load only into an empty DB)
    try:
        for token in live:
            status, body = call(restarted.url, "GET", "/rest/api/2/myself", {"Authorization": f"Bearer {token.secret}"})
            assert (status, body["name"]) == (200, token.owner), (token.id, status, body)
        for token in deleted:
            status, _ = call(restarted.url, "GET", "/rest/api/2/myself", {"Authorization": f"Bearer {token.secret}"})
            assert status == 401, (token.id, status)
        for user in ("alice", "bob"):
            auth = {"Authorization": "Basic " + base64.b64encode(f"{user}:{user}".encode()).decode()}
            status, listed = call(restarted.url, "GET", f"{P}/user/token", auth)
            assert status == 200
            stored = {entry["id"]: entry["description"] for entry in listed}
            for token in live:
                if token.owner == user:
                    assert stored.get(token.id) in token.descriptions, (token.id, stored.get(token.id))
            for token in deleted:
                assert token.id not in stored
    finally:
        restarted.stop()

    with sqlite3.connect(data / "host.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
