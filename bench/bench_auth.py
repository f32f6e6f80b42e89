"""Benchmark of authentication on the WSGI app in-process (no network, one process).

Fills a temporary SQLite database with N tokens, then reports per-request latency of
``GET /rest/api/2/myself`` authenticated by Bearer token, Basic user:token, session cookie and password,
next to anonymous ``GET /rest/api/2/serverInfo``; counts the SQL statements a token-authenticated request
runs (must be 1 read, 0 writes) and prints SQLite's plan for the token lookup (must use the unique index).

    python bench/bench_auth.py [--tokens 10000] [--seconds 2]
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from host.app import create_app
from host.config import Config
from host.db import database
from host.fixtures import load_fixtures

P = "/rest/de.resolution.apitokenauth/latest"


def call(
    app,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes = b"",
    query: str = "",
    remote_addr: str = "127.0.0.1",
) -> tuple[str, bytes, list]:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "bench",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": remote_addr,
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json" if body else "",
    }
    for name, value in headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    result = {}

    def start_response(status, hdrs, exc_info=None):
        result["status"], result["headers"] = status, hdrs

    out = b"".join(app(environ, start_response))
    return result["status"], out, result["headers"]


def measure(app, path: str, headers: dict[str, str], seconds: float) -> dict[str, float]:
    samples = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        t0 = time.perf_counter()
        status, _, _ = call(app, "GET", path, headers)
        samples.append(time.perf_counter() - t0)
        assert status.startswith("200"), status
    samples.sort()
    return {
        "requests": len(samples),
        "per_second": len(samples) / sum(samples),
        "p50_us": samples[len(samples) // 2] * 1e6,
        "p99_us": samples[int(len(samples) * 0.99)] * 1e6,
        "mean_us": statistics.fmean(samples) * 1e6,
    }


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []
        self._original = None

    def __enter__(self):
        db = database.obj
        self._original = db.execute_sql

        def counting(sql, params=None, *args, **kwargs):
            self.statements.append(sql)
            return self._original(sql, params, *args, **kwargs)

        db.execute_sql = counting
        return self

    def __exit__(self, *exc):
        database.obj.execute_sql = self._original


def bench_host(name: str):
    """A host with the demo fixtures on a new SQLite file, with production password hashing."""
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    config = Config(
        data_dir=tmp,
        database_url=f"sqlite:///{tmp / 'bench.sqlite3'}",
        base_url="http://bench",
        secret=secrets.token_bytes(32),
    )
    host = create_app(config)
    load_fixtures(host)
    return host


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=10000)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()

    host = bench_host("auth")
    config = host.config
    app = host.app
    admin = {"Authorization": "Basic " + base64.b64encode(b"admin:admin").decode()}

    # Bulk-fill tokens directly (digests of random tokens), then create one real token through the API.
    from plugins.apitokenauth import tokens as tk
    from plugins.apitokenauth.models import Token

    now = int(time.time() * 1000)
    rows = [
        dict(
            digest=tk.digest(config.secret, tk.generate()),
            user_key="JIRAUSER10100",
            created_by_key="admin",
            description=f"bulk {i}",
            created=now,
            valid_until=now + 86400_000,
            scope=2,
        )
        for i in range(args.tokens)
    ]
    with database.atomic():
        for start in range(0, len(rows), 500):
            Token.insert_many(rows[start : start + 500]).execute()
    status, body, _ = call(app, "POST", f"{P}/user/token", admin, json.dumps({"tokenDescription": "bench"}).encode())
    token = json.loads(body)["plainTextToken"]
    status, body, hdrs = call(
        app, "POST", "/rest/auth/1/session", {}, json.dumps({"username": "admin", "password": "admin"}).encode()
    )
    cookie = json.loads(body)["session"]["value"]

    bearer = {"Authorization": f"Bearer {token}"}
    basic_token = {"Authorization": "Basic " + base64.b64encode(f"admin:{token}".encode()).decode()}
    session = {"Cookie": f"JSESSIONID={cookie}"}

    # Warm up (lastAccessed is written once here; then not again within the interval).
    for headers in (bearer, basic_token, session):
        call(app, "GET", "/rest/api/2/myself", headers)
    with StatementCounter() as counter:
        call(app, "GET", "/rest/api/2/myself", bearer)
    reads = [s for s in counter.statements if s.lstrip().upper().startswith("SELECT")]
    writes = [s for s in counter.statements if not s.lstrip().upper().startswith("SELECT")]
    plan = database.execute_sql(
        "EXPLAIN QUERY PLAN SELECT id FROM apitokenauth_token WHERE digest = ?", ("x" * 64,)
    ).fetchall()

    results = {
        "anonymous serverInfo": measure(app, "/rest/api/2/serverInfo", {}, args.seconds),
        "myself, Bearer token": measure(app, "/rest/api/2/myself", bearer, args.seconds),
        "myself, Basic user:token": measure(app, "/rest/api/2/myself", basic_token, args.seconds),
        "myself, session cookie": measure(app, "/rest/api/2/myself", session, args.seconds),
        "myself, Basic user:password": measure(app, "/rest/api/2/myself", admin, min(args.seconds, 2.0)),
    }
    print(f"tokens in the database: {args.tokens + 1}")
    print(f"SQL per Bearer-authenticated /myself: {len(reads)} read(s), {len(writes)} write(s)")
    print(f"token lookup plan: {[row[-1] for row in plan]}")
    print(f"{'request':32} {'req/s':>9} {'p50 µs':>9} {'p99 µs':>9}")
    for name, r in results.items():
        print(f"{name:32} {r['per_second']:9.0f} {r['p50_us']:9.0f} {r['p99_us']:9.0f}")
    anon = results["anonymous serverInfo"]["per_second"]
    print(
        f"Bearer / anonymous: {results['myself, Bearer token']['per_second'] / anon:.2f}; "
        f"Bearer / session: {results['myself, Bearer token']['per_second'] / results['myself, session cookie']['per_second']:.2f}; "
        f"Bearer / password: {results['myself, Bearer token']['per_second'] / results['myself, Basic user:password']['per_second']:.0f}x"
    )
    if len(reads) != 1 or writes:
        raise SystemExit("FAIL: token verification must be exactly one read and no write")


if __name__ == "__main__":
    main()
