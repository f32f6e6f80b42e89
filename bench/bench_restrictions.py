"""What each per-token restriction costs: the WSGI app called in process (no network, one process).

Measures Bearer-authenticated ``GET /rest/api/2/myself`` with
  (a) a token without restrictions,
  (b) a token with IP ranges and header rules,
  (c) a token with a rate limit (rate limiting on, a bucket too big to trip),
  (d) a token with all of them, plus the global allow-list and a trusted proxy's X-Forwarded-For,
side by side in one run: the scenarios take turns for several rounds so that drift hits each alike, and all
send the same headers (only the checks differ). Reports requests/s, p50 and p99 latency and the SQL statements
each request runs (the rate limit must add exactly one write and nothing else).

    python bench/bench_restrictions.py [--seconds 2] [--rounds 5]
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_auth import StatementCounter, bench_host, call  # noqa: E402


P = "/rest/de.resolution.apitokenauth/latest"
PLUGIN = "de.resolution.apitokenauth"
MYSELF = "/rest/api/2/myself"
IP_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "2001:db8::/32", "127.0.0.0/8"]
HEADER_RULES = [
    {"headerName": "X-Ci-Runner", "headerValue": "runner-42"},
    {"headerName": "X-Env", "headerValue": "prod"},
]
BUCKET = {"rateLimitBucketSize": 1_000_000_000, "rateLimitBucketLifetime": 86_400}
# Every scenario sends the same headers, so that only the checks differ.
CLIENT_HEADERS = {"X-Ci-Runner": "runner-42", "X-Env": "prod"}


@dataclass
class Scenario:
    name: str
    body: dict[str, Any]  # the token's restrictions
    settings: dict[str, Any]  # the plugin settings it runs under
    headers: dict[str, str] = field(default_factory=lambda: dict(CLIENT_HEADERS))  # besides Authorization
    remote_addr: str = "127.0.0.1"
    samples: list[float] = field(default_factory=list)
    reads: int = 0
    writes: int = 0


NO_GLOBAL = {"allowedIpRanges": [], "trustedProxies": []}
SCENARIOS = [
    Scenario("(a) no restrictions", {}, {"rateLimitEnabled": False, **NO_GLOBAL}),
    Scenario(
        "(b) IP ranges + header rules",
        {"allowedIpRanges": IP_RANGES, "headerValueAccessRules": HEADER_RULES},
        {"rateLimitEnabled": False, **NO_GLOBAL},
    ),
    Scenario("(c) rate limit", BUCKET, {"rateLimitEnabled": True, **NO_GLOBAL}),
    Scenario(
        "(d) all + global list + proxy",
        {"allowedIpRanges": IP_RANGES, "headerValueAccessRules": HEADER_RULES, **BUCKET},
        {"rateLimitEnabled": True, "allowedIpRanges": ["10.0.0.0/8"], "trustedProxies": ["192.168.0.0/16"]},
        {**CLIENT_HEADERS, "X-Forwarded-For": "10.1.2.3, 192.168.7.7"},
        remote_addr="192.168.0.1",
    ),
]


def request(app: Any, scenario: Scenario, token: str) -> str:
    headers = {"Authorization": f"Bearer {token}", **scenario.headers}
    status, _, _ = call(app, "GET", MYSELF, headers, remote_addr=scenario.remote_addr)
    return status


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds per scenario per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    host = bench_host("restrictions")
    app = host.app
    admin = {"Authorization": "Basic " + base64.b64encode(b"admin:admin").decode()}

    tokens = {}
    for scenario in SCENARIOS:
        body = json.dumps({"tokenDescription": scenario.name, **scenario.body}).encode()
        status, out, _ = call(app, "POST", f"{P}/user/token", admin, body)
        assert status.startswith("200"), out
        tokens[scenario.name] = json.loads(out)["plainTextToken"]

    for scenario in SCENARIOS:  # warm up (lastAccessed written once), then count the statements of one request
        host.settings.update(PLUGIN, scenario.settings)
        token = tokens[scenario.name]
        for _ in range(50):
            assert request(app, scenario, token).startswith("200")
        with StatementCounter() as counter:
            status = request(app, scenario, token)
        assert status.startswith("200"), status
        statements = [s for s in counter.statements if "host_setting" not in s and "host_plugin_state" not in s]
        scenario.reads = sum(s.lstrip().upper().startswith("SELECT") for s in statements)
        scenario.writes = len(statements) - scenario.reads

    for _ in range(args.rounds):
        for scenario in SCENARIOS:
            host.settings.update(PLUGIN, scenario.settings)
            token = tokens[scenario.name]
            deadline = time.perf_counter() + args.seconds
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                status = request(app, scenario, token)
                scenario.samples.append(time.perf_counter() - t0)
                assert status.startswith("200"), (scenario.name, status)

    base = len(SCENARIOS[0].samples) / sum(SCENARIOS[0].samples)
    print(f"{args.rounds} rounds x {args.seconds:g} s per scenario, SQLite, one process")
    columns = ("req/s", 8), ("vs (a)", 7), ("p50 µs", 8), ("p99 µs", 8), ("SQL reads", 10), ("writes", 7)
    print(f"{'Bearer GET /myself':32}" + "".join(f" {title:>{width}}" for title, width in columns))
    for scenario in SCENARIOS:
        samples = sorted(scenario.samples)
        per_second = len(samples) / sum(samples)
        print(
            f"{scenario.name:32} {per_second:8.0f} {per_second / base:7.2f} {samples[len(samples) // 2] * 1e6:8.0f} "
            f"{samples[int(len(samples) * 0.99)] * 1e6:8.0f} {scenario.reads:10d} {scenario.writes:7d}"
        )
    by_name = {s.name: s for s in SCENARIOS}
    plain, limited = by_name["(a) no restrictions"], by_name["(c) rate limit"]
    if (plain.reads, plain.writes) != (1, 0) or (limited.reads, limited.writes) != (1, 1):
        raise SystemExit("FAIL: a token request must be 1 read; the rate limit must add exactly 1 write")


if __name__ == "__main__":
    main()
