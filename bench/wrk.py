"""Driving wrk: one command line and environment for every run, and the JSON line it prints.

The Lua scripts in bench/lua/ read their inputs from the environment (BENCH_AUTH, BENCH_BODY,
BENCH_TOKENS, BENCH_THREADS, BENCH_COUNT_STATUS) and end with one `BENCHJSON {...}` line:
requests, duration_us, non2xx, socket errors, p50/p90/p99/max latency in µs, statuses, refusals.
"""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).resolve().parent / "lua"
MARK = "BENCHJSON "


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk not found: installing Debian's package (apt-get install -y wrk)", file=sys.stderr)
    apt = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(apt, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=True)
        subprocess.run(apt, capture_output=True, check=True)
    return shutil.which("wrk") or sys.exit("wrk could not be installed")


def parse(stdout: str) -> dict | None:
    """The BENCHJSON line's figures, or None when wrk printed none (it failed)."""
    for line in stdout.splitlines():
        if line.startswith(MARK):
            return json.loads(line.removeprefix(MARK))
    return None


@dataclass(frozen=True)
class Wrk:
    binary: str
    threads: int
    connections: int

    def command(
        self, url: str, script: str, *, duration: float, connections: int | None, threads: int
    ) -> tuple[list[str], dict]:
        cmd = [
            self.binary,
            "-t",
            str(threads),
            "-c",
            str(connections or self.connections),
            "-d",
            f"{max(1, round(duration))}s",
            "--timeout",
            "10s",
            "-s",
            str(LUA / script),
            url,
        ]
        return cmd, {**os.environ, "BENCH_LUA_DIR": str(LUA), "BENCH_THREADS": str(threads)}

    def run(
        self,
        url: str,
        script: str,
        *,
        duration: float,
        connections: int | None = None,
        authorization: str = "",
        body: str = "",
        count_status: bool = False,
        tokens: Path | None = None,
        name: str = "",
    ) -> dict:
        """One wrk run to its end; exits the bench when wrk gives no result."""
        cmd, env = self.command(
            url, script, duration=duration, connections=connections, threads=self.threads
        )
        env |= _inputs(authorization, body, count_status, tokens)
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        result = parse(done.stdout)
        if result is None:
            sys.exit(f"wrk gave no result for {name or url}:\n{done.stdout}\n{done.stderr}")
        return result

    def start(
        self, url: str, script: str, *, duration: float, body: str = "", count_status: bool = True
    ) -> subprocess.Popen:
        """A wrk running in the background with one thread (the starvation test's hammer)."""
        cmd, env = self.command(url, script, duration=duration, connections=None, threads=1)
        env |= _inputs("", body, count_status, None)
        return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)


def _inputs(authorization: str, body: str, count_status: bool, tokens: Path | None) -> dict:
    env = {
        "BENCH_AUTH": authorization,
        "BENCH_BODY": body,
        "BENCH_COUNT_STATUS": "1" if count_status else "0",
    }
    if tokens:
        env["BENCH_TOKENS"] = str(tokens)
    return env
