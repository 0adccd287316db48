"""`make bench`: ParsaLink under gunicorn and wrk, side by side with stock Django/DRF peers.

    make bench                                 # both cache topologies, 3 rounds, peers, starvation
    make bench BENCH_ARGS=--scale              # + 1k vs 1M contacts, key activity at 10M rows
    make bench-smoke                           # 2 s per scenario, one round, no peers, no scale

What it does (docs/performance.md): for each cache topology (Redis as the shared cache, then the
database only: DatabaseCache + core_ratecounter with REDIS_URL unset) it recreates the databases
parsalink_bench and parsalink_bench_peer, seeds them through the project's services, starts the
real servers (gunicorn `-w 2`, the worker class and threads of gunicorn.conf.py for ours and the
peers alike, DJANGO_DEBUG=0, PARSALINK_BENCHMARK=1) and drives them with wrk (8 connections, Lua
scripts in bench/lua/), ours then its peer in each round; parsalink_bench_scale is seeded once
and cached. It prints a table per topology and the goals table (ratio per round, median, met),
and writes them to bench/results/ (git-ignored).

The package: scenarios.py (what is measured, and the goals, as data), servers.py (databases and
gunicorn via tests/live_server.py), wrk.py, measure.py (one run's figures), runner.py (the rounds),
report.py (the tables).
"""

import argparse
import json
import os
import signal
import sys
import time
from datetime import UTC, datetime

from bench.report import render
from bench.runner import Run
from bench.servers import RESULTS


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    parser.add_argument("--duration", type=float, default=6, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up per run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--worker-class",
        default="",
        help="gunicorn worker class for ours and the peers alike (default: gunicorn.conf.py's)",
    )
    parser.add_argument("--log-level", default="INFO", help="server LOG_LEVEL (production: INFO)")
    parser.add_argument(
        "--cache",
        choices=["both", "redis", "database"],
        default=None,
        help="the cache topologies to measure; default: both when Redis answers (--smoke: "
        "database), else database",
    )
    parser.add_argument("--no-peers", dest="peers", action="store_false")
    parser.add_argument("--no-starvation", dest="starvation", action="store_false")
    parser.add_argument("--scale", action="store_true", help="1k vs 1M contacts, 10M usage rows")
    parser.add_argument("--scale-only", action="store_true", help="only the scale runs")
    parser.add_argument(
        "--variant",
        default="",
        help="'ENV=VALUE ...': also run our scenarios on a second server with these settings",
    )
    parser.add_argument("--only", default="", help="comma-separated scenario keys")
    parser.add_argument(
        "--smoke", action="store_true", help="2 s runs, one round, one topology, no peers"
    )
    args = parser.parse_args(argv)
    args.scale = args.scale or args.scale_only
    if args.smoke:
        args.duration, args.warmup, args.rounds = 2, 0, 1
        args.peers = args.starvation = args.scale = False
    return args


def smoke_failures(report: dict) -> list[str]:
    """Scenarios that answered nothing, had socket errors or answered other than 2xx/429/503."""
    return [
        f"{r['scenario']} ({r['topology']})"
        for r in report["results"]
        if r["requests"] == 0
        or r["socket_errors"]
        or any(not c.startswith("2") and c not in ("429", "503") for c in r["statuses"])
    ]


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.monotonic()
    if args.worker_class:
        # Read by gunicorn.conf.py for ours and by bench/servers.py for the peers' command line.
        os.environ["GUNICORN_WORKER_CLASS"] = args.worker_class
        if args.worker_class == "sync":
            # gunicorn runs gthread instead of sync whenever threads > 1 (gunicorn.conf.py: 8).
            os.environ["GUNICORN_THREADS"] = "1"
    # A stopped bench (Ctrl-C, timeout) still stops its servers: the `finally` blocks run.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    report = Run(args).run()
    report["duration_s"] = time.monotonic() - started
    text = render(report)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"bench-{stamp}.json").write_text(json.dumps(report, indent=1))
    (RESULTS / f"bench-{stamp}.md").write_text(text + "\n")
    print(f"\n{text}")
    if args.smoke:
        bad = smoke_failures(report)
        if bad:
            sys.exit(f"bench smoke: failing scenarios {bad}")
        print("\nbench smoke: every scenario answered 2xx")


if __name__ == "__main__":
    main()
