"""HTTP benchmark with wrk against real `host serve` processes (gunicorn, 2 sync workers).

Reports, in one run, requests/s and latency percentiles for anonymous GET /rest/api/2/serverInfo and
GET /rest/api/2/myself with a session cookie, Bearer, Basic user:token and Basic user:password, on SQLite and
on PostgreSQL; how Bearer throughput changes from 1,000 to 200,000 stored tokens; the ratios token/session
and token/anonymous; and checks that a token-authenticated request writes nothing to the database.

    python bench/bench_http.py [--seconds 5] [--connections 32] [--databases sqlite,postgresql]

Needs `wrk` (Debian package) and, for PostgreSQL, a server at HOST_TEST_POSTGRES
(default postgresql://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import pg  # noqa: E402
from tests.realserver import RealServer  # noqa: E402

P = "/rest/de.resolution.apitokenauth/latest"
ADMIN = {"Authorization": "Basic " + base64.b64encode(b"admin:admin").decode()}


def wrk(url: str, headers: dict[str, str], seconds: float, connections: int) -> dict[str, float]:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "10s"]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise SystemExit(f"wrk saw {non2xx.group(1)} error responses for {url} {headers}:\n{out}")
    return {"rps": rps, "p50": pct("50"), "p90": pct("90"), "p99": pct("99")}


def fill_tokens(database_url: str, count: int, user_key: str = "JIRAUSER10100") -> None:
    """Insert ``count`` tokens (random digests) straight into the database."""
    now = int(time.time() * 1000)
    rows = [
        (secrets.token_hex(32), user_key, "admin", f"bulk {i}", f"bulk {i}", now, 0, now + 86_400_000, 2)
        for i in range(count)
    ]
    sql = (
        "INSERT INTO apitokenauth_token (digest, user_key, created_by_key, description, description_lower, "
        "created, last_accessed, valid_until, scope) VALUES ({})"
    )
    if database_url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(database_url[len("sqlite:///"):], timeout=30)
        with conn:
            conn.executemany(sql.format(",".join("?" * 9)), rows)
        conn.close()
    else:
        import psycopg

        with psycopg.connect(database_url) as conn, conn.cursor() as cur:
            cur.executemany(sql.format(",".join(["%s"] * 9)), rows)


class WriteProbe:
    """Did anything write to the database between ``start()`` and ``writes()``?

    SQLite: ``PRAGMA data_version`` changes when another connection commits. PostgreSQL: a fingerprint of
    every table's rows (count and a hash of their text), taken before and after.
    """

    def __init__(self, database_url: str) -> None:
        if database_url.startswith("sqlite"):
            import sqlite3

            conn = sqlite3.connect(database_url[len("sqlite:///"):], isolation_level=None)
            self.read = lambda: conn.execute("PRAGMA data_version").fetchone()[0]
        else:
            import psycopg

            conn = psycopg.connect(database_url, autocommit=True)
            tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
            query = " UNION ALL ".join(
                f"SELECT '{t}', count(*), coalesce(sum(hashtext(x::text)::bigint), 0) FROM \"{t}\" x" for t in tables
            )
            self.read = lambda: tuple(conn.execute(query).fetchall())
        self.mark = self.read()

    def start(self) -> None:
        self.mark = self.read()

    def writes(self) -> int:
        """0 if nothing changed, else 1 (SQLite: the number of commits seen by data_version is not exact)."""
        return int(self.read() != self.mark)


def checkpoint(database_url: str) -> None:
    """After a bulk load: fold SQLite's write-ahead log into the database file, or refresh PostgreSQL's
    statistics, as a long-running server would have done by itself."""
    if database_url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(database_url[len("sqlite:///"):], isolation_level=None)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("ANALYZE")
        conn.close()
    else:
        import psycopg

        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")


def run_database(kind: str, seconds: float, connections: int, workers: int, rounds: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-http-{kind}-"))
    if kind == "sqlite":
        database_url = f"sqlite:///{tmp / 'host.sqlite3'}"
    else:
        database_url = pg.create_database("host_bench")
    server = RealServer(tmp, workers=workers, extra_args=("--database-url", database_url))
    server.start()
    try:
        fill_tokens(database_url, 999)
        checkpoint(database_url)
        token = server.request("POST", f"{P}/user/token", json_body={"tokenDescription": "bench"}, headers=ADMIN).json[
            "plainTextToken"
        ]
        cookie = server.request("POST", "/rest/auth/1/session", json_body={"username": "admin", "password": "admin"})
        session = cookie.json["session"]["value"]
        bearer = {"Authorization": f"Bearer {token}"}
        scenarios = {
            "anonymous serverInfo": ("/rest/api/2/serverInfo", {}),
            "myself, session cookie": ("/rest/api/2/myself", {"Cookie": f"JSESSIONID={session}"}),
            "myself, Bearer token": ("/rest/api/2/myself", bearer),
            "myself, Basic user:token": (
                "/rest/api/2/myself",
                {"Authorization": "Basic " + base64.b64encode(f"admin:{token}".encode()).decode()},
            ),
            "myself, Basic user:password": ("/rest/api/2/myself", ADMIN),
        }
        # Warm up (lastAccessed is written once here), then check that token requests write nothing.
        for path, headers in scenarios.values():
            wrk(server.url + path, headers, 1, 4)
        probe = WriteProbe(database_url)
        results: dict[str, dict] = {}

        def measure(name: str, path: str, headers: dict[str, str]) -> None:
            # Rounds interleave the scenarios, and the best round counts: on a shared machine, noise only
            # ever slows a run down.
            probe.start()
            run = wrk(server.url + path, headers, seconds, connections)
            run["writes"] = probe.writes()
            # wrk stops with requests still queued (argon2 ones take long): let both workers drain them
            # before the next scenario starts.
            for _ in range(2 * workers):
                server.request("GET", "/rest/api/2/serverInfo")
            best = results.get(name)
            if best is None or run["rps"] > best["rps"]:
                results[name] = {**run, "writes": max(run["writes"], best["writes"] if best else 0)}
            elif run["writes"]:
                best["writes"] = run["writes"]

        for _ in range(rounds):
            for name, (path, headers) in scenarios.items():
                measure(name, path, headers)
        fill_tokens(database_url, 199_000)
        checkpoint(database_url)
        wrk(server.url + "/rest/api/2/myself", bearer, 2, connections)
        for _ in range(rounds):
            measure("myself, Bearer, 200,000 tokens", "/rest/api/2/myself", bearer)
        return results
    finally:
        server.stop()
        if kind != "sqlite":
            pg.drop_database(database_url)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per scenario; the best counts")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    report = {}
    for kind in args.databases.split(","):
        report[kind] = run_database(kind, args.seconds, args.connections, args.workers, args.rounds)
    print(
        f"wrk -t2 -c{args.connections} -d{args.seconds}s, best of {args.rounds} rounds; "
        f"host serve with {args.workers} gunicorn sync workers"
    )
    for kind, results in report.items():
        print(f"\n{kind}")
        print(f"  {'request':34} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8}")
        for name, r in results.items():
            print(f"  {name:34} {r['rps']:8.0f} {r['p50']:8.2f} {r['p90']:8.2f} {r['p99']:8.2f}")
        bearer = results["myself, Bearer token"]["rps"]
        print(f"  token/anonymous {bearer / results['anonymous serverInfo']['rps']:.2f}  "
              f"token/session {bearer / results['myself, session cookie']['rps']:.2f}  "
              f"token/password {bearer / results['myself, Basic user:password']['rps']:.0f}x  "
              f"200k/1k tokens {results['myself, Bearer, 200,000 tokens']['rps'] / bearer:.2f}")
        writes = {k: v["writes"] for k, v in results.items() if "writes" in v}
        print(f"  database write transactions during each run: {writes}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
