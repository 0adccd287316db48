"""`make bench`: ParsaLink under gunicorn and wrk, side by side with stock Django/DRF peers.

    make bench                                 # 2 interleaved rounds, peers, login starvation
    make bench BENCH_ARGS=--scale              # + 1k vs 1M contacts, key activity at 10M rows
    make bench-smoke                           # 2 s per scenario, one round, no peers, no scale

What it does (README "Performance"): recreates the databases parsalink_bench and
parsalink_bench_peer (parsalink_bench_scale is seeded once and cached), seeds them through the
project's services, starts the real servers (gunicorn `-w 2`, the worker class and threads of
gunicorn.conf.py for ours and the peers alike, DJANGO_DEBUG=0, PARSALINK_BENCHMARK=1), drives
them with wrk (8 connections, Lua scripts in bench/lua/) and prints one table. CPU per request
is the gunicorn workers' CPU time (/proc/<pid>/stat) over the run, divided by the requests
answered; "DB CPU" is the same for the PostgreSQL backends serving them.
Results are also written to bench/results/ (git-ignored).
"""

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
LUA = BENCH / "lua"
PEERS = BENCH / "peers"
RESULTS = BENCH / "results"
PY = sys.executable
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
DB_MAIN, DB_PEER, DB_SCALE = "parsalink_bench", "parsalink_bench_peer", "parsalink_bench_scale"
SECRET = "bench-only-secret-key-0123456789abcdef-never-in-production"
PAGE = "pageSize=10"
CLK_TCK = os.sysconf("SC_CLK_TCK")
# Throttles stay on (they are part of every request's cost) with windows the bench cannot trip.
# Per-second windows keep DRF's per-key timestamp history about as long as one second's traffic.
BENCH_THROTTLES = {
    "THROTTLE_LOGIN_PER_EMAIL": "1000000/s",
    "THROTTLE_LOGIN_PER_IP": "1000000/s",
    "THROTTLE_REFRESH_PER_IP": "1000000/s",
    "THROTTLE_API_KEY": "1000000/s",
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- prerequisites ----------------------------------------------------------------------------


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    log("wrk not found: installing Debian's package (apt-get install -y wrk)")
    apt = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(apt, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=True)
        subprocess.run(apt, capture_output=True, check=True)
    return shutil.which("wrk") or sys.exit("wrk could not be installed")


def redis_url() -> str | None:
    """The shared Redis (the production cache for throttles) on a database of the bench's own."""
    if os.environ.get("BENCH_REDIS_URL"):
        return os.environ["BENCH_REDIS_URL"]
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            if sock.recv(16).startswith(b"+PONG"):
                return "redis://127.0.0.1:6379/13"
    except OSError:
        pass
    return None


def admin_connection() -> psycopg.Connection:
    return psycopg.connect(f"{PG_URL}/postgres", autocommit=True)


def database_exists(name: str) -> bool:
    with admin_connection() as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()


def recreate_database(name: str) -> None:
    assert name.startswith("parsalink_bench")  # never anything else
    with admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def run_checked(cmd: list[str], *, env: dict, cwd: Path = ROOT) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def server_env(database: str, *, log_level: str, redis: str | None) -> dict:
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": SECRET,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"{PG_URL}/{database}",
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
        "PARSALINK_BENCHMARK": "1",
        # Worker recycling (gunicorn.conf.py's max_requests) would restart workers mid-run.
        "GUNICORN_MAX_REQUESTS": "0",
        "LOG_LEVEL": log_level,
        **BENCH_THROTTLES,
    }
    env.pop("REDIS_URL", None)
    if redis:
        env["REDIS_URL"] = redis
    return env


def peer_env() -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "peer.settings",
        "DJANGO_SECRET_KEY": SECRET,
        "PEER_DATABASE_URL": f"{PG_URL}/{DB_PEER}",
        "PYTHONPATH": str(PEERS),
    }


def flush_redis(url: str | None) -> None:
    """Empty the bench's own Redis database (throttle histories of a previous run)."""
    if not url:
        return
    host_port, db = url.removeprefix("redis://").split("/")
    host, port = host_port.split(":")
    with socket.create_connection((host, int(port)), timeout=2) as sock:
        sock.sendall(f"SELECT {db}\r\nFLUSHDB\r\n".encode())
        sock.recv(64)


# --- servers ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A gunicorn master with `-w 2` (worker class and threads: gunicorn.conf.py and its env), its
    workers' and DB backends' CPU."""

    def __init__(self, name: str, app: str, *, cwd: Path, env: dict, database: str, probe: str):
        self.name, self.app, self.cwd, self.env = name, app, cwd, env
        self.database, self.probe = database, probe
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.logfile = RESULTS / f"server-{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self, workers: int) -> "Server":
        cmd = [
            PY,
            "-m",
            "gunicorn",
            self.app,
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
        ]
        if self.cwd != ROOT:  # the peers have no gunicorn.conf.py: give them the same workers
            cmd += ["--worker-class", _our_gunicorn("worker_class"), "--threads"]
            cmd.append(str(_our_gunicorn("threads")))
        out = self.logfile.open("w")
        self.process = subprocess.Popen(
            cmd, cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"{self.name} server exited; see {self.logfile}")
            try:
                request = urllib.request.Request(
                    self.url + self.probe, headers={"X-Forwarded-Proto": "https"}
                )
                urllib.request.urlopen(request, timeout=10).read()
                return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        self.stop()
        sys.exit(f"{self.name} server did not start; see {self.logfile}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def worker_cpu_ticks(self) -> int:
        """Live workers' CPU plus the master's reaped children (so a restarted worker counts)."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        total = sum(_ticks(child) for child in children)
        return total + _ticks(pid, children_field=True)

    def db_cpu_ticks(self) -> dict[int, int]:
        with psycopg.connect(f"{PG_URL}/{self.database}", autocommit=True) as conn:
            pids = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
                " AND backend_type = 'client backend'",
                [self.database],
            ).fetchall()
        return {pid: _ticks(pid) for (pid,) in pids if Path(f"/proc/{pid}").exists()}


def _our_gunicorn(name: str):
    """A value of gunicorn.conf.py under the bench's environment (worker class, threads)."""
    code = f"import runpy; print(runpy.run_path('gunicorn.conf.py')[{name!r}])"
    env = {**os.environ, "DJANGO_SECRET_KEY": SECRET}
    return run_checked([PY, "-c", code], env=env).strip()


def _ticks(pid: int | str, *, children_field: bool = False) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    # fields[0] is stat's 3rd field: utime=14, stime=15, cutime=16, cstime=17 (1-based).
    if children_field:
        return int(fields[13]) + int(fields[14])
    return int(fields[11]) + int(fields[12])


# --- load -------------------------------------------------------------------------------------


@dataclass
class Scenario:
    key: str
    label: str
    server: str  # "ours" | "peer"
    path: str
    script: str
    auth: str = ""
    body: str = ""
    refresh_pool: bool = False
    count_status: bool = False
    peer_of: str = ""


@dataclass
class Result:
    scenario: str
    round: int
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float
    db_cpu_ms: float
    requests: int
    non2xx: int
    socket_errors: int
    statuses: dict = field(default_factory=dict)


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.wrk = ensure_wrk()
        self.servers: dict[str, Server] = {}
        self.seed: dict = {}
        self.peer: dict = {}
        self.refresh_rate: dict[str, float] = {}

    # -- running wrk

    def wrk_run(
        self,
        scenario: Scenario,
        *,
        duration: float,
        connections: int | None = None,
        tokens: Path | None = None,
    ) -> dict:
        server = self.servers[scenario.server]
        env = {
            **os.environ,
            "BENCH_LUA_DIR": str(LUA),
            "BENCH_AUTH": scenario.auth,
            "BENCH_BODY": scenario.body,
            "BENCH_THREADS": str(self.args.threads),
            "BENCH_COUNT_STATUS": "1" if scenario.count_status or self.args.smoke else "0",
        }
        if tokens:
            env["BENCH_TOKENS"] = str(tokens)
        cmd = [
            self.wrk,
            "-t",
            str(self.args.threads),
            "-c",
            str(connections or self.args.connections),
            "-d",
            f"{max(1, round(duration))}s",
            "--timeout",
            "10s",
            "-s",
            str(LUA / scenario.script),
            server.url + scenario.path,
        ]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        for line in done.stdout.splitlines():
            if line.startswith("BENCHJSON "):
                return json.loads(line.removeprefix("BENCHJSON "))
        sys.exit(f"wrk gave no result for {scenario.key}:\n{done.stdout}\n{done.stderr}")

    def mint(self, scenario: Scenario, seconds: float) -> Path:
        """A pool of fresh refresh tokens sized for `seconds` at twice the last measured rate."""
        rate = self.refresh_rate.get(scenario.key, 1500.0)
        n = int(max(200, rate * 2 * seconds + 50 * self.args.connections))
        out = Path(tempfile.mkstemp(prefix=f"tokens-{scenario.key}-", dir=RESULTS)[1])
        if scenario.server in ("ours", "variant"):
            run_checked(
                [PY, "bench/seed.py", "mint", "--n", str(n), "--out", str(out)],
                env=self.servers["ours"].env,
            )
        else:
            run_checked(
                [
                    PY,
                    "manage.py",
                    "peerseed",
                    "--mint-only",
                    "--refresh-tokens",
                    str(n),
                    "--tokens-file",
                    str(out),
                ],
                env=peer_env(),
                cwd=PEERS,
            )
        return out

    def measure(self, scenario: Scenario, round_no: int) -> Result:
        server = self.servers[scenario.server]
        if self.args.warmup > 0:
            tokens = self.mint(scenario, self.args.warmup) if scenario.refresh_pool else None
            self.wrk_run(scenario, duration=self.args.warmup, tokens=tokens)
            if tokens:
                tokens.unlink()
        tokens = self.mint(scenario, self.args.duration) if scenario.refresh_pool else None
        cpu0, db0 = server.worker_cpu_ticks(), server.db_cpu_ticks()
        raw = self.wrk_run(scenario, duration=self.args.duration, tokens=tokens)
        cpu1, db1 = server.worker_cpu_ticks(), server.db_cpu_ticks()
        if tokens:
            tokens.unlink()
        requests = max(1, raw["requests"])
        seconds = raw["duration_us"] / 1e6
        db_ticks = sum(ticks - db0.get(pid, 0) for pid, ticks in db1.items())
        result = Result(
            scenario=scenario.key,
            round=round_no,
            rps=raw["requests"] / seconds,
            p50_ms=raw["p50_us"] / 1000,
            p99_ms=raw["p99_us"] / 1000,
            cpu_ms=(cpu1 - cpu0) / CLK_TCK * 1000 / requests,
            db_cpu_ms=db_ticks / CLK_TCK * 1000 / requests,
            requests=raw["requests"],
            non2xx=raw["non2xx"],
            socket_errors=raw["connect"] + raw["read"] + raw["write"] + raw["timeout"],
            statuses=raw.get("statuses", {}),
        )
        if scenario.refresh_pool:
            self.refresh_rate[scenario.key] = result.rps
        log(
            f"  round {round_no} {scenario.label:<28} {result.rps:8.0f} req/s  "
            f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:7.2f} ms  "
            f"CPU {result.cpu_ms:5.2f} ms/req  non-2xx {result.non2xx}"
            + (f" {result.statuses}" if result.statuses else "")
        )
        return result

    # -- setup

    def setup(self) -> None:
        RESULTS.mkdir(exist_ok=True)
        redis = redis_url()
        flush_redis(redis)
        self.redis = redis
        log(f"== databases {DB_MAIN}, {DB_PEER} (recreated); cache: {redis or 'database'}")
        recreate_database(DB_MAIN)
        env = server_env(DB_MAIN, log_level=self.args.log_level, redis=redis)
        run_checked([PY, "manage.py", "migrate", "--no-input", "-v", "0"], env=env)
        if not redis:
            run_checked([PY, "manage.py", "createcachetable"], env=env)
        seed_file = RESULTS / "seed.json"
        run_checked([PY, "bench/seed.py", "base", "--out", str(seed_file)], env=env)
        self.seed = json.loads(seed_file.read_text())
        self.servers["ours"] = Server(
            "ours", "parsalink.wsgi", cwd=ROOT, env=env, database=DB_MAIN, probe="/healthz"
        ).start(self.args.workers)
        if self.args.variant:
            overrides = dict(item.split("=", 1) for item in self.args.variant.split())
            self.servers["variant"] = Server(
                "variant",
                "parsalink.wsgi",
                cwd=ROOT,
                env={**env, **overrides},
                database=DB_MAIN,
                probe="/healthz",
            ).start(self.args.workers)
        if self.args.peers:
            recreate_database(DB_PEER)
            penv = peer_env()
            run_checked([PY, "manage.py", "migrate", "--no-input", "-v", "0"], env=penv, cwd=PEERS)
            out = run_checked([PY, "manage.py", "peerseed"], env=penv, cwd=PEERS)
            self.peer = json.loads(out.strip().splitlines()[-1])
            probe = f"/peer/contacts/?workspace={self.peer['workspace']}&{PAGE}"
            self.servers["peer"] = Server(
                "peer", "peer.wsgi", cwd=PEERS, env=penv, database=DB_PEER, probe=probe
            ).start(self.args.workers)

    def scenarios(self) -> list[Scenario]:
        s, p = self.seed, self.peer
        ours = {
            "noauth": Scenario(
                "noauth",
                "no-auth list",
                "ours",
                f"/api/_bench/contacts/?workspace={s['workspace']}&{PAGE}",
                "get.lua",
            ),
            "jwt": Scenario(
                "jwt",
                "JWT list",
                "ours",
                f"/api/contacts/?{PAGE}",
                "get.lua",
                auth=f"Bearer {s['access']}",
            ),
            "apikey": Scenario(
                "apikey",
                "API-key list (usage logged)",
                "ours",
                f"/api/contacts/?{PAGE}",
                "get.lua",
                auth=f"Bearer {s['apiKey']}",
            ),
            "refresh": Scenario(
                "refresh",
                "refresh (atomic rotation)",
                "ours",
                "/api/auth/token/refresh/",
                "refresh.lua",
                refresh_pool=True,
                count_status=True,
            ),
            "login": Scenario(
                "login",
                "login (Argon2id, gated)",
                "ours",
                "/api/auth/login/",
                "post_json.lua",
                body=json.dumps({"email": s["email"], "password": s["password"]}),
                count_status=True,
            ),
            "create": Scenario(
                "create",
                "contact create (JWT)",
                "ours",
                "/api/contacts/",
                "post_json.lua",
                auth=f"Bearer {s['writerAccess']}",
                body=json.dumps(
                    {"firstName": "Bench", "lastName": "Create", "email": "bench@example.com"}
                ),
                count_status=True,
            ),
        }
        order = [ours["noauth"]]
        if self.args.peers:
            ws = p["workspace"]
            peer = {
                "noauth": Scenario(
                    "peer_noauth",
                    "stock DRF list, no auth",
                    "peer",
                    f"/peer/contacts/?workspace={ws}&{PAGE}",
                    "get.lua",
                ),
                "jwt": Scenario(
                    "peer_jwt",
                    "stock simplejwt list",
                    "peer",
                    f"/peer/jwt/contacts/?workspace={ws}&{PAGE}",
                    "get.lua",
                    auth=f"Bearer {p['access']}",
                ),
                "apikey": Scenario(
                    "peer_apikey",
                    "stock drf-api-key list",
                    "peer",
                    f"/peer/key/contacts/?workspace={ws}&{PAGE}",
                    "get.lua",
                    auth=f"Api-Key {p['apiKey']}",
                ),
                "refresh": Scenario(
                    "peer_refresh",
                    "stock simplejwt refresh",
                    "peer",
                    "/peer/token/refresh/",
                    "refresh.lua",
                    refresh_pool=True,
                    count_status=True,
                ),
            }
            for key, scenario in peer.items():
                ours[key].peer_of = scenario.key
            order = [ours["noauth"], peer["noauth"]]
            for key in ("jwt", "apikey", "refresh"):
                order += [ours[key], peer[key]]
        else:
            order += [ours["jwt"], ours["apikey"], ours["refresh"]]
        order += [ours["login"], ours["create"]]
        if self.args.only:
            wanted = set(self.args.only.split(","))
            order = [
                sc for sc in order if sc.key in wanted or sc.key.removeprefix("peer_") in wanted
            ]
        if self.args.variant:
            # The same scenarios against a second server of ours with other settings, each run
            # right after its baseline, to measure a proposed change side by side.
            with_variant = []
            for sc in order:
                with_variant.append(sc)
                if sc.server == "ours":
                    with_variant.append(
                        replace(
                            sc, key=f"v_{sc.key}", label=f"{sc.label} [variant]", server="variant"
                        )
                    )
            order = with_variant
        return order

    def _scenario(self, key: str) -> Scenario:
        args_only, self.args.only = self.args.only, ""
        try:
            return next(sc for sc in self.scenarios() if sc.key == key)
        finally:
            self.args.only = args_only

    # -- starvation

    def starvation(self, round_no: int, server_name: str = "ours") -> dict:
        """JWT list p99 alone, then with 8 more connections hammering login at the same time."""
        jwt = replace(self._scenario("jwt"), server=server_name)
        login = self._scenario("login")
        duration = self.args.duration
        alone = self.wrk_run(jwt, duration=duration)
        server = self.servers[server_name]
        env = {
            **os.environ,
            "BENCH_LUA_DIR": str(LUA),
            "BENCH_BODY": login.body,
            "BENCH_COUNT_STATUS": "1",
            "BENCH_AUTH": "",
        }
        hammer = subprocess.Popen(
            [
                self.wrk,
                "-t",
                "1",
                "-c",
                str(self.args.connections),
                "-d",
                f"{round(duration) + 2}s",
                "--timeout",
                "10s",
                "-s",
                str(LUA / login.script),
                server.url + login.path,
            ],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(1)
        loaded = self.wrk_run(jwt, duration=duration)
        out, _ = hammer.communicate()
        login_raw = json.loads(
            next(line for line in out.splitlines() if line.startswith("BENCHJSON ")).split(" ", 1)[
                1
            ]
        )
        result = {
            "server": server_name,
            "round": round_no,
            "alone_p99_ms": alone["p99_us"] / 1000,
            "loaded_p99_ms": loaded["p99_us"] / 1000,
            "alone_rps": alone["requests"] / (alone["duration_us"] / 1e6),
            "loaded_rps": loaded["requests"] / (loaded["duration_us"] / 1e6),
            "login_statuses": login_raw.get("statuses", {}),
            "login_refusals": login_raw.get("refusals", {}),
            "login_ok_rps": login_raw.get("statuses", {}).get("200", 0)
            / (login_raw["duration_us"] / 1e6),
        }
        result["ratio"] = result["loaded_p99_ms"] / result["alone_p99_ms"]
        log(
            f"  round {round_no} starvation: JWT list p99 {result['alone_p99_ms']:.2f} ms alone, "
            f"{result['loaded_p99_ms']:.2f} ms with 8 login clients "
            f"({result['ratio']:.2f}x); login statuses {result['login_statuses']}, "
            f"refusals {result['login_refusals']}"
        )
        return result

    # -- scale

    def scale(self) -> dict:
        log(f"== scale: {DB_SCALE} (seeded once, then cached)")
        if not database_exists(DB_SCALE):
            recreate_database(DB_SCALE)
        env = server_env(DB_SCALE, log_level=self.args.log_level, redis=self.redis)
        info_file = RESULTS / "scale.json"
        started = time.monotonic()
        for attempt in (1, 2):
            run_checked([PY, "manage.py", "migrate", "--no-input", "-v", "0"], env=env)
            if not self.redis:
                run_checked([PY, "manage.py", "createcachetable"], env=env)
            done = subprocess.run(
                [PY, "bench/seed.py", "scale", "--out", str(info_file)], cwd=ROOT, env=env
            )
            if done.returncode == 3 and attempt == 1:
                log("  cached scale data is partial or outdated: recreating it")
                recreate_database(DB_SCALE)
                continue
            if done.returncode != 0:
                sys.exit("scale seed failed")
            break
        log(f"  scale data ready in {time.monotonic() - started:.0f} s")
        info = json.loads(info_file.read_text())
        server = Server(
            "scale", "parsalink.wsgi", cwd=ROOT, env=env, database=DB_SCALE, probe="/healthz"
        )
        self.servers["scale"] = server.start(self.args.workers)
        cases = [
            ("list_1k", "JWT list, 1k contacts", f"/api/contacts/?{PAGE}", info["access1k"]),
            ("list_1m", "JWT list, 1M contacts", f"/api/contacts/?{PAGE}", info["access1m"]),
            (
                "list_1m_page2",
                "JWT list, 1M contacts, page 2",
                self._next_link(server, f"/api/contacts/?{PAGE}", info["access1m"]),
                info["access1m"],
            ),
            (
                "activity_10m",
                "key activity, 10M usage rows",
                f"/api/api-keys/{info['apiKeyId']}/activity/?{PAGE}",
                info["access1k"],
            ),
        ]
        results = {"rows": {k: v for k, v in info.items() if k.startswith("rows_")}}
        try:
            for round_no in range(1, self.args.rounds + 1):
                for key, label, path, access in cases:
                    sc = Scenario(key, label, "scale", path, "get.lua", auth=f"Bearer {access}")
                    self.wrk_run(sc, duration=1, connections=1)
                    raw = self.wrk_run(sc, duration=self.args.duration, connections=1)
                    entry = results.setdefault(key, {"label": label, "p50_ms": [], "p99_ms": []})
                    entry["p50_ms"].append(raw["p50_us"] / 1000)
                    entry["p99_ms"].append(raw["p99_us"] / 1000)
                    entry["non2xx"] = entry.get("non2xx", 0) + raw["non2xx"]
                    log(
                        f"  round {round_no} {label:<32} p50 {raw['p50_us'] / 1000:6.2f} ms  "
                        f"p99 {raw['p99_us'] / 1000:6.2f} ms  non-2xx {raw['non2xx']}"
                    )
        finally:
            server.stop()
        return results

    @staticmethod
    def _next_link(server: Server, path: str, access: str) -> str:
        request = urllib.request.Request(
            server.url + path,
            headers={"X-Forwarded-Proto": "https", "Authorization": f"Bearer {access}"},
        )
        body = json.loads(urllib.request.urlopen(request, timeout=10).read())
        nxt = body["next"]
        return nxt[nxt.index("/api/") :]

    # -- the whole run

    def run(self) -> dict:
        report: dict = {"started": datetime.now(UTC).isoformat(timespec="seconds")}
        if not self.args.smoke:
            log("== Argon2 cost (CPU per hash)")
            out = run_checked([PY, "bench/argon2_cost.py"], env={**os.environ, "DJANGO_DEBUG": "1"})
            report["argon2"] = json.loads(out)
            log(f"  {report['argon2']}")
        results: list[Result] = []
        starvation: list[dict] = []
        try:
            self.setup()
            for round_no in range(1, 0 if self.args.scale_only else self.args.rounds + 1):
                log(f"== round {round_no} of {self.args.rounds}")
                for scenario in self.scenarios():
                    results.append(self.measure(scenario, round_no))
                if self.args.starvation:
                    starvation.append(self.starvation(round_no))
                    if self.args.variant:
                        starvation.append(self.starvation(round_no, "variant"))
        finally:
            for server in self.servers.values():
                server.stop()
        report["results"] = [r.__dict__ for r in results]
        report["starvation"] = starvation
        if self.args.scale:
            report["scale"] = self.scale()
        report["machine"] = machine()
        report["settings"] = {
            "duration_s": self.args.duration,
            "warmup_s": self.args.warmup,
            "rounds": self.args.rounds,
            "connections": self.args.connections,
            "wrk_threads": self.args.threads,
            "gunicorn": f"-w {self.args.workers} "
            f"{os.environ.get('GUNICORN_WORKER_CLASS', 'gthread (default)')} "
            f"threads {os.environ.get('GUNICORN_THREADS', 'default')}",
            "log_level": self.args.log_level,
            "cache": "redis" if self.redis else "database",
        }
        report["labels"] = {sc.key: sc.label for sc in self.scenarios()}
        report["peers"] = {sc.key: sc.peer_of for sc in self.scenarios() if sc.peer_of}
        return report


# --- report -----------------------------------------------------------------------------------


def machine() -> dict:
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    with admin_connection() as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
        sync = conn.execute("SHOW synchronous_commit").fetchone()[0]
    import django

    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "postgresql": pg,
        "synchronous_commit": sync,
        "python": platform.python_version(),
        "django": django.get_version(),
        "kernel": platform.release(),
    }


def _fmt_ratio(values: list[float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values)


def render(report: dict) -> str:
    rows: dict[str, list[dict]] = {}
    for r in report["results"]:
        rows.setdefault(r["scenario"], []).append(r)
    noauth = {
        prefix: {r["round"]: r["rps"] for r in rows.get(f"{prefix}noauth", [])}
        for prefix in ("", "v_")
    }
    noauth_cpu = {
        prefix: {r["round"]: r["cpu_ms"] + r["db_cpu_ms"] for r in rows.get(f"{prefix}noauth", [])}
        for prefix in ("", "v_")
    }
    labels, peers = report["labels"], report["peers"]
    lines = [
        "| scenario | req/s (per round) | p50 ms | p99 ms | CPU ms/req | DB CPU ms/req "
        "| x no-auth (per round) | x no-auth by CPU | x its peer (per round) | non-2xx |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, runs in rows.items():
        rps = [r["rps"] for r in runs]
        base = noauth["v_" if key.startswith("v_") else ""]
        ratio = [r["rps"] / base[r["round"]] for r in runs if r["round"] in base]
        base_cpu = noauth_cpu["v_" if key.startswith("v_") else ""]
        cpu_ratio = [
            base_cpu[r["round"]] / (r["cpu_ms"] + r["db_cpu_ms"])
            for r in runs
            if r["round"] in base_cpu
        ]
        peer_key = peers.get(key)
        peer_ratio = ""
        if peer_key and peer_key in rows:
            peer_rps = {r["round"]: r["rps"] for r in rows[peer_key]}
            peer_ratio = _fmt_ratio([r["rps"] / peer_rps[r["round"]] for r in runs])
        if key == "noauth" and "peer_noauth" in rows:
            peer_rps = {r["round"]: r["rps"] for r in rows["peer_noauth"]}
            peer_ratio = _fmt_ratio([r["rps"] / peer_rps[r["round"]] for r in runs])
        non2xx = sum(r["non2xx"] + r["socket_errors"] for r in runs)
        statuses: dict[str, int] = {}
        for r in runs:
            for code, n in r["statuses"].items():
                if not code.startswith("2"):
                    statuses[code] = statuses.get(code, 0) + n
        detail = (
            f" ({', '.join(f'{c}: {n}' for c, n in sorted(statuses.items()))})" if statuses else ""
        )
        lines.append(
            f"| {labels.get(key, key)} | {' / '.join(f'{v:.0f}' for v in rps)} "
            f"| {statistics.mean(r['p50_ms'] for r in runs):.2f} "
            f"| {statistics.mean(r['p99_ms'] for r in runs):.2f} "
            f"| {statistics.mean(r['cpu_ms'] for r in runs):.2f} "
            f"| {statistics.mean(r['db_cpu_ms'] for r in runs):.2f} "
            f"| {_fmt_ratio(ratio)} | {_fmt_ratio(cpu_ratio)} | {peer_ratio} | {non2xx}{detail} |"
        )
    out = ["\n".join(lines)]
    if report.get("starvation"):
        s = report["starvation"]
        out.append(
            "\n| login starvation (JWT list, 8 connections) | list p99 alone ms | list p99 with 8 "
            "clients hammering login ms | ratio | list req/s alone → with | login answers |\n"
            "|---|---|---|---|---|---|"
        )
        for x in s:
            answers = ", ".join(f"{c}: {n}" for c, n in sorted(x["login_statuses"].items()))
            refused = x.get("login_refusals", {})
            if refused:
                answers += "; refused " + ", ".join(f"{k}: {n}" for k, n in sorted(refused.items()))
            out.append(
                f"| {'variant ' if x['server'] == 'variant' else ''}round {x['round']} "
                f"| {x['alone_p99_ms']:.2f} | {x['loaded_p99_ms']:.2f} | {x['ratio']:.2f}x "
                f"| {x['alone_rps']:.0f} → {x['loaded_rps']:.0f} "
                f"| {answers} ({x.get('login_ok_rps', 0):.0f} logins/s) |"
            )
    if report.get("scale"):
        sc = report["scale"]
        out.append(
            "\n| scale (1 connection) | p50 ms (per round) | p99 ms (per round) |\n|---|---|---|"
        )
        for key in ("list_1k", "list_1m", "list_1m_page2", "activity_10m"):
            if key in sc:
                e = sc[key]
                out.append(
                    f"| {e['label']} | {_fmt_ratio(e['p50_ms'])} | {_fmt_ratio(e['p99_ms'])} |"
                )
    if report.get("argon2"):
        a = report["argon2"]
        out.append(
            f"\nArgon2id per hash: ParsaLink ({a['parsalink']['params']}) "
            f"{a['parsalink']['cpu_ms']} ms CPU; Django default ({a['django_default']['params']}) "
            f"{a['django_default']['cpu_ms']} ms CPU."
        )
    out.append("\n" + render_goals(report))
    return "\n".join(out)


def goals(report: dict) -> list[tuple[str, str, bool | None]]:
    rows: dict[str, list[dict]] = {}
    for r in report["results"]:
        rows.setdefault(r["scenario"], []).append(r)

    def ratio(a: str, b: str) -> list[float] | None:
        if a not in rows or b not in rows:
            return None
        rb = {r["round"]: r["rps"] for r in rows[b]}
        return [r["rps"] / rb[r["round"]] for r in rows[a] if r["round"] in rb]

    out: list[tuple[str, str, bool | None]] = []

    def check(name: str, values: list[float] | None, bound: float, *, lower_is_better=False):
        if not values:
            out.append((name, "not measured", None))
            return
        ok = all(v <= bound for v in values) if lower_is_better else all(v >= bound for v in values)
        out.append((name, _fmt_ratio(values), ok))

    check("JWT list ≥ 0.90x no-auth", ratio("jwt", "noauth"), 0.90)
    check("API-key list ≥ 0.85x no-auth", ratio("apikey", "noauth"), 0.85)
    check("refresh ≥ 1.0x stock simplejwt refresh", ratio("refresh", "peer_refresh"), 1.0)
    check("no-auth list ≥ 0.8x stock DRF list", ratio("noauth", "peer_noauth"), 0.8)
    check("JWT list ≥ 1.0x stock simplejwt list", ratio("jwt", "peer_jwt"), 1.0)
    check("API-key list ≥ 1.0x stock drf-api-key list", ratio("apikey", "peer_apikey"), 1.0)
    check(
        "login starvation: list p99 ≤ 2x alone",
        [x["ratio"] for x in report.get("starvation", []) if x["server"] == "ours"],
        2.0,
        lower_is_better=True,
    )
    refusals = [x.get("login_refusals", {}) for x in report.get("starvation", [])]
    if refusals:
        bad = sum(n for r in refusals for k, n in r.items() if k != "429 login_busy")
        total = sum(n for r in refusals for n in r.values())
        out.append(
            (
                "starvation: every refused login is 429 login_busy + Retry-After",
                f"{total - bad} of {total}",
                bad == 0,
            )
        )
    sc = report.get("scale") or {}
    if "list_1k" in sc and "list_1m" in sc:
        check(
            "list p50 at 1M ≤ 1.2x at 1k",
            [m / k for m, k in zip(sc["list_1m"]["p50_ms"], sc["list_1k"]["p50_ms"], strict=True)],
            1.2,
            lower_is_better=True,
        )
    else:
        check("list p50 at 1M ≤ 1.2x at 1k", None, 1.2)
    check(
        "key activity p50 at 10M rows ≤ 20 ms",
        sc.get("activity_10m", {}).get("p50_ms"),
        20.0,
        lower_is_better=True,
    )
    return out


def render_goals(report: dict) -> str:
    lines = ["| goal | measured (per round) | met |", "|---|---|---|"]
    for name, measured, ok in goals(report):
        mark = "—" if ok is None else ("yes" if ok else "**no**")
        lines.append(f"| {name} | {measured} | {mark} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=10, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up per run")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--log-level", default="INFO", help="server LOG_LEVEL (production: INFO)")
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
    parser.add_argument("--smoke", action="store_true", help="2 s runs, one round, no peers")
    args = parser.parse_args()
    # A stopped bench (Ctrl-C, timeout) still stops its servers: the `finally` blocks run.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args.scale = args.scale or args.scale_only
    if args.smoke:
        args.duration, args.warmup, args.rounds = 2, 0, 1
        args.peers = args.starvation = args.scale = False
    report = Bench(args).run()
    text = render(report)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"bench-{stamp}.json").write_text(json.dumps(report, indent=1))
    (RESULTS / f"bench-{stamp}.md").write_text(text + "\n")
    m = report["machine"]
    print(
        f"\nParsaLink bench {report['started']} — {m['nproc']} x {m['cpu']}, PostgreSQL "
        f"{m['postgresql']} (synchronous_commit={m['synchronous_commit']}), Python {m['python']}, "
        f"Django {m['django']}; {report['settings']}\n"
    )
    print(text)
    if args.smoke:
        bad = [
            r
            for r in report["results"]
            if r["requests"] == 0
            or r["socket_errors"]
            or any(not c.startswith("2") and c not in ("429", "503") for c in r["statuses"])
        ]
        if bad:
            sys.exit(f"bench smoke: failing scenarios {[r['scenario'] for r in bad]}")
        print("\nbench smoke: every scenario answered 2xx")


if __name__ == "__main__":
    main()
