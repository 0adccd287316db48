"""The whole run: databases seeded, servers started, interleaved rounds, the scale runs; returns
the report's data (bench/report.py renders it)."""

import json
import os
import subprocess
import sys
import time
from argparse import Namespace
from datetime import UTC, datetime

from bench import servers
from bench.measure import Measurer, Result, Timing, retention, scale_latencies
from bench.report import machine
from bench.scenarios import PEER_PROBE, BoundScenario, plan
from bench.servers import DB_MAIN, DB_PEER, DB_SCALE, PY, RESULTS, ROOT, BenchServer, log
from bench.wrk import Wrk, ensure_wrk


class Run:
    def __init__(self, args: Namespace) -> None:
        self.args = args
        self.wrk = Wrk(ensure_wrk(), threads=args.threads, connections=args.connections)
        self.servers: dict[str, BenchServer] = {}
        self.seed: dict = {}
        self.peer: dict | None = None
        self.redis: str | None = None
        self.env: dict = {}

    def setup(self) -> None:
        RESULTS.mkdir(exist_ok=True)
        self.redis = servers.cache_redis(self.args.cache)
        servers.flush_redis(self.redis)
        log(f"== databases {DB_MAIN}, {DB_PEER} (recreated); cache: {self.redis or 'database'}")
        servers.recreate_database(DB_MAIN)
        self.env = servers.server_env(DB_MAIN, log_level=self.args.log_level, redis=self.redis)
        servers.prepare_ours(DB_MAIN, self.env, redis=self.redis)
        seed_file = RESULTS / "seed.json"
        servers.run_checked([PY, "bench/seed.py", "base", "--out", str(seed_file)], env=self.env)
        self.seed = json.loads(seed_file.read_text())
        self.start("ours", self.env, DB_MAIN, probe="/healthz")
        if self.args.variant:
            overrides = dict(item.split("=", 1) for item in self.args.variant.split())
            self.start("variant", {**self.env, **overrides}, DB_MAIN, probe="/healthz")
        if self.args.peers:
            self.peer = servers.seed_peer()
            probe = PEER_PROBE.format(**self.peer)
            self.start("peer", servers.peer_env(), DB_PEER, probe=probe, peer=True)

    def start(self, name: str, env: dict, database: str, *, probe: str, peer: bool = False):
        server = BenchServer(name, env=env, database=database, workers=self.args.workers, peer=peer)
        self.servers[name] = server.start(probe)

    def scenarios(self) -> list[BoundScenario]:
        peer_seed = self.peer if self.args.peers else None
        return plan(self.seed, peer_seed, only=self.args.only, variant=bool(self.args.variant))

    def scale(self) -> dict:
        log(f"== scale: {DB_SCALE} (seeded once, then cached)")
        if not servers.database_exists(DB_SCALE):
            servers.recreate_database(DB_SCALE)
        env = servers.server_env(DB_SCALE, log_level=self.args.log_level, redis=self.redis)
        info_file = RESULTS / "scale.json"
        started = time.monotonic()
        for attempt in (1, 2):
            servers.prepare_ours(DB_SCALE, env, redis=self.redis)
            done = subprocess.run(
                [PY, "bench/seed.py", "scale", "--out", str(info_file)], cwd=ROOT, env=env
            )
            if done.returncode == 3 and attempt == 1:
                log("  cached scale data is partial or outdated: recreating it")
                servers.recreate_database(DB_SCALE)
                continue
            if done.returncode != 0:
                sys.exit("scale seed failed")
            break
        log(f"  scale data ready in {time.monotonic() - started:.0f} s")
        info = json.loads(info_file.read_text())
        self.start("scale", env, DB_SCALE, probe="/healthz")
        try:
            return scale_latencies(
                self.wrk,
                self.servers["scale"],
                info,
                rounds=self.args.rounds,
                duration=self.args.duration,
            )
        finally:
            self.servers["scale"].stop()

    def run(self) -> dict:
        args = self.args
        report: dict = {"started": datetime.now(UTC).isoformat(timespec="seconds")}
        if not args.smoke:
            log("== Argon2 cost (CPU per hash)")
            cost_env = {**os.environ, "DJANGO_DEBUG": "1"}
            out = servers.run_checked([PY, "bench/argon2_cost.py"], env=cost_env)
            report["argon2"] = json.loads(out)
            log(f"  {report['argon2']}")
        results: list[Result] = []
        starvation: list[dict] = []
        try:
            self.setup()
            timing = Timing(args.duration, args.warmup, count_every_status=args.smoke)
            measurer = Measurer(self.wrk, self.servers, self.env, timing)
            for round_no in range(1, 0 if args.scale_only else args.rounds + 1):
                log(f"== round {round_no} of {args.rounds}")
                for scenario in self.scenarios():
                    results.append(measurer.measure(scenario, round_no))
                if args.starvation:
                    starvation.append(measurer.starvation(round_no, self.seed))
                    if args.variant:
                        starvation.append(measurer.starvation(round_no, self.seed, "variant"))
        finally:
            for server in self.servers.values():
                server.stop()
        report["results"] = [r.__dict__ for r in results]
        report["starvation"] = starvation
        if args.scale:
            report["scale"] = self.scale()
            log("== retention: purge 10M expired usage rows (scale database)")
            scale_env = servers.server_env(DB_SCALE, log_level=args.log_level, redis=self.redis)
            report["retention"] = retention(scale_env)
        report["machine"] = machine()
        report["settings"] = {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "rounds": args.rounds,
            "connections": args.connections,
            "wrk_threads": args.threads,
            "gunicorn": f"-w {args.workers} "
            f"{os.environ.get('GUNICORN_WORKER_CLASS', 'gthread (default)')} "
            f"threads {os.environ.get('GUNICORN_THREADS', 'default')}",
            "log_level": args.log_level,
            "cache": "redis" if self.redis else "database",
        }
        report["labels"] = {sc.key: sc.label for sc in self.scenarios()}
        report["peers"] = {sc.key: sc.peer for sc in self.scenarios() if sc.peer and self.peer}
        return report
