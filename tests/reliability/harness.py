"""Plumbing shared by the reliability suite: live gunicorn behind a "TLS proxy", HTTP clients,
throwaway databases and private PostgreSQL clusters, process inspection.

The server runs with DEBUG off, so it refuses plain HTTP. Every request here comes from
127.0.0.1 (a trusted proxy via FORWARDED_ALLOW_IPS) and carries `X-Forwarded-Proto: https`,
exactly as a TLS-terminating proxy would send it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

from tests.live_server import ROOT, GunicornServer, free_port

HTTPS = {"X-Forwarded-Proto": "https"}

# Figure lines the test modules record; tests/reliability/conftest.py prints them at the end.
SUMMARY: list[str] = []

# Throttles wide open: these harnesses measure correctness under load, not the rate limits
# (which have their own tests). THROTTLE_* are the contract's settings.
OPEN_THROTTLES = {
    "THROTTLE_LOGIN_PER_EMAIL": "1000000/min",
    "THROTTLE_LOGIN_PER_IP": "1000000/min",
    "THROTTLE_REFRESH_PER_IP": "1000000/min",
    "THROTTLE_API_KEY": "1000000/min",
}

# What must never appear in a response body: tracebacks, debug pages, HTML, driver internals.
LEAK_MARKERS = (
    "Traceback (most recent call last)",
    "<html",
    "<!DOCTYPE",
    "DEBUG = True",
    "Exception Value",
    'File "/',
    "django.db.utils",
    "psycopg",
    "site-packages",
)


def leaks(body: str | bytes) -> list[str]:
    """The leak markers found in a response body (case-insensitive)."""
    text = body.decode(errors="replace") if isinstance(body, bytes) else body
    lowered = text.lower()
    return [marker for marker in LEAK_MARKERS if marker.lower() in lowered]


class LiveServer(GunicornServer):
    """GunicornServer (which drains gunicorn's output continuously) plus what the reliability
    checks read from that output."""

    @property
    def error_lines(self) -> list[str]:
        """ERROR log lines and tracebacks the server printed (each cut to 4000 characters)."""
        return [
            line[:4000] for line in self.lines if '"level": "ERROR"' in line or "Traceback" in line
        ]

    @property
    def master_pid(self) -> int:
        return self.process.pid


def live_server(
    *,
    workers: int = 1,
    threads: int = 1,
    env: dict[str, str] | None = None,
    database_url: str | None = None,
    timeout: int | None = None,
) -> LiveServer:
    """A gunicorn that trusts X-Forwarded-Proto from 127.0.0.1 (our stand-in TLS proxy)."""
    extra = ["--forwarded-allow-ips", "127.0.0.1", "--threads", str(threads)]
    if timeout is not None:
        extra += ["--timeout", str(timeout)]
    return LiveServer(
        workers=workers,
        env={"FORWARDED_ALLOW_IPS": "127.0.0.1", **(env or {})},
        extra_args=extra,
        database_url=database_url,
    )


class Client(requests.Session):
    """A requests session bound to one server, sending what a TLS proxy adds to every request."""

    def __init__(self, base_url: str, *, timeout: float = 15.0, token: str | None = None) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.default_timeout = timeout
        self.headers.update(HTTPS)
        self.headers["User-Agent"] = "parsalink-reliability"
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def request(self, method, url, *args, **kwargs):
        if url.startswith("/"):
            url = self.base_url + url
        elif url.startswith(("http://", "https://")) and not url.startswith(self.base_url):
            # Links the server builds (pagination) say https: the proxy's scheme, not ours.
            parts = urlsplit(url)
            url = f"{self.base_url}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        kwargs.setdefault("timeout", self.default_timeout)
        return super().request(method, url, *args, **kwargs)


def login(base_url: str, email: str, password: str) -> dict:
    with Client(base_url) as client:
        response = client.post("/api/auth/login/", json={"email": email, "password": password})
    assert response.status_code == 200, (response.status_code, response.text)
    return response.json()


def create_api_key(base_url: str, access: str, name: str = "reliability") -> dict:
    """A new key through the API (the JSON object with its one-time `key`)."""
    with Client(base_url, token=access) as client:
        response = client.post("/api/api-keys/", json={"name": name})
    assert response.status_code == 201, (response.status_code, response.text)
    return response.json()


def api_has(base_url: str, path: str) -> bool:
    """Whether the server implements `path` yet (the apps land in stages)."""
    with Client(base_url) as client:
        response = client.get("/api/schema/", params={"format": "json"})
    return response.status_code == 200 and path in response.json().get("paths", {})


# --- processes ------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    """PIDs whose parent is `pid` (gunicorn's workers are the master's children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may contain spaces: parse after the last ")".
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def wait_for(predicate, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


# --- databases ------------------------------------------------------------------------------


def _admin_url(url: str, dbname: str = "postgres") -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{dbname}", "", ""))


def _psycopg_url(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def manage(*args: str, database_url: str) -> str:
    """Run a manage.py command against `database_url`; its stdout."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "test-secret"),
        "DJANGO_DEBUG": "0",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {args[0]} failed: {result.stderr.strip()}")
    return result.stdout


def create_person(database_url: str, email: str, password: str, workspace: str) -> dict:
    """A person (and, when `workspace` is a name, a new workspace) via the operator command."""
    out = manage(
        "createuser",
        "--email",
        email,
        "--password",
        password,
        "--first-name",
        "Rel",
        "--last-name",
        "Iability",
        "--workspace",
        workspace,
        database_url=database_url,
    )
    return json.loads(out.strip().splitlines()[-1])


@contextmanager
def throwaway_database(server_url: str, name: str) -> Iterator[str]:
    """CREATE DATABASE `name` on the server of `server_url`, migrated; dropped afterwards."""
    import psycopg

    admin = _psycopg_url(_admin_url(server_url))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _admin_url(server_url, name)
    try:
        manage("migrate", "--no-input", "-v", "0", database_url=url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def query(database_url: str, sql: str, params: tuple | list = ()) -> list[tuple]:
    import psycopg

    with psycopg.connect(_psycopg_url(database_url), connect_timeout=5) as conn:
        return conn.execute(sql, params).fetchall()


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    raise RuntimeError(f"{name} not found: install PostgreSQL server binaries")


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of our own (initdb into a temp dir, its own port), to stop at will.

    The shared cluster at 5432 is never touched. As root, the server runs as the `postgres`
    OS user (PostgreSQL refuses to run as root).
    """

    directory: Path
    port: int

    @classmethod
    def create(cls) -> PrivatePostgres:
        directory = Path(tempfile.mkdtemp(prefix="parsalink_rel_pg_"))
        cluster = cls(directory=directory, port=free_port())
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres", "postgres")
        cluster._run(
            _pg_bin("initdb"),
            "-D",
            str(cluster.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        return cluster

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *cmd: str) -> None:
        if os.geteuid() == 0:
            cmd = ("runuser", "-u", "postgres", "--", *cmd)
        result = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd="/")
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)}: {result.stdout}{result.stderr}")

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} "
            "-c max_connections=200"
        )
        self._run(
            _pg_bin("pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.directory / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "30",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def is_running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def destroy(self) -> None:
        if self.is_running():
            with suppress(RuntimeError):
                self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(_psycopg_url(self.url), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = _admin_url(self.url, name)
        manage("migrate", "--no-input", "-v", "0", database_url=url)
        return url


# --- load -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    started: float
    finished: float
    status: int | None  # None: no answer (connection error or client timeout)
    error: str = ""
    body: str = ""


class Hammer:
    """Run `worker(client, index)` in `threads` threads until stopped; collect every outcome."""

    def __init__(self, base_url: str, threads: int, worker, *, timeout: float = 15.0) -> None:
        self.base_url, self.count, self.worker, self.timeout = base_url, threads, worker, timeout
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def record(self, outcome: Outcome) -> None:
        with self._lock:
            self.outcomes.append(outcome)

    def _loop(self, index: int) -> None:
        with Client(self.base_url, timeout=self.timeout) as client:
            while not self._stop.is_set():
                self.worker(self, client, index)

    def __enter__(self) -> Hammer:
        for index in range(self.count):
            thread = threading.Thread(target=self._loop, args=(index,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def call(self, client: Client, method: str, path: str, **kwargs) -> requests.Response | None:
        """One timed request; recorded whatever happens; the response (None on no answer)."""
        started = time.monotonic()
        try:
            response = client.request(method, path, **kwargs)
        except requests.RequestException as exc:
            self.record(Outcome(started, time.monotonic(), None, type(exc).__name__))
            return None
        self.record(Outcome(started, time.monotonic(), response.status_code, body=response.text))
        return response


# --- standalone runs (make soak, make fuzz-long) --------------------------------------------


@contextmanager
def standalone_database(purpose: str) -> Iterator[str]:
    """A migrated throwaway database `<DATABASE_URL's name>_<purpose>_<hex>`, dropped after.

    Uses the PostgreSQL server of DATABASE_URL (default: the Makefile's test database URL).
    """
    import secrets

    base = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/parsalink"
    os.environ.setdefault("DJANGO_SECRET_KEY", "reliability-only-secret-not-for-production")
    name = f"{urlsplit(base).path.lstrip('/') or 'parsalink'}_{purpose}_{secrets.token_hex(3)}"
    with throwaway_database(base, name) as url:
        yield url
