"""`make soak`: sustained mixed load against gunicorn for a bounded time (not in CI).

    python -m tests.reliability.soak [--duration 180] [--clients 8] [--workers 2] [--threads 4]

Creates a throwaway database on DATABASE_URL's server, serves it with gunicorn (worker
recycling off, so the same worker processes are measured from start to end) and runs
`--clients` threads of mixed traffic: login, refresh rotation, contact list / create / read /
update as a person (JWT) and as an API key, key listing. Reports request and error counts,
5xx, p50/p99 latency per operation, and each worker's RSS (VmRSS) after warm-up and at the end.
Exits non-zero on any 5xx, on unexpected statuses, or if worker memory grew more than
--max-rss-growth percent.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict

from tests.reliability.harness import (
    OPEN_THROTTLES,
    Client,
    children,
    create_api_key,
    create_person,
    live_server,
    login,
    rss_kib,
    standalone_database,
)

PASSWORD = "correct horse battery staple"
# (operation, weight): what a busy integration and its users do.
MIX = [
    ("login", 3),
    ("refresh", 8),
    ("list_jwt", 25),
    ("list_key", 15),
    ("create_jwt", 12),
    ("create_key", 8),
    ("read", 15),
    ("patch", 8),
    ("keys", 4),
    ("activity", 2),
]
EXPECTED = {"create_jwt": 201, "create_key": 201}


class Soak:
    def __init__(self, url: str, emails: list[str], key: str, seed: int) -> None:
        self.url, self.emails, self.key = url, emails, key
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.statuses: Counter = Counter()
        self.unexpected: Counter = Counter()
        self.shed = 0  # logins answered 429 + Retry-After under hashing contention (by design)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.random = random.Random(seed)
        self.contact_ids: list[str] = []

    def run_client(self, index: int) -> None:
        rng = random.Random(self.random.random())
        email = self.emails[index % len(self.emails)]
        ops, weights = zip(*MIX, strict=True)
        with Client(self.url, timeout=30) as http:
            pair = self._login(http, email)
            while not self.stop.is_set():
                op = rng.choices(ops, weights)[0]
                pair = self._one(http, op, pair, email, rng) or pair

    def _login(self, http: Client, email: str) -> dict:
        """Log in; a 429 is the server shedding password hashes (login_busy: none started within
        LOGIN_QUEUE_TIMEOUT): honour Retry-After and try again, as a client should."""
        for _ in range(20):
            response = self._timed(
                "login", http.post, "/api/auth/login/", json={"email": email, "password": PASSWORD}
            )
            if response is None or response.status_code != 429:
                break
            time.sleep(float(response.headers.get("Retry-After", "1")))
        return response.json() if response is not None and response.status_code == 200 else {}

    def _timed(self, op: str, method, *args, **kwargs):
        started = time.perf_counter()
        try:
            response = method(*args, **kwargs)
        except Exception as exc:  # every failure is counted, none stops the soak
            with self.lock:
                self.statuses[f"no answer ({type(exc).__name__})"] += 1
                self.unexpected[(op, "no answer")] += 1
            return None
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latencies[op].append(elapsed)
            self.statuses[response.status_code] += 1
            if op == "login" and response.status_code == 429 and "Retry-After" in response.headers:
                self.shed += 1
            elif response.status_code != EXPECTED.get(op, 200):
                self.unexpected[(op, response.status_code)] += 1
        return response

    def _one(self, http: Client, op: str, pair: dict, email: str, rng) -> dict | None:
        jwt = {"Authorization": f"Bearer {pair.get('access', '')}"}
        key = {"Authorization": f"Bearer {self.key}"}
        if op == "login":
            return self._login(http, email)
        if op == "refresh":
            response = self._timed(
                op, http.post, "/api/auth/token/refresh/", json={"refresh": pair.get("refresh")}
            )
            return (
                response.json()
                if response is not None and response.status_code == 200
                else (self._login(http, email))
            )
        if op in ("list_jwt", "list_key"):
            params = {"pageSize": rng.choice([10, 50]), "search": rng.choice(["", "soak", "co"])}
            self._timed(
                op,
                http.get,
                "/api/contacts/",
                params=params,
                headers=(jwt if op == "list_jwt" else key),
            )
        elif op in ("create_jwt", "create_key"):
            body = {"firstName": f"Soak{rng.randrange(10**6)}", "company": "Soak Co"}
            response = self._timed(
                op,
                http.post,
                "/api/contacts/",
                json=body,
                headers=jwt if op == "create_jwt" else key,
            )
            if response is not None and response.status_code == 201:
                with self.lock:
                    self.contact_ids.append(response.json()["id"])
        elif op in ("read", "patch"):
            with self.lock:
                target = rng.choice(self.contact_ids) if self.contact_ids else None
            if target is None:
                return None
            if op == "read":
                self._timed(op, http.get, f"/api/contacts/{target}/", headers=key)
            else:
                self._timed(
                    op,
                    http.patch,
                    f"/api/contacts/{target}/",
                    json={"notes": f"n{rng.randrange(10**6)}"},
                    headers=jwt,
                )
        elif op == "keys":
            self._timed(op, http.get, "/api/api-keys/", headers=jwt)
        elif op == "activity":
            self._timed(op, http.get, "/api/activity/", params={"pageSize": 20}, headers=key)
        return None


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=180, help="seconds of load")
    parser.add_argument("--warmup", type=float, default=15, help="seconds before RSS baseline")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-rss-growth", type=float, default=20.0, help="percent per worker")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)

    with standalone_database("soak") as url:
        workspace = create_person(url, "soak0@soak.example", PASSWORD, "Soak")["workspaceId"]
        emails = ["soak0@soak.example"]
        for n in range(1, 4):
            create_person(url, f"soak{n}@soak.example", PASSWORD, workspace)
            emails.append(f"soak{n}@soak.example")
        server = live_server(
            workers=args.workers, threads=args.threads, env=OPEN_THROTTLES, database_url=url
        )
        server.extra_args += ["--max-requests", "0"]  # measure the same processes throughout
        with server:
            access = login(server.url, emails[0], PASSWORD)["access"]
            key = create_api_key(server.url, access, "soak")["key"]
            soak = Soak(server.url, emails, key, args.seed)
            threads = [
                threading.Thread(target=soak.run_client, args=(i,), daemon=True)
                for i in range(args.clients)
            ]
            started = time.monotonic()
            for thread in threads:
                thread.start()
            time.sleep(min(args.warmup, args.duration / 2))
            workers = children(server.master_pid)
            rss_start = {pid: rss_kib(pid) for pid in workers}
            samples = []
            while time.monotonic() - started < args.duration:
                time.sleep(min(10, max(0.1, args.duration - (time.monotonic() - started))))
                samples.append({pid: rss_kib(pid) for pid in workers})
            workers_end = children(server.master_pid)
            rss_end = {pid: rss_kib(pid) for pid in workers}
            soak.stop.set()
            for thread in threads:
                thread.join(timeout=60)
            elapsed = time.monotonic() - started
            server_errors = list(server.error_lines)

    every = [v for values in soak.latencies.values() for v in values]
    total = sum(soak.statuses.values())
    five_xx = sum(n for s, n in soak.statuses.items() if isinstance(s, int) and s >= 500)
    errors = sum(soak.unexpected.values())
    growth = {pid: (rss_end[pid] - rss_start[pid]) / rss_start[pid] * 100 for pid in rss_start}
    figures = {
        "durationSeconds": round(elapsed),
        "clients": args.clients,
        "workers": args.workers,
        "threads": args.threads,
        "requests": total,
        "requestsPerSecond": round(total / elapsed, 1),
        "errors": errors,
        "loginsShedWith429": soak.shed,
        "serverErrors5xx": five_xx,
        "serverErrorLogLines": len(server_errors),
        "p50ms": round(statistics.median(every) * 1000, 1) if every else None,
        "p99ms": round(_percentile(every, 0.99) * 1000, 1) if every else None,
        "perOperation": {
            op: {
                "count": len(values),
                "p50ms": round(statistics.median(values) * 1000, 1),
                "p99ms": round(_percentile(values, 0.99) * 1000, 1),
            }
            for op, values in sorted(soak.latencies.items())
        },
        "statuses": {str(s): n for s, n in sorted(soak.statuses.items(), key=str)},
        "unexpected": {f"{op} -> {s}": n for (op, s), n in soak.unexpected.items()},
        "workerRssKiB": {
            str(pid): {"start": rss_start[pid], "end": rss_end[pid]} for pid in rss_start
        },
        "workerRssGrowthPercent": {str(pid): round(g, 1) for pid, g in growth.items()},
        "workersReplacedDuringRun": sorted(set(workers) ^ set(workers_end)),
        "rssSamplesKiB": [list(sample.values()) for sample in samples],
    }
    print(json.dumps(figures, indent=2))
    for line in server_errors[:5]:
        print(f"server error log: {line[:600]}")
    rss_summary = ", ".join(
        f"{rss_start[p] / 1024:.1f} -> {rss_end[p] / 1024:.1f} MiB ({growth[p]:+.1f}%)"
        for p in rss_start
    )
    print(
        f"soak: {total} requests in {elapsed:.0f} s ({total / elapsed:.0f}/s) by {args.clients} "
        f"clients; errors {errors}; 5xx {five_xx}; logins shed (429) {soak.shed}; "
        f"p50 {figures['p50ms']} ms, p99 {figures['p99ms']} ms; worker RSS {rss_summary}"
    )
    if args.json:
        with open(args.json, "w") as out:
            json.dump(figures, out, indent=2)
    failed = five_xx or errors or server_errors or figures["workersReplacedDuringRun"]
    failed = failed or any(g > args.max_rss_growth for g in growth.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
