"""The whole run: for each cache topology, databases recreated and seeded, servers started and the
interleaved rounds; the login starvation test once; the scale runs; returns the report's data
(bench/report.py renders it)."""

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
from bench.scenarios import PEER_PROBE, TOPOLOGIES, BoundScenario, plan
from bench.servers import DB_MAIN, DB_PEER, DB_SCALE, PY, RESULTS, ROOT, BenchServer, log
from bench.wrk import Wrk, ensure_wrk


class Run:
    def __init__(self, args: Namespace) -> None:
        self.args = args
        self.wrk = Wrk(ensure_wrk(), threads=args.threads, connections=args.connections)
        self.servers: dict[str, BenchServer] = {}
        self.seed: dict = {}
        self.peer: dict | None = None
        # Each topology's Redis URL (None: the database cache), measured in this order.
        self.topologies, self.note = servers.topologies(args.cache, smoke=args.smoke)
        # The scale database's server uses Redis whenever the run measures Redis.
        self.redis: str | None = self.topologies.get("redis")
        self.env: dict = {}
        self.labels: dict[str, str] = {}
        self.peer_of: dict[str, str] = {}

    def setup(self, topology: str) -> None:
        """This topology's databases recreated and seeded, its servers (ours, the variant, the
        peer) started: every topology starts from the same fresh state."""
        redis = self.topologies[topology]
        RESULTS.mkdir(exist_ok=True)
        servers.flush_redis(redis)
        cache = redis or "DatabaseCache + core_ratecounter (REDIS_URL unset)"
        log(
            f"== {TOPOLOGIES[topology]}: databases {DB_MAIN}, {DB_PEER} (recreated); cache: {cache}"
        )
        servers.recreate_database(DB_MAIN)
        self.env = servers.server_env(DB_MAIN, log_level=self.args.log_level, redis=redis)
        servers.prepare_ours(DB_MAIN, self.env, redis=redis)
        seed_file = RESULTS / "seed.json"
        servers.run_checked([PY, "bench/seed.py", "base", "--out", str(seed_file)], env=self.env)
        self.seed = json.loads(seed_file.read_text())
        self.start("ours", self.env, DB_MAIN, probe="/healthz", tag=topology)
        if self.args.variant:
            overrides = dict(item.split("=", 1) for item in self.args.variant.split())
            variant_env = {**self.env, **overrides}
            self.start("variant", variant_env, DB_MAIN, probe="/healthz", tag=topology)
        if self.args.peers:
            self.peer = servers.seed_peer()
            probe = PEER_PROBE.format(**self.peer)
            self.start("peer", servers.peer_env(), DB_PEER, probe=probe, peer=True, tag=topology)
        self.labels.update({sc.key: sc.label for sc in self.scenarios()})
        self.peer_of.update({sc.key: sc.peer for sc in self.scenarios() if sc.peer and self.peer})

    def stop_servers(self) -> None:
        for server in self.servers.values():
            server.stop()
        self.servers.clear()

    def start(
        self, name: str, env: dict, database: str, *, probe: str, peer: bool = False, tag: str = ""
    ):
        server = BenchServer(
            name, env=env, database=database, workers=self.args.workers, peer=peer, tag=tag
        )
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
        report: dict = {
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "topologies": list(self.topologies),
            "cache_note": self.note,
        }
        if self.note:
            log(f"NOTE: {self.note}")
        if not args.smoke:
            log("== Argon2 cost (CPU per hash)")
            cost_env = {**os.environ, "DJANGO_DEBUG": "1"}
            out = servers.run_checked([PY, "bench/argon2_cost.py"], env=cost_env)
            report["argon2"] = json.loads(out)
            log(f"  {report['argon2']}")
        results: list[Result] = []
        starvation: list[dict] = []
        timing = Timing(args.duration, args.warmup, count_every_status=args.smoke)
        # Login starvation is measured once, in the database topology (the contract's default).
        starved_in = "database" if "database" in self.topologies else next(iter(self.topologies))
        # Topology by topology: ours and its peers side by side in time within each round.
        for topology in [] if args.scale_only else self.topologies:
            try:
                self.setup(topology)
                measurer = Measurer(self.wrk, self.servers, self.env, timing, topology=topology)
                for round_no in range(1, args.rounds + 1):
                    log(f"== {TOPOLOGIES[topology]}: round {round_no} of {args.rounds}")
                    for scenario in self.scenarios():
                        results.append(measurer.measure(scenario, round_no))
                if args.starvation and topology == starved_in:
                    log(f"== {TOPOLOGIES[topology]}: login starvation")
                    starvation.append(measurer.starvation(1, self.seed))
                    if args.variant:
                        starvation.append(measurer.starvation(1, self.seed, "variant"))
            finally:
                self.stop_servers()
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
            "cache": ", ".join(self.topologies),
        }
        report["labels"] = self.labels
        report["peers"] = self.peer_of
        return report
