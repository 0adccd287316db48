"""CPU per request of the list paths in-process: ours and the stock peer through their WSGI
handlers, without HTTP, gunicorn or wrk, so the figures hold still on a busy machine.

    python -m bench.inprocess                    # ours and the peer, each list path
    python -m bench.inprocess --profile jwt      # cProfile of our JWT list (CPU time)

It recreates the databases parsalink_bench_inproc and parsalink_bench_inproc_peer, seeds them
like `make bench` (bench/seed.py, the peer's peerseed) and runs each side in a process of its
own (one settings module per process) with the bench's production-like environment: DEBUG off,
TLS from a trusted proxy, the JSON request log written (to /dev/null), throttles on, the
database cache (no Redis). Each figure is the best of three runs of `--requests` requests.
"""

import argparse
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.servers import (
    PEERS,
    PG_URL,
    PY,
    RESULTS,
    ROOT,
    log,
    peer_env,
    prepare_ours,
    recreate_database,
    run_checked,
    server_env,
)

DB_OURS, DB_PEER = "parsalink_bench_inproc", "parsalink_bench_inproc_peer"
SCENARIOS = ("noauth", "jwt", "apikey")
PAGE = "pageSize=10"


def _requests(side: str, seed: dict) -> dict[str, tuple[str, str, str]]:
    """Per scenario: path, query string, Authorization header."""
    workspace = f"workspace={seed['workspace']}&{PAGE}"
    if side == "ours":
        return {
            "noauth": ("/api/_bench/contacts/", workspace, ""),
            "jwt": ("/api/contacts/", PAGE, f"Bearer {seed['access']}"),
            "apikey": ("/api/contacts/", PAGE, f"Bearer {seed['apiKey']}"),
        }
    return {
        "noauth": ("/peer/contacts/", workspace, ""),
        "jwt": ("/peer/jwt/contacts/", workspace, f"Bearer {seed['access']}"),
        "apikey": ("/peer/key/contacts/", workspace, f"Api-Key {seed['apiKey']}"),
    }


def child(side: str, scenario: str, seed_file: str, requests: int, profile: bool) -> None:
    """Runs inside the side's own process: times `requests` calls of the WSGI handler."""
    import django

    django.setup()
    import logging

    from django.core.handlers.wsgi import WSGIHandler

    for handler in logging.getLogger().handlers:  # the request log is written, to nowhere
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 (lives as long as the process)
    app = WSGIHandler()
    path, query, authorization = _requests(side, json.loads(Path(seed_file).read_text()))[scenario]
    statuses: list[str] = []

    def call() -> None:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "443",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_ACCEPT": "*/*",
            "HTTP_USER_AGENT": "bench-inprocess",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "https",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
        }
        if authorization:
            environ["HTTP_AUTHORIZATION"] = authorization
        b"".join(app(environ, lambda status, headers, exc_info=None: statuses.append(status)))

    for _ in range(200):
        call()
    if not statuses[-1].startswith("200"):
        sys.exit(f"{side} {scenario}: {statuses[-1]}")
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile(time.process_time)
        profiler.runcall(lambda: [call() for _ in range(requests)])
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(60)
        return
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        for _ in range(requests):
            call()
        best = min(best, (time.process_time() - started) / requests * 1e6)
    print(json.dumps({"side": side, "scenario": scenario, "cpu_us": round(best, 1)}))


def _env(side: str) -> dict:
    if side == "ours":
        env = server_env(DB_OURS, log_level="INFO", redis=None)
        return {**env, "DJANGO_SETTINGS_MODULE": "parsalink.settings", "PYTHONPATH": str(ROOT)}
    env = peer_env()
    return {**env, "PEER_DATABASE_URL": f"{PG_URL}/{DB_PEER}", "PYTHONPATH": f"{PEERS}:{ROOT}"}


def setup() -> dict[str, Path]:
    """Both databases recreated, migrated and seeded; returns the seed file of each side."""
    RESULTS.mkdir(exist_ok=True)
    seeds = {"ours": RESULTS / "inprocess-seed.json", "peer": RESULTS / "inprocess-peer.json"}
    for database in (DB_OURS, DB_PEER):
        recreate_database(database)
    ours = _env("ours")
    prepare_ours(DB_OURS, ours, redis=None)
    run_checked([PY, "bench/seed.py", "base", "--out", str(seeds["ours"])], env=ours)
    peer = _env("peer")
    run_checked([PY, "manage.py", "migrate", "--no-input", "-v", "0"], env=peer, cwd=PEERS)
    out = run_checked([PY, "manage.py", "peerseed"], env=peer, cwd=PEERS)
    seeds["peer"].write_text(out.strip().splitlines()[-1])
    return seeds


def run_side(side: str, scenario: str, seed: Path, requests: int, profile: bool) -> str:
    cmd = [PY, "-m", "bench.inprocess", "--child", side, scenario, str(seed)]
    cmd += ["--requests", str(requests)] + (["--profile", scenario] if profile else [])
    done = subprocess.run(cmd, cwd=ROOT, env=_env(side), capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{side} {scenario} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--profile", choices=SCENARIOS, help="cProfile our side of one scenario")
    parser.add_argument(
        "--child", nargs=3, metavar=("SIDE", "SCENARIO", "SEED"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        side, scenario, seed = args.child
        child(side, scenario, seed, args.requests, profile=args.profile is not None)
        return
    log("== in-process: databases recreated and seeded")
    seeds = setup()
    if args.profile:
        print(run_side("ours", args.profile, seeds["ours"], args.requests, profile=True))
        return
    figures: dict[tuple[str, str], float] = {}
    for scenario in SCENARIOS:
        for side in ("ours", "peer"):
            result = json.loads(run_side(side, scenario, seeds[side], args.requests, False))
            figures[side, scenario] = result["cpu_us"]
            log(f"  {side} {scenario}: {result['cpu_us']} µs CPU")
    print("| list path | ours µs CPU | stock peer µs CPU | peer ÷ ours | ours ÷ our no-auth |")
    print("|---|---|---|---|---|")
    for scenario in SCENARIOS:
        ours, peer = figures["ours", scenario], figures["peer", scenario]
        base = figures["ours", "noauth"]
        print(f"| {scenario} | {ours:.0f} | {peer:.0f} | {peer / ours:.2f} | {base / ours:.2f} |")


if __name__ == "__main__":
    main()
