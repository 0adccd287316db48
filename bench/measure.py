"""One measurement: a scenario's throughput, latency and CPU per request; the login starvation
test; the scale database's latencies.

CPU per request is the gunicorn workers' CPU time (/proc/<pid>/stat) over the run divided by the
requests answered; "DB CPU" is the same for the PostgreSQL backends serving that database.
"""

import json
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.scenarios import SCALE, BoundScenario, ScaleCase, find
from bench.servers import CLK_TCK, PY, RESULTS, ROOT, BenchServer, log, mint_refresh_tokens
from bench.wrk import Wrk, parse


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
    topology: str = ""  # "redis" | "database" (bench/scenarios.py TOPOLOGIES)


@dataclass
class Timing:
    """How long each run lasts and how status counting is chosen (--smoke counts every answer)."""

    duration: float
    warmup: float
    count_every_status: bool = False


class Measurer:
    def __init__(
        self,
        wrk: Wrk,
        servers: dict[str, BenchServer],
        ours_env: dict,
        timing: Timing,
        *,
        topology: str = "",
    ):
        self.wrk, self.servers, self.ours_env, self.timing = wrk, servers, ours_env, timing
        self.topology = topology
        self.refresh_rate: dict[str, float] = {}

    def run(self, scenario: BoundScenario, *, duration: float, tokens: Path | None = None) -> dict:
        return self.wrk.run(
            self.servers[scenario.server].url + scenario.path,
            scenario.script,
            duration=duration,
            authorization=scenario.authorization,
            body=scenario.body,
            count_status=scenario.count_status or self.timing.count_every_status,
            tokens=tokens,
            name=scenario.key,
        )

    def mint(self, scenario: BoundScenario, seconds: float) -> Path:
        """A pool of fresh refresh tokens sized for `seconds` at twice the last rate seen."""
        rate = self.refresh_rate.get(scenario.key, 1500.0)
        n = int(max(200, rate * 2 * seconds + 50 * self.wrk.connections))
        out = Path(tempfile.mkstemp(prefix=f"tokens-{scenario.key}-", dir=RESULTS)[1])
        # The variant shares our database: its tokens are minted like ours.
        minter = self.servers["peer" if scenario.server == "peer" else "ours"]
        mint_refresh_tokens(minter, self.ours_env, n, out)
        return out

    def measure(self, scenario: BoundScenario, round_no: int) -> Result:
        server = self.servers[scenario.server]
        if self.timing.warmup > 0:
            tokens = self.mint(scenario, self.timing.warmup) if scenario.refresh_pool else None
            warm = self.run(scenario, duration=self.timing.warmup, tokens=tokens)
            if tokens:
                tokens.unlink()
                # The measured run's pool is sized on the rate just seen (or the last measured
                # one, if higher) rather than the first round's generous guess: minting costs
                # ~2 ms per token, and the guess would mint ~18k tokens per server and topology.
                rate = warm["requests"] / (warm["duration_us"] / 1e6)
                self.refresh_rate[scenario.key] = max(rate, self.refresh_rate.get(scenario.key, 0))
        duration = self.timing.duration
        tokens = self.mint(scenario, duration) if scenario.refresh_pool else None
        cpu0, db0 = server.worker_cpu_ticks(), server.db_cpu_ticks()
        raw = self.run(scenario, duration=duration, tokens=tokens)
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
            topology=self.topology,
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

    def starvation(self, round_no: int, seed: dict, server_name: str = "ours") -> dict:
        """JWT list p99 alone, then with as many more connections hammering login meanwhile."""
        jwt = find("jwt", seed).on(server_name)
        login = find("login", seed)
        duration = self.timing.duration
        alone = self.run(jwt, duration=duration)
        server = self.servers[server_name]
        hammer = self.wrk.start(
            server.url + login.path, login.script, duration=round(duration) + 2, body=login.body
        )
        time.sleep(1)
        loaded = self.run(jwt, duration=duration)
        out, _ = hammer.communicate()
        login_raw = parse(out)
        result = {
            "server": server_name,
            "topology": self.topology,
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
            f"{result['loaded_p99_ms']:.2f} ms with {self.wrk.connections} login clients "
            f"({result['ratio']:.2f}x); login statuses {result['login_statuses']}, "
            f"refusals {result['login_refusals']}"
        )
        return result


def scale_latencies(wrk: Wrk, server: BenchServer, info: dict, *, rounds: int, duration: float):
    """p50/p99 per round of each scale case at one connection (latency, no queueing)."""
    cases = [(case, _scale_path(case, server, info)) for case in SCALE]
    results: dict = {"rows": {k: v for k, v in info.items() if k.startswith("rows_")}}
    for round_no in range(1, rounds + 1):
        for case, path in cases:
            auth = f"Bearer {info[case.access]}"
            url = server.url + path
            wrk.run(url, "get.lua", duration=1, connections=1, authorization=auth, name=case.key)
            raw = wrk.run(
                url, "get.lua", duration=duration, connections=1, authorization=auth, name=case.key
            )
            entry = results.setdefault(case.key, {"label": case.label, "p50_ms": [], "p99_ms": []})
            entry["p50_ms"].append(raw["p50_us"] / 1000)
            entry["p99_ms"].append(raw["p99_us"] / 1000)
            entry["non2xx"] = entry.get("non2xx", 0) + raw["non2xx"]
            log(
                f"  round {round_no} {case.label:<32} p50 {raw['p50_us'] / 1000:6.2f} ms  "
                f"p99 {raw['p99_us'] / 1000:6.2f} ms  non-2xx {raw['non2xx']}"
            )
    return results


def _scale_path(case: ScaleCase, server: BenchServer, info: dict) -> str:
    if case.path.startswith("{next:"):
        first = case.path.removeprefix("{next:").removesuffix("}")
        nxt = json.loads(server.get(first, f"Bearer {info[case.access]}"))["next"]
        return nxt[nxt.index("/api/") :]
    return case.path.format(**info)


def retention(env: dict) -> dict:
    """Seconds the daily retention job takes to remove 10M expired usage rows (bench/retention.py,
    run against the scale database's environment)."""
    out = RESULTS / "retention.json"
    done = subprocess.run([PY, "bench/retention.py", "--out", str(out)], cwd=ROOT, env=env)
    if done.returncode != 0:
        log("  retention measurement failed")
        return {}
    result = json.loads(out.read_text())
    log(f"  retention: {result['rows']} expired usage rows removed in {result['seconds']:.2f} s")
    for line in result["output"]:
        log(f"    {line}")
    return result
