"""The servers the bench measures: ours and the stock peers, with their databases and CPU.

Each is a gunicorn master with `-w 2` started by the test suite's runner (tests/live_server.py);
the peers get our gunicorn.conf.py's worker class and threads on the command line. Its log goes
to bench/results/server-<name>.log, not into the bench's memory.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg

from tests.live_server import GunicornServer

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "bench" / "peers"
RESULTS = ROOT / "bench" / "results"
PY = sys.executable
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
DB_MAIN, DB_PEER, DB_SCALE = "parsalink_bench", "parsalink_bench_peer", "parsalink_bench_scale"
SECRET = "bench-only-secret-key-0123456789abcdef-never-in-production"
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


def run_checked(cmd: list[str], *, env: dict, cwd: Path = ROOT) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


# --- Redis and PostgreSQL -----------------------------------------------------------------------


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


def topologies(choice: str | None, *, smoke: bool) -> tuple[dict[str, str | None], str]:
    """The cache topologies to measure, each with the Redis URL its servers share (None: Django's
    database cache and core_ratecounter, what a deployment following the contract's defaults
    gets), and a note for the report when Redis was left out because none answers. By default
    both when Redis answers (--smoke: the database topology alone), else the database one."""
    url = redis_url()
    if choice in ("redis", "both") and not url:
        sys.exit(f"--cache {choice}: no Redis answers (BENCH_REDIS_URL or 127.0.0.1:6379)")
    if choice == "redis":
        return {"redis": url}, ""
    if choice == "database" or (choice is None and smoke):
        return {"database": None}, ""
    if url:
        return {"redis": url, "database": None}, ""
    note = (
        "no Redis answers (BENCH_REDIS_URL or 127.0.0.1:6379): the database-only topology alone; "
        "start Redis to measure both"
    )
    return {"database": None}, note


def flush_redis(url: str | None) -> None:
    """Empty the bench's own Redis database (throttle histories of a previous run)."""
    if not url:
        return
    host_port, db = url.removeprefix("redis://").split("/")
    host, port = host_port.split(":")
    with socket.create_connection((host, int(port)), timeout=2) as sock:
        sock.sendall(f"SELECT {db}\r\nFLUSHDB\r\n".encode())
        sock.recv(64)


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


# --- environments -------------------------------------------------------------------------------


def server_env(database: str, *, log_level: str, redis: str | None) -> dict:
    """Ours as in production (DEBUG off, TLS by a trusted proxy) plus the bench's no-auth list."""
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


def our_gunicorn(name: str) -> str:
    """A value of gunicorn.conf.py under the bench's environment (worker class, threads)."""
    code = f"import runpy; print(runpy.run_path('gunicorn.conf.py')[{name!r}])"
    env = {**os.environ, "DJANGO_SECRET_KEY": SECRET}
    return run_checked([PY, "-c", code], env=env).strip()


# --- servers ------------------------------------------------------------------------------------


class BenchServer(GunicornServer):
    """The suite's gunicorn runner plus what the bench reads: its workers' and DB backends' CPU."""

    def __init__(
        self,
        name: str,
        *,
        env: dict,
        database: str,
        workers: int,
        peer: bool = False,
        tag: str = "",
    ):
        extra = []
        if peer:  # the peers have no gunicorn.conf.py: give them the same workers
            extra = ["--worker-class", our_gunicorn("worker_class")]
            extra += ["--threads", our_gunicorn("threads")]
        super().__init__(
            workers=workers,
            env=env,
            extra_args=extra,
            database_url=f"{PG_URL}/{database}",
            app="peer.wsgi" if peer else "parsalink.wsgi",
            cwd=PEERS if peer else ROOT,
            log_file=RESULTS / f"server-{name}{f'-{tag}' if tag else ''}.log",
            stop_timeout=20,
        )
        self.name, self.database = name, database

    def start(self, probe: str) -> "BenchServer":
        """Up and answering 2xx on `probe` (the app loaded in a worker), or the bench exits."""
        try:
            self.__enter__()
        except RuntimeError:
            sys.exit(f"{self.name} server did not start; see {self.log_file}")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"{self.name} server exited; see {self.log_file}")
            try:
                self.get(probe)
                return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        self.stop()
        sys.exit(f"{self.name} server did not start; see {self.log_file}")

    def get(self, path: str, authorization: str = "") -> bytes:
        headers = {"X-Forwarded-Proto": "https"}
        if authorization:
            headers["Authorization"] = authorization
        request = urllib.request.Request(self.url + path, headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read()

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


def _ticks(pid: int | str, *, children_field: bool = False) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    # fields[0] is stat's 3rd field: utime=14, stime=15, cutime=16, cstime=17 (1-based).
    if children_field:
        return int(fields[13]) + int(fields[14])
    return int(fields[11]) + int(fields[12])


# --- setting a database up ----------------------------------------------------------------------


def prepare_ours(database: str, env: dict, *, redis: str | None) -> None:
    """Migrated, with the cache table when there is no Redis."""
    run_checked([PY, "manage.py", "migrate", "--no-input", "-v", "0"], env=env)
    if not redis:
        run_checked([PY, "manage.py", "createcachetable"], env=env)


def seed_peer() -> dict:
    """The stock peer's database recreated, migrated and seeded; returns its seed."""
    recreate_database(DB_PEER)
    env = peer_env()
    run_checked([PY, "manage.py", "migrate", "--no-input", "-v", "0"], env=env, cwd=PEERS)
    out = run_checked([PY, "manage.py", "peerseed"], env=env, cwd=PEERS)
    return json.loads(out.strip().splitlines()[-1])


def mint_refresh_tokens(server: BenchServer, ours_env: dict, n: int, out: Path) -> None:
    """`n` fresh refresh tokens for `server` (ours or the peer) written to `out`, one a line."""
    if server.name == "peer":
        cmd = ["manage.py", "peerseed", "--mint-only", "--refresh-tokens", str(n)]
        run_checked([PY, *cmd, "--tokens-file", str(out)], env=peer_env(), cwd=PEERS)
    else:
        run_checked([PY, "bench/seed.py", "mint", "--n", str(n), "--out", str(out)], env=ours_env)
