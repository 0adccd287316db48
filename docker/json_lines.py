"""Run a command and write each line it prints as one JSON log line on stdout.

docker/entrypoint.sh runs its start-up steps (wait for the database, migrate) through this, so
that a container's log is JSON from its first line, like gunicorn's and Django's (README
"Operations"). Exits with the command's own status.

    python docker/json_lines.py LOGGER COMMAND [ARG...]
"""

import json
import subprocess
import sys
import threading
from datetime import UTC, datetime


def _line(logger: str, level: str, pid: int, message: str) -> str:
    entry = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "level": level,
        "logger": logger,
        "message": message,
        "pid": pid,
    }
    return json.dumps(entry)


def _relay(stream, logger: str, level: str, pid: int, lock: threading.Lock) -> None:
    for raw in stream:
        message = raw.rstrip("\n")
        if message.strip():
            with lock:
                print(_line(logger, level, pid, message), flush=True)


def main(argv: list[str]) -> int:
    """What the command writes on stdout is logged at INFO, on stderr at ERROR."""
    if len(argv) < 3:
        print("usage: json_lines.py LOGGER COMMAND [ARG...]", file=sys.stderr)
        return 2
    logger, command = argv[1], argv[2:]
    # The entrypoint's own fixed commands, never outside input.
    child = subprocess.Popen(  # noqa: S603
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    lock = threading.Lock()
    relays = [
        threading.Thread(target=_relay, args=(stream, logger, level, child.pid, lock))
        for stream, level in ((child.stdout, "INFO"), (child.stderr, "ERROR"))
    ]
    for relay in relays:
        relay.start()
    for relay in relays:
        relay.join()
    return child.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
