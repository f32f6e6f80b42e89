"""Benchmark of ``GET P/user/tokensByFilter`` on SQLite with 200,000 tokens over 2,000 users.

Calls the WSGI app in process (no network) as an administrator with a session cookie, so the figures are
the query and the envelope, not argon2. Prints median and p95 latency per typical query and SQLite's plan.

    python bench/bench_filter.py [--tokens 200000] [--users 2000] [--repeat 30]
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_auth import P, bench_host, call

from host.config import Config
from host.db import database
from host.models import User

DAY = 86_400_000


def fill(config: Config, n_tokens: int, n_users: int, now: int) -> list[str]:
    from plugins.apitokenauth.models import Token

    rng = random.Random(42)
    users = []
    with database.atomic():
        rows = []
        for i in range(n_users):
            key = f"JIRAUSER{20000 + i}"
            users.append(key)
            rows.append(
                dict(
                    key=key,
                    name=f"user{i}",
                    lower_name=f"user{i}",
                    display_name=f"User {i}",
                    lower_display_name=f"user {i}",
                    email=f"user{i}@example.com",
                    lower_email=f"user{i}@example.com",
                    created=now,
                )
            )
        for start in range(0, len(rows), 500):
            User.insert_many(rows[start : start + 500]).execute()
        words = ["deploy", "backup", "ci pipeline", "report", "sync", "monitoring", "migration", "findme"]
        batch = []
        for i in range(n_tokens):
            created = now - rng.randrange(0, 400 * DAY)
            last = 0 if rng.random() < 0.3 else created + rng.randrange(0, 30 * DAY)
            valid = 0 if rng.random() < 0.02 else created + rng.choice((1, 3, 6, 12)) * 30 * DAY
            description = f"{rng.choice(words)} token {i}"
            batch.append(
                dict(
                    digest=secrets.token_hex(32),
                    user_key=rng.choice(users),
                    created_by_key="admin",
                    description=description,
                    description_lower=description.lower(),
                    created=created,
                    last_accessed=last,
                    valid_until=valid,
                    scope=rng.choice((0, 1, 2, 2)),
                )
            )
            if len(batch) == 1000:
                Token.insert_many(batch).execute()
                batch = []
        if batch:
            Token.insert_many(batch).execute()
    database.execute_sql("ANALYZE")
    return users


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=200_000)
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    host = bench_host("filter")
    config = host.config
    now = int(time.time() * 1000)
    t0 = time.perf_counter()
    users = fill(config, args.tokens, args.users, now)
    print(f"filled {args.tokens} tokens over {args.users} users in {time.perf_counter() - t0:.1f}s")
    _, body, _ = call(
        host.app, "POST", "/rest/auth/1/session", {}, json.dumps({"username": "admin", "password": "admin"}).encode()
    )
    session = {"Cookie": "JSESSIONID=" + json.loads(body)["session"]["value"]}

    month_ago, next_month = now - 30 * DAY, now + 30 * DAY
    queries = {
        "first page, no filter": "",
        "one user": f"userFilter={users[7]}",
        "three users": f"userFilter={users[1]}&userFilter={users[2]}&userFilter={users[3]}",
        "expiring next 30 days": f"fromExpiresDuring={now}&untilExpiresDuring={next_month}",
        "notValidAfter now": f"notValidAfter={now}",
        "created last 30 days, scope 1": f"fromCreated={month_ago}&untilCreated={now}&tokenScope=1",
        "unused since 30 days (lastUsed range)": f"fromLastUsed=1&untilLastUsed={month_ago}",
        "description contains 'findme'": "descriptionFilter=findme",
        "page 100 of everything": "page=100&limit=50",
        "guide example (all but notValidAfter)": (
            f"userFilter={users[7]}&userFilter={users[8]}&fromCreated={now - 400 * DAY}&untilCreated={now}"
            f"&descriptionFilter=token&tokenScope=2&fromLastUsed=1&untilLastUsed={now}"
            f"&fromExpiresDuring={now}&untilExpiresDuring={now + 400 * DAY}"
        ),
    }
    print(f"{'query':42} {'total':>7} {'p50 ms':>8} {'p95 ms':>8}")
    worst = 0.0
    for name, qs in queries.items():
        samples = []
        total = None
        for _ in range(args.repeat):
            environ_path = f"{P}/user/tokensByFilter"
            t = time.perf_counter()
            status, out, _ = call(host.app, "GET", environ_path, session, query=qs)
            samples.append((time.perf_counter() - t) * 1000)
            assert status.startswith("200"), (status, out[:200])
            total = json.loads(out)["total"]
        samples.sort()
        p50, p95 = statistics.median(samples), samples[int(len(samples) * 0.95) - 1]
        worst = max(worst, p50)
        print(f"{name:42} {total:7d} {p50:8.1f} {p95:8.1f}")
    print(f"slowest median: {worst:.1f} ms")


if __name__ == "__main__":
    main()
